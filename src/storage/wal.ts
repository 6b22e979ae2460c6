/**
 * Write-ahead log: every acknowledged write is in a WAL file, fsynced, before it is applied.
 *
 * File `wal-NNNNNN.log`:
 *
 * | offset | size | field                                             |
 * |--------|------|---------------------------------------------------|
 * | 0      | 4    | magic "QWAL"                                      |
 * | 4      | 4    | format version (u32 LE) = 1                       |
 * | 8      | ...  | records, back to back                             |
 *
 * Record:
 *
 * | size | field                                                           |
 * |------|-----------------------------------------------------------------|
 * | 4    | body length N (u32 LE), at most 1 GiB                           |
 * | 4    | CRC32C of the body (u32 LE)                                     |
 * | N    | body: u64 sequence number, then the operation (database/ops.ts) |
 *
 * A group commit appends several records with one write and one fsync. On open, records are read
 * until the first one that is incomplete or fails its checksum. If no valid record follows it, that
 * is a torn tail: a group whose fsync never returned, so never acknowledged; recovery may cut it
 * (only in the newest file). If a valid record does follow, the file was damaged after it was
 * written: `damage` says where, and recovery refuses to guess (see recovery.ts).
 */
import { QuiverError } from "../core/errors/errors.js";
import { ByteReader, ByteWriter } from "./codec.js";
import { crc32c } from "./crc32c.js";
import type { Directory, WritableFile } from "./directory.js";

const MAGIC = 0x4c415751; // "QWAL" read as u32 LE
const VERSION = 1;
const HEADER_BYTES = 8;
const MAX_RECORD = 1 << 30;

export function walFileName(n: number): string {
  return `wal-${String(n).padStart(6, "0")}.log`;
}

export function parseWalFileName(name: string): number | null {
  const m = /^wal-(\d{6,})\.log$/.exec(name);
  return m ? Number(m[1]) : null;
}

export function walHeader(): Uint8Array {
  return new ByteWriter(HEADER_BYTES).u32(MAGIC).u32(VERSION).finish();
}

/** Frames one record: length, checksum, then `seq` and the encoded operation. */
export function frameRecord(seq: number, op: Uint8Array): Uint8Array {
  const body = new ByteWriter(op.length + 8).u64(seq).bytes(op).finish();
  const out = new ByteWriter(body.length + 8);
  out.u32(body.length).u32(crc32c(body)).bytes(body);
  return out.finish();
}

export interface WalRecord {
  seq: number;
  /** Byte offset of the record's frame in its file. */
  offset: number;
  /** The encoded operation (a view into the file's bytes). */
  op: Uint8Array;
}

export interface WalScan {
  records: WalRecord[];
  /** Length of the valid prefix; bytes after it are a torn or corrupt tail. */
  validLength: number;
  tailBytes: number;
  /**
   * Set when the bytes after the valid prefix are not a torn tail: a later record is intact, so
   * the bad one was written whole and damaged since. `nextSeq` is the sequence number found there.
   */
  damage?: { offset: number; nextValidOffset: number; nextSeq: number };
}

const FRAME_BYTES = 8;

/** The record framed at `pos`, or null when it is incomplete or fails its checksum. */
function recordAt(data: Uint8Array, view: DataView, pos: number, name: string): { seq: number; end: number } | null {
  if (pos + FRAME_BYTES > data.length) return null;
  const len = view.getUint32(pos, true);
  if (len < 8 || len > MAX_RECORD || pos + FRAME_BYTES + len > data.length) return null;
  if (crc32c(data, pos + FRAME_BYTES, pos + FRAME_BYTES + len) !== view.getUint32(pos + 4, true)) return null;
  return {
    seq: new ByteReader(data, pos + FRAME_BYTES, pos + FRAME_BYTES + len, name).u64(),
    end: pos + FRAME_BYTES + len,
  };
}

/**
 * Looks for an intact record after a bad one at `from`. Its sequence number must be above
 * `lastSeq` and, when that is known (> 0), close to it (records after the bad one have the next
 * numbers, and take at least 16 bytes each): a cheap test that keeps the search linear in practice.
 */
function findIntactAfter(
  data: Uint8Array,
  view: DataView,
  from: number,
  lastSeq: number,
  name: string,
): { offset: number; seq: number } | null {
  const maxSeq = lastSeq > 0 ? lastSeq + 1 + Math.ceil((data.length - from) / 16) : Number.POSITIVE_INFINITY;
  for (let pos = from + 1; pos + FRAME_BYTES + 8 <= data.length; pos++) {
    const seq = view.getUint32(pos + FRAME_BYTES, true) + view.getUint32(pos + FRAME_BYTES + 4, true) * 2 ** 32;
    if (seq <= lastSeq || seq > maxSeq) continue;
    const rec = recordAt(data, view, pos, name);
    if (rec) return { offset: pos, seq: rec.seq };
  }
  return null;
}

/**
 * Reads every intact record up to the first torn or corrupt one, and tells the two apart.
 * `lastSeqBefore`: the highest sequence number known to precede this file's records (0 if unknown).
 */
export function scanWal(data: Uint8Array, name: string, lastSeqBefore = 0): WalScan {
  if (data.length < HEADER_BYTES) {
    // A crash right after creating the file can leave it shorter than its header.
    return { records: [], validLength: 0, tailBytes: data.length };
  }
  const header = new ByteReader(data, 0, HEADER_BYTES, name);
  const magic = header.u32();
  const version = header.u32();
  if (magic !== MAGIC) throw new QuiverError("CORRUPT", `${name}: not a Quiver WAL file (bad magic)`);
  if (version !== VERSION) throw new QuiverError("CORRUPT", `${name}: unsupported WAL version ${version}`);
  const records: WalRecord[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let pos = HEADER_BYTES;
  let lastSeq = lastSeqBefore;
  for (;;) {
    const rec = recordAt(data, view, pos, name);
    if (!rec) break;
    records.push({ seq: rec.seq, offset: pos, op: data.subarray(pos + FRAME_BYTES + 8, rec.end) });
    lastSeq = rec.seq;
    pos = rec.end;
  }
  const scan: WalScan = { records, validLength: pos, tailBytes: data.length - pos };
  if (pos < data.length) {
    const intact = findIntactAfter(data, view, pos, lastSeq, name);
    if (intact) scan.damage = { offset: pos, nextValidOffset: intact.offset, nextSeq: intact.seq };
  }
  return scan;
}

/** Sequence numbers of the intact records from `offset` on, skipping damaged stretches (for repair reports). */
export function countIntactFrom(data: Uint8Array, name: string, offset: number, lastSeq: number): number[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const seqs: number[] = [];
  let pos = offset;
  while (pos < data.length) {
    const rec = recordAt(data, view, pos, name);
    if (rec) {
      seqs.push(rec.seq);
      lastSeq = rec.seq;
      pos = rec.end;
      continue;
    }
    const next = findIntactAfter(data, view, pos, lastSeq, name);
    if (!next) break;
    pos = next.offset;
  }
  return seqs;
}

/**
 * Scans a WAL file's bytes from `offset`, a record boundary found by an earlier scan (a reader
 * following a live writer reads only what was appended since). The header is checked when
 * `offset` is 0; `validLength` is a file offset, as in scanWal. A torn tail here is usually a
 * write in flight: the caller resumes from `validLength` next time.
 */
export function scanWalFrom(tail: Uint8Array, offset: number, name: string): WalScan {
  if (offset === 0) return scanWal(tail, name);
  // Behind a header, the tail is a WAL file of its own: one scanner for both.
  const framed = new Uint8Array(HEADER_BYTES + tail.length);
  framed.set(walHeader());
  framed.set(tail, HEADER_BYTES);
  const scan = scanWal(framed, name);
  const shift = offset - HEADER_BYTES; // framed position -> file offset
  return {
    records: scan.records.map((r) => ({ ...r, offset: r.offset + shift })),
    validLength: scan.validLength + shift,
    tailBytes: scan.tailBytes,
  };
}

/**
 * The open WAL file being appended to. `commit` writes a group of framed records and fsyncs;
 * it resolves only when they are durable.
 */
export class WalWriter {
  private constructor(
    readonly number: number,
    private readonly file: WritableFile,
  ) {}

  static async create(dir: Directory, number: number): Promise<WalWriter> {
    const file = await dir.create(walFileName(number));
    try {
      await file.append(walHeader());
      await file.sync();
      // The new name must survive a crash before anything acknowledged lands in it.
      await dir.syncDir();
    } catch (e) {
      await file.close().catch(() => undefined);
      await dir.remove(walFileName(number)).catch(() => undefined);
      throw e;
    }
    return new WalWriter(number, file);
  }

  /** Continues an existing WAL whose valid prefix is `validLength` bytes, cutting any torn tail. */
  static async reopen(dir: Directory, number: number, validLength: number): Promise<WalWriter> {
    const file = await dir.openAppend(walFileName(number));
    try {
      if (file.size !== validLength) {
        await file.truncate(validLength);
        await file.sync();
      }
      if (validLength < HEADER_BYTES) {
        await file.truncate(0);
        await file.append(walHeader());
        await file.sync();
      }
    } catch (e) {
      await file.close().catch(() => undefined);
      throw e;
    }
    return new WalWriter(number, file);
  }

  get size(): number {
    return this.file.size;
  }

  /**
   * Appends and fsyncs. If the append fails, the file is cut back to its previous length so that
   * later records are not stranded behind a torn one; if that or the fsync fails, the WAL is in an
   * unknown state and the caller must stop writing to it (see Database: the writer is poisoned).
   */
  async commit(framed: Uint8Array): Promise<void> {
    const before = this.file.size;
    try {
      await this.file.append(framed);
    } catch (e) {
      try {
        await this.file.truncate(before);
      } catch {
        throw new WalPoisoned(e);
      }
      throw e;
    }
    try {
      await this.file.sync();
    } catch (e) {
      // After a failed fsync the kernel may have dropped the dirty pages: a retry could report
      // success for data that is gone. Only a reopen (which re-reads the file) is safe.
      throw new WalPoisoned(e);
    }
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

/** The WAL can no longer be trusted for appends; wraps the original I/O error. */
export class WalPoisoned extends Error {
  constructor(readonly original: unknown) {
    super("WAL poisoned by an I/O error");
  }
}
