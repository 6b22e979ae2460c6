/**
 * The binary encoding of one record, shared by WAL operations and segment files:
 *
 * | field   | encoding                                                   |
 * |---------|------------------------------------------------------------|
 * | id      | str                                                        |
 * | payload | str (JSON text)                                            |
 * | vectors | u32 m, then m × (str name, vector)                           |
 *
 * vector, dense:  u32 dim (1 to 65,536), dim × f32 LE
 * vector, sparse: u32 0xFFFFFFFF (no dense dim can be it), u32 n, n × u32 index (ascending), n × f32 LE weight
 *
 * (str = u32 byte length + UTF-8.) Only the vectors a record has are written. Records written
 * before sparse vectors existed hold only dense entries, which read as they always did.
 */
import { QuiverError } from "../core/errors/errors.js";
import type { SparseVector } from "../core/index/sparse/sparse-vector.js";
import type { ByteReader, ByteWriter } from "./codec.js";

/** The dim field's value that marks a sparse entry. */
const SPARSE_MARK = 0xffff_ffff;

/** A record as stored: payload kept as its JSON text, dense and sparse vectors by name. */
export interface StoredRecord {
  id: string;
  payloadJson: string;
  vectors: Map<string, Float32Array>;
  sparse: Map<string, SparseVector>;
}

export function writeRecord(w: ByteWriter, r: StoredRecord): void {
  w.str(r.id)
    .str(r.payloadJson)
    .u32(r.vectors.size + r.sparse.size);
  for (const [name, v] of r.vectors) w.str(name).u32(v.length).f32s(v);
  for (const [name, v] of r.sparse) {
    w.str(name).u32(SPARSE_MARK).u32(v.indices.length);
    for (const index of v.indices) w.u32(index);
    w.f32s(v.values);
  }
}

export function readRecord(r: ByteReader): StoredRecord {
  const id = r.str();
  const payloadJson = r.str();
  const m = r.u32();
  const vectors = new Map<string, Float32Array>();
  const sparse = new Map<string, SparseVector>();
  for (let i = 0; i < m; i++) {
    const name = r.str();
    const dim = r.u32();
    if (dim !== SPARSE_MARK) {
      vectors.set(name, r.f32s(dim));
      continue;
    }
    const n = r.u32();
    // Bounded by the bytes left before anything is allocated: a corrupt count fails as CORRUPT.
    if (n * 8 > r.remaining)
      throw new QuiverError("CORRUPT", `record ${JSON.stringify(id)}: sparse vector ${name} overruns its record`);
    const indices = new Uint32Array(n);
    for (let j = 0; j < n; j++) indices[j] = r.u32();
    sparse.set(name, { indices, values: r.f32s(n) });
  }
  return { id, payloadJson, vectors, sparse };
}
