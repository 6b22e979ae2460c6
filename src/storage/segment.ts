/**
 * Segment files: an immutable batch of one collection's records and deletions, written once at a
 * checkpoint and never modified. A collection's state is its segments applied in manifest order,
 * then the WAL tail. Compaction replaces them with one segment holding only live records.
 *
 * File `seg-NNNNNN.qseg`:
 *
 * | size | field                                                        |
 * |------|--------------------------------------------------------------|
 * | 4    | magic "QSEG"                                                 |
 * | 4    | format version (u32 LE) = 1                                  |
 * | ...  | body: str collection uid, u32 d, d × str deleted id,         |
 * |      |       u32 n, n × record (record-codec.ts)    |
 * | 8    | body length (u64 LE)                                         |
 * | 4    | CRC32C of header + body (u32 LE)                             |
 * | 4    | magic "QEND"                                                 |
 *
 * The footer is written last, so a segment cut short by a crash fails the check; the manifest
 * only names segments that were fsynced completely, so that can only mean disk corruption.
 */
import { QuiverError } from "../core/errors/errors.js";
import { readRecord, writeRecord, type StoredRecord } from "./record-codec.js";
import { ByteReader, ByteWriter, CHUNK_BYTES, joinChunks } from "./codec.js";
import { crc32c } from "./crc32c.js";

const MAGIC = 0x47455351; // "QSEG"
const END = 0x444e4551; // "QEND"
const VERSION = 1;
const FOOTER_BYTES = 16;

export function segmentFileName(n: number): string {
  return `seg-${String(n).padStart(6, "0")}.qseg`;
}

export interface SegmentContent {
  uid: string;
  deleted: string[];
  records: StoredRecord[];
}

export function encodeSegment(seg: SegmentContent): Uint8Array {
  return joinChunks(segmentChunks(seg.uid, seg.deleted, seg.records, seg.records.length));
}

/**
 * A segment's bytes as chunks of about CHUNK_BYTES, produced on demand: a checkpoint writes a large
 * segment in slices, reading `records` (exactly `count` of them) only as each chunk is needed.
 */
export function* segmentChunks(
  uid: string,
  deleted: readonly string[],
  records: Iterable<StoredRecord>,
  count: number,
): Generator<Uint8Array> {
  const w = new ByteWriter(1 << 16);
  let crc = 0;
  let emitted = 0;
  const drain = (): Uint8Array => {
    const bytes = w.drain();
    crc = crc32c(bytes, 0, bytes.length, crc);
    emitted += bytes.length;
    return bytes;
  };
  w.u32(MAGIC).u32(VERSION).str(uid).u32(deleted.length);
  for (const id of deleted) {
    w.str(id);
    if (w.length >= CHUNK_BYTES) yield drain();
  }
  w.u32(count);
  let written = 0;
  for (const r of records) {
    writeRecord(w, r);
    written++;
    if (w.length >= CHUNK_BYTES) yield drain();
  }
  if (written !== count) throw new QuiverError("INTERNAL", `segment of ${uid}: ${written} records, ${count} announced`);
  const bodyLength = emitted + w.length - 8;
  const last = drain();
  const footer = new ByteWriter(FOOTER_BYTES).u64(bodyLength).u32(crc).u32(END).finish();
  yield joinChunks([last, footer]);
}

export function decodeSegment(data: Uint8Array, name: string): SegmentContent {
  if (data.length < 8 + FOOTER_BYTES) throw new QuiverError("CORRUPT", `${name}: too short to be a segment`);
  const foot = new ByteReader(data, data.length - FOOTER_BYTES, data.length, name);
  const bodyLength = foot.u64();
  const crc = foot.u32();
  if (foot.u32() !== END || bodyLength !== data.length - 8 - FOOTER_BYTES) {
    throw new QuiverError("CORRUPT", `${name}: bad segment footer`);
  }
  const end = data.length - FOOTER_BYTES;
  if (crc32c(data, 0, end) !== crc) throw new QuiverError("CORRUPT", `${name}: segment checksum mismatch`);
  const r = new ByteReader(data, 0, end, name);
  if (r.u32() !== MAGIC) throw new QuiverError("CORRUPT", `${name}: not a Quiver segment (bad magic)`);
  const version = r.u32();
  if (version !== VERSION) throw new QuiverError("CORRUPT", `${name}: unsupported segment version ${version}`);
  const uid = r.str();
  const deleted: string[] = [];
  for (let i = r.u32(); i > 0; i--) deleted.push(r.str());
  const records: StoredRecord[] = [];
  for (let i = r.u32(); i > 0; i--) records.push(readRecord(r));
  if (r.remaining !== 0) throw new QuiverError("CORRUPT", `${name}: ${r.remaining} unexpected bytes before footer`);
  return { uid, deleted, records };
}
