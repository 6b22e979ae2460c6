/**
 * Reading segment format 1 (quiverdb 0.1.0), record by record, into the columns that format 2
 * holds directly (segment.ts). Nothing writes format 1 any more: a checkpoint compacts a collection
 * that still has such segments into format 2.
 *
 * | size | field                                                        |
 * |------|--------------------------------------------------------------|
 * | 4    | magic "QSEG"                                                 |
 * | 4    | format version (u32 LE) = 1                                  |
 * | ...  | body: str collection uid, u32 d, d × str deleted id,         |
 * |      |       u32 n, n × record (record-codec.ts)                    |
 * | 8    | body length (u64 LE)                                         |
 * | 4    | CRC32C of header + body (u32 LE)                             |
 * | 4    | magic "QEND"                                                 |
 */
import { QuiverError } from "../core/errors/errors.js";
import { readRecord, type StoredRecord } from "./record-codec.js";
import { ByteReader } from "./codec.js";
import { crc32c } from "./crc32c.js";
import type { DenseColumn, SegmentColumns, SparseColumn } from "./segment.js";
import { payloadTextsOf } from "./payload-texts.js";

const END = 0x444e4551; // "QEND"
const FOOTER_BYTES = 16;

/** A format-1 segment (magic and version already checked by the caller) as columns. */
export function decodeSegmentV1(data: Uint8Array, name: string): SegmentColumns {
  const foot = new ByteReader(data, data.length - FOOTER_BYTES, data.length, name);
  const bodyLength = foot.u64();
  const crc = foot.u32();
  if (foot.u32() !== END || bodyLength !== data.length - 8 - FOOTER_BYTES) {
    throw new QuiverError("CORRUPT", `${name}: bad segment footer`);
  }
  const end = data.length - FOOTER_BYTES;
  if (crc32c(data, 0, end) !== crc) throw new QuiverError("CORRUPT", `${name}: segment checksum mismatch`);
  const r = new ByteReader(data, 8, end, name);
  const uid = r.str();
  const deleted: string[] = [];
  for (let i = r.u32(); i > 0; i--) deleted.push(r.str());
  const records: StoredRecord[] = [];
  for (let i = r.u32(); i > 0; i--) records.push(readRecord(r));
  if (r.remaining !== 0) throw new QuiverError("CORRUPT", `${name}: ${r.remaining} unexpected bytes before footer`);
  return { uid, deleted, ...columnsOf(records, name), version: 1 };
}

function columnsOf(records: StoredRecord[], name: string): Omit<SegmentColumns, "uid" | "deleted" | "version"> {
  const dense = new Map<string, { dim: number; rows: number[]; values: Float32Array[] }>();
  const sparse = new Map<string, { rows: number[]; vectors: SparseColumn["vectors"] }>();
  const payloads = records.map((rec, row) => {
    for (const [vname, v] of rec.vectors) {
      const column = dense.get(vname) ?? { dim: v.length, rows: [], values: [] };
      if (v.length !== column.dim) throw new QuiverError("CORRUPT", `${name}: vector ${vname} changes dimension`);
      column.rows.push(row);
      column.values.push(v);
      dense.set(vname, column);
    }
    for (const [vname, v] of rec.sparse) {
      const column = sparse.get(vname) ?? { rows: [], vectors: [] };
      column.rows.push(row);
      column.vectors.push(v);
      sparse.set(vname, column);
    }
    return JSON.parse(rec.payloadJson) as Record<string, unknown>;
  });
  const denseColumns = new Map<string, DenseColumn>();
  for (const [vname, c] of dense) {
    const data = new Float32Array(c.rows.length * c.dim);
    for (let i = 0; i < c.values.length; i++) data.set(c.values[i], i * c.dim);
    denseColumns.set(vname, { dim: c.dim, rows: Uint32Array.from(c.rows), data });
  }
  const sparseColumns = new Map<string, SparseColumn>();
  for (const [vname, c] of sparse) sparseColumns.set(vname, { rows: Uint32Array.from(c.rows), vectors: c.vectors });
  return {
    ids: records.map((rec) => rec.id),
    payloads,
    payloadTexts: payloadTextsOf(records.map((rec) => rec.payloadJson)),
    dense: denseColumns,
    sparse: sparseColumns,
  };
}
