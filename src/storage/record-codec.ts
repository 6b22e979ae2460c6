/**
 * The binary encoding of one record, shared by WAL operations and segment files:
 *
 * | field   | encoding                                                   |
 * |---------|------------------------------------------------------------|
 * | id      | str                                                        |
 * | payload | str (JSON text)                                            |
 * | vectors | u32 m, then m × (str name, u32 dim, dim × f32 LE)           |
 *
 * (str = u32 byte length + UTF-8.) Only the vectors a record has are written.
 */
import type { ByteReader, ByteWriter } from "./codec.js";

/** A record as stored: payload kept as its JSON text, vectors by name. */
export interface StoredRecord {
  id: string;
  payloadJson: string;
  vectors: Map<string, Float32Array>;
}

export function writeRecord(w: ByteWriter, r: StoredRecord): void {
  w.str(r.id).str(r.payloadJson).u32(r.vectors.size);
  for (const [name, v] of r.vectors) w.str(name).u32(v.length).f32s(v);
}

export function readRecord(r: ByteReader): StoredRecord {
  const id = r.str();
  const payloadJson = r.str();
  const m = r.u32();
  const vectors = new Map<string, Float32Array>();
  for (let i = 0; i < m; i++) {
    const name = r.str();
    vectors.set(name, r.f32s(r.u32()));
  }
  return { id, payloadJson, vectors };
}
