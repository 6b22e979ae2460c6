/**
 * Segment files: an immutable batch of one collection's records and deletions, written once at a
 * checkpoint and never modified. A collection's state is its segments applied in manifest order,
 * then the WAL tail. Compaction replaces them with one segment holding only live records.
 *
 * Format 2 is columnar, so that opening copies each column in one pass instead of decoding record
 * by record: every dense named vector's rows are one contiguous f32 block, the ids one string (one
 * decode), the payloads one JSON array (one JSON.parse for the whole segment). A string list is
 * u32 count, count × u32 UTF-16 length, str of them all concatenated. File `seg-NNNNNN.qseg`:
 *
 * | size | field                                                                    |
 * |------|--------------------------------------------------------------------------|
 * | 4    | magic "QSEG"                                                             |
 * | 4    | format version (u32 LE) = 2                                              |
 * | ...  | blocks, each starting 8-byte aligned (zero padding before it)            |
 * | ...  | directory: u32 count, count × (str block name, u64 offset, u64 length,   |
 * |      |            u32 CRC32C of the block's bytes)                              |
 * | 8    | directory offset (u64 LE)                                                |
 * | 4    | CRC32C of the directory (u32 LE)                                         |
 * | 4    | magic "QEND"                                                             |
 *
 * Blocks (str = u32 byte length + UTF-8; a record's position in the segment is its row):
 *
 * | name             | content                                                                |
 * |------------------|------------------------------------------------------------------------|
 * | `meta`           | str collection uid, u32 record count n, u32 deleted count d            |
 * | `deleted`        | string list (codec.ts strList) of the d deleted ids                    |
 * | `ids`            | string list of the n record ids                                        |
 * | `payloads`       | UTF-8 JSON array of the n payload objects                              |
 * | `dense:<name>`   | u32 dim, u32 m, m × u32 row (ascending), pad to 8, m × dim × f32 LE    |
 * | `sparse:<name>`  | u32 m, m × u32 row (ascending), m × u32 entry count, then every entry's |
 * |                  | u32 index (ascending per row), then every entry's f32 weight          |
 * | `payload-ends`   | n × u32: where record i's object ends in the payloads text (UTF-16    |
 * |                  | code units of the decoded JSON), so an open locates each payload      |
 * |                  | without parsing (payload-texts.ts); written last; absent from the     |
 * |                  | earliest format-2 segments, whose payloads are then located by a scan |
 *
 * Each block has its own checksum, so damage is reported with the block it hit; the footer is
 * written last, so a segment cut short fails the check. The manifest only names segments that were
 * fsynced completely, so a failed check can only mean disk corruption. Format 1 (record by record,
 * segment-v1.ts) is still read; the checkpoint rewrites such segments in this format.
 */
import { QuiverError } from "../core/errors/errors.js";
import type { SparseVector } from "../core/index/sparse/sparse-vector.js";
import type { StoredRecord } from "./record-codec.js";
import { ByteReader, ByteWriter, CHUNK_BYTES, joinChunks } from "./codec.js";
import { crc32c } from "./crc32c.js";
import { decodeSegmentV1 } from "./segment-v1.js";
import { locatePayloads, payloadsByEnds, type PayloadTexts } from "./payload-texts.js";

const MAGIC = 0x47455351; // "QSEG"
const END = 0x444e4551; // "QEND"
/** The version encodeSegment writes. */
export const SEGMENT_VERSION = 2;
const FOOTER_BYTES = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function segmentFileName(n: number): string {
  return `seg-${String(n).padStart(6, "0")}.qseg`;
}

/** What a checkpoint writes: deletions, then records (CollectionState.takeDelta / takeFull). */
export interface SegmentContent {
  uid: string;
  deleted: string[];
  records: StoredRecord[];
}

/** One dense named vector's column: the rows (record positions) that have it, and their values. */
export interface DenseColumn {
  dim: number;
  rows: Uint32Array;
  /** rows.length × dim values, row-major. */
  data: Float32Array;
}

/** One sparse named vector's column. */
export interface SparseColumn {
  rows: Uint32Array;
  vectors: SparseVector[];
}

/** A decoded segment, column by column, whatever its version. Record `i` is ids[i], payloads[i]. */
export interface SegmentColumns {
  uid: string;
  deleted: string[];
  ids: string[];
  /** The payloads as stored, each located (what an open keeps, to parse each on first read). */
  payloadTexts: PayloadTexts;
  /** The payloads parsed, all at once on first access (one JSON.parse of the block). */
  readonly payloads: Record<string, unknown>[];
  dense: Map<string, DenseColumn>;
  sparse: Map<string, SparseColumn>;
  /** The version the file was written in (older ones are rewritten by the next checkpoint). */
  version: number;
}

export function encodeSegment(seg: SegmentContent): Uint8Array {
  const { records } = seg;
  const source = { count: records.length, ids: () => records.map((r) => r.id), records: () => records };
  return joinChunks(segmentChunks(seg.uid, seg.deleted, source));
}

/** The records of a segment to write, read as the chunks need them. */
export interface SegmentSource {
  /** How many records every pass yields. */
  count: number;
  /** Their ids, in record order. */
  ids(): readonly string[];
  /** The records in order; called once per pass (columns take several), each pass yielding the same records. */
  records(): Iterable<StoredRecord>;
}

/**
 * A segment's bytes (format 2, exactly as one piece would be) as chunks of about CHUNK_BYTES,
 * produced on demand: a checkpoint writes a large segment in slices, reading the records only as
 * each chunk needs them, once for the payloads and once per named vector's column. Block checksums
 * and offsets are carried across chunks.
 */
export function* segmentChunks(uid: string, deleted: readonly string[], source: SegmentSource): Generator<Uint8Array> {
  const w = new ByteWriter(1 << 16);
  /** Bytes already handed out, before the writer's. */
  let emitted = 0;
  let open: { name: string; offset: number; crc: number } | null = null;
  const directory: { name: string; offset: number; length: number; crc: number }[] = [];
  const at = (): number => emitted + w.length;
  const drain = (): Uint8Array => {
    const bytes = w.drain();
    if (open) open.crc = crc32c(bytes, Math.max(open.offset - emitted, 0), bytes.length, open.crc);
    emitted += bytes.length;
    return bytes;
  };
  const begin = (name: string): void => {
    while (at() % 8 !== 0) w.u8(0);
    open = { name, offset: at(), crc: 0 };
  };
  const end = (): void => {
    const b = open!;
    const crc = crc32c(w.finish(), Math.max(b.offset - emitted, 0), w.length, b.crc);
    directory.push({ name: b.name, offset: b.offset, length: at() - b.offset, crc });
    open = null;
  };
  const countRows = (rows: number): void => {
    if (rows !== source.count)
      throw new QuiverError("INTERNAL", `segment of ${uid}: ${rows} records, ${source.count} announced`);
  };

  w.u32(MAGIC).u32(SEGMENT_VERSION);
  begin("meta");
  w.str(uid).u32(source.count).u32(deleted.length);
  end();
  begin("deleted");
  yield* w.strListInPieces(deleted, drain);
  end();
  begin("ids");
  yield* w.strListInPieces(source.ids(), drain);
  end();
  yield drain();
  // The payloads pass also finds each named vector's rows, in order of first appearance.
  const dense = new Map<string, { dim: number; rows: number[] }>();
  const sparse = new Map<string, number[]>();
  begin("payloads");
  let row = 0;
  const ends = new Uint32Array(source.count);
  let textAt = 1;
  for (const r of source.records()) {
    w.bytes(encoder.encode(row === 0 ? `[${r.payloadJson}` : `,${r.payloadJson}`));
    textAt += r.payloadJson.length;
    if (row < ends.length) ends[row] = textAt;
    textAt++; // the comma
    for (const [name, v] of r.vectors) {
      const column = dense.get(name) ?? dense.set(name, { dim: v.length, rows: [] }).get(name)!;
      column.rows.push(row);
    }
    for (const name of r.sparse.keys()) (sparse.get(name) ?? sparse.set(name, []).get(name)!).push(row);
    row++;
    if (w.length >= CHUNK_BYTES) yield drain();
  }
  countRows(row);
  w.bytes(encoder.encode(row === 0 ? "[]" : "]"));
  end();
  for (const [name, { dim, rows }] of dense) {
    begin(`dense:${name}`);
    w.u32(dim).u32(rows.length);
    for (const row of rows) w.u32(row);
    while (at() % 8 !== 0) w.u8(0);
    let next = 0;
    row = 0;
    for (const r of source.records()) {
      if (rows[next] === row++) {
        w.f32s(r.vectors.get(name)!);
        next++;
        if (w.length >= CHUNK_BYTES) yield drain();
      }
    }
    countRows(row);
    end();
  }
  for (const [name, rows] of sparse) {
    // One pass gathers the column's vectors and writes them with no yield between, so that all
    // three arrays come from the same moment whatever the vectors' owner does to them afterwards.
    const vectors: SparseVector[] = [];
    row = 0;
    for (const r of source.records()) if (rows[vectors.length] === row++) vectors.push(r.sparse.get(name)!);
    countRows(row);
    begin(`sparse:${name}`);
    w.u32(rows.length);
    for (const row of rows) w.u32(row);
    for (const v of vectors) w.u32(v.indices.length);
    for (const v of vectors) for (const index of v.indices) w.u32(index);
    for (const v of vectors) w.f32s(v.values);
    end();
    yield drain();
  }
  begin("payload-ends");
  for (const end of ends) w.u32(end);
  end();
  const directoryOffset = at();
  w.u32(directory.length);
  for (const b of directory) w.str(b.name).u64(b.offset).u64(b.length).u32(b.crc);
  const crc = crc32c(w.finish(), directoryOffset - emitted);
  w.u64(directoryOffset).u32(crc).u32(END);
  yield drain();
}

/** Decodes a segment of any supported version; damage throws CORRUPT naming the file and block. */
export function decodeSegment(data: Uint8Array, name: string): SegmentColumns {
  if (data.length < 8 + FOOTER_BYTES) throw new QuiverError("CORRUPT", `${name}: too short to be a segment`);
  const head = new ByteReader(data, 0, 8, name);
  if (head.u32() !== MAGIC) throw new QuiverError("CORRUPT", `${name}: not a Quiver segment (bad magic)`);
  const version = head.u32();
  if (version === 1) return decodeSegmentV1(data, name);
  if (version !== SEGMENT_VERSION) throw new QuiverError("CORRUPT", `${name}: unsupported segment version ${version}`);
  const blocks = readDirectory(data, name);
  const blockOf = (block: string): ByteReader => {
    const b = blocks.get(block);
    if (!b) throw new QuiverError("CORRUPT", `${name}: block ${block} is missing`);
    return new ByteReader(data, b.offset, b.offset + b.length, `${name} block ${block}`);
  };
  const meta = blockOf("meta");
  const uid = meta.str();
  const n = meta.u32();
  const d = meta.u32();
  const deleted = stringList(blockOf("deleted"), d, `${name} block deleted`);
  const ids = stringList(blockOf("ids"), n, `${name} block ids`);
  const what = `${name} block payloads`;
  const payloads = blockOf("payloads");
  const text = decoder.decode(payloads.bytes(payloads.remaining));
  const payloadTexts = blocks.has("payload-ends")
    ? payloadsByEnds(text, u32Block(blockOf("payload-ends"), n, `${name} block payload-ends`), what)
    : locatePayloads(text, n, what);
  let parsed: Record<string, unknown>[] | undefined;
  const dense = new Map<string, DenseColumn>();
  const sparse = new Map<string, SparseColumn>();
  for (const block of blocks.keys()) {
    if (block.startsWith("dense:")) dense.set(block.slice(6), denseColumn(blockOf(block), n));
    else if (block.startsWith("sparse:")) sparse.set(block.slice(7), sparseColumn(blockOf(block), n));
  }
  return {
    uid,
    deleted,
    ids,
    payloadTexts,
    get payloads() {
      parsed ??= parsePayloads(payloadTexts.text, what);
      return parsed;
    },
    dense,
    sparse,
    version,
  };
}

/** The block directory, every block's checksum verified. */
function readDirectory(data: Uint8Array, name: string): Map<string, { offset: number; length: number }> {
  const foot = new ByteReader(data, data.length - FOOTER_BYTES, data.length, name);
  const directoryOffset = foot.u64();
  const crc = foot.u32();
  const end = data.length - FOOTER_BYTES;
  if (foot.u32() !== END || directoryOffset < 8 || directoryOffset > end)
    throw new QuiverError("CORRUPT", `${name}: bad segment footer`);
  if (crc32c(data, directoryOffset, end) !== crc)
    throw new QuiverError("CORRUPT", `${name}: segment directory checksum mismatch`);
  const r = new ByteReader(data, directoryOffset, end, `${name} directory`);
  const blocks = new Map<string, { offset: number; length: number }>();
  for (let i = r.u32(); i > 0; i--) {
    const block = r.str();
    const offset = r.u64();
    const length = r.u64();
    const blockCrc = r.u32();
    if (offset < 8 || offset + length > directoryOffset)
      throw new QuiverError("CORRUPT", `${name}: block ${block} lies outside the file`);
    if (crc32c(data, offset, offset + length) !== blockCrc)
      throw new QuiverError("CORRUPT", `${name}: block ${block} checksum mismatch`);
    blocks.set(block, { offset, length });
  }
  if (r.remaining !== 0) throw new QuiverError("CORRUPT", `${name}: ${r.remaining} unexpected bytes in the directory`);
  checkPadding(data, blocks, directoryOffset, name);
  return blocks;
}

/** The blocks follow each other in order, and the few bytes between them are zero: every byte is checked. */
function checkPadding(
  data: Uint8Array,
  blocks: Map<string, { offset: number; length: number }>,
  directoryOffset: number,
  name: string,
): void {
  let at = 8;
  for (const b of [...blocks.values(), { offset: directoryOffset, length: 0 }]) {
    if (b.offset < at || b.offset - at >= 8) throw new QuiverError("CORRUPT", `${name}: blocks overlap or leave a gap`);
    for (; at < b.offset; at++)
      if (data[at] !== 0) throw new QuiverError("CORRUPT", `${name}: damaged padding at byte ${at}`);
    at = b.offset + b.length;
  }
}

/** A block holding a string list of `count` strings. */
function stringList(r: ByteReader, count: number, what: string): string[] {
  const list = r.strList();
  if (list.length !== count || r.remaining !== 0)
    throw new QuiverError("CORRUPT", `${what}: expected ${count} strings`);
  return list;
}

/** The JSON array of objects that locatePayloads has checked the shape of. */
function parsePayloads(text: string, what: string): Record<string, unknown>[] {
  try {
    return JSON.parse(text) as Record<string, unknown>[];
  } catch {
    throw new QuiverError("CORRUPT", `${what}: not valid JSON`);
  }
}

/** A block of exactly `count` u32 values. */
function u32Block(r: ByteReader, count: number, what: string): Uint32Array {
  if (r.remaining !== 4 * count) throw new QuiverError("CORRUPT", `${what}: expected ${count} values`);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = r.u32();
  return out;
}

/** m ascending rows below n, from a block. */
function rowList(r: ByteReader, n: number, what: string): Uint32Array {
  const m = r.u32();
  if (m > n) throw new QuiverError("CORRUPT", `${what}: ${m} rows in a segment of ${n} records`);
  const rows = new Uint32Array(m);
  for (let i = 0; i < m; i++) {
    rows[i] = r.u32();
    if (rows[i] >= n || (i > 0 && rows[i] <= rows[i - 1]))
      throw new QuiverError("CORRUPT", `${what}: rows out of order or range`);
  }
  return rows;
}

function denseColumn(r: ByteReader, n: number): DenseColumn {
  const dim = r.u32();
  const rows = rowList(r, n, "dense column");
  r.bytes((8 - (r.pos % 8)) % 8);
  return { dim, rows, data: f32Block(r, rows.length * dim) };
}

/** `count` f32 values: a view when aligned (blocks are, in a buffer read whole), else a copy. */
function f32Block(r: ByteReader, count: number): Float32Array {
  const at = r.buf.byteOffset + r.pos;
  if (at % 4 !== 0 || !LITTLE_ENDIAN) return r.f32s(count);
  const bytes = r.bytes(count * 4);
  return new Float32Array(bytes.buffer, at, count);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function sparseColumn(r: ByteReader, n: number): SparseColumn {
  const rows = rowList(r, n, "sparse column");
  const counts = new Uint32Array(rows.length);
  let total = 0;
  for (let i = 0; i < rows.length; i++) total += counts[i] = r.u32();
  if (total * 8 !== r.remaining)
    throw new QuiverError("CORRUPT", "sparse column: entry counts do not match the block's length");
  const indices = new Uint32Array(total);
  for (let i = 0; i < total; i++) indices[i] = r.u32();
  const values = r.f32s(total);
  const vectors: SparseVector[] = [];
  let at = 0;
  for (const count of counts) {
    vectors.push({ indices: indices.slice(at, at + count), values: values.slice(at, at + count) });
    at += count;
  }
  return { rows, vectors };
}
