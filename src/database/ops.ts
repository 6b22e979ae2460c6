/**
 * The operations a database logs in its WAL, and their binary encoding.
 * Collections are referenced by their uid, not their name, so that a collection dropped and
 * re-created under the same name can never receive the old one's records on replay.
 *
 * | type | byte | fields                                                                |
 * |------|------|-----------------------------------------------------------------------|
 * | create | 1  | str name, str uid, str schema JSON                                     |
 * | drop   | 2  | str uid                                                                |
 * | upsert | 3  | str uid, u32 n, n × record                                             |
 * | delete | 4  | str uid, u32 n, n × str id                                             |
 *
 * record: see src/storage/record-codec.ts
 * (str = u32 byte length + UTF-8)
 */
import { QuiverError } from "../core/errors/errors.js";
import { ByteReader, ByteWriter } from "../storage/codec.js";
import type { CollectionSchema } from "../core/schema/schema.js";
import { readRecord, writeRecord, type StoredRecord } from "../storage/record-codec.js";

export type { StoredRecord };

export type Op =
  | { type: "create"; name: string; uid: string; schema: CollectionSchema }
  | { type: "drop"; uid: string }
  | { type: "upsert"; uid: string; records: StoredRecord[] }
  | { type: "delete"; uid: string; ids: string[] };

const CODES = { create: 1, drop: 2, upsert: 3, delete: 4 } as const;

export function encodeOp(op: Op): Uint8Array {
  const w = new ByteWriter(256);
  w.u8(CODES[op.type]);
  switch (op.type) {
    case "create":
      w.str(op.name).str(op.uid).str(JSON.stringify(op.schema));
      break;
    case "drop":
      w.str(op.uid);
      break;
    case "upsert":
      w.str(op.uid).u32(op.records.length);
      for (const r of op.records) writeRecord(w, r);
      break;
    case "delete":
      w.str(op.uid).u32(op.ids.length);
      for (const id of op.ids) w.str(id);
      break;
  }
  return w.finish();
}

export function decodeOp(bytes: Uint8Array, where: string): Op {
  const r = new ByteReader(bytes, 0, bytes.length, where);
  const code = r.u8();
  let op: Op;
  switch (code) {
    case CODES.create:
      op = { type: "create", name: r.str(), uid: r.str(), schema: JSON.parse(r.str()) as CollectionSchema };
      break;
    case CODES.drop:
      op = { type: "drop", uid: r.str() };
      break;
    case CODES.upsert: {
      const uid = r.str();
      const n = r.u32();
      const records: StoredRecord[] = [];
      for (let i = 0; i < n; i++) records.push(readRecord(r));
      op = { type: "upsert", uid, records };
      break;
    }
    case CODES.delete: {
      const uid = r.str();
      const n = r.u32();
      const ids: string[] = [];
      for (let i = 0; i < n; i++) ids.push(r.str());
      op = { type: "delete", uid, ids };
      break;
    }
    default:
      throw new QuiverError("CORRUPT", `${where}: unknown operation type ${code}`);
  }
  if (r.remaining !== 0) throw new QuiverError("CORRUPT", `${where}: ${r.remaining} unexpected trailing bytes`);
  return op;
}
