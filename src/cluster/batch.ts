/**
 * A write batch as stored in the object store: UTF-8 JSON `{"format":"quiver-batch/1","ops":[...]}`,
 * written once under a fresh key and named, with the sha256 of its bytes, by a CommitLog entry. Vectors
 * are JSON numbers (every f32 is exact as a double, so they round-trip bit for bit). A later format
 * will be binary (the embedded WAL's record codec); the format tag is there for that change.
 */
import type { RecordInput } from "../api/types.js";
import { QuiverError } from "../core/errors/errors.js";

export const BATCH_FORMAT = "quiver-batch/1";

export type BatchOp = { op: "upsert"; records: RecordInput[] } | { op: "delete"; ids: string[] };

export function encodeBatch(ops: BatchOp[]): Uint8Array {
  const plain = ops.map((o) =>
    o.op === "delete"
      ? o
      : {
          op: o.op,
          records: o.records.map((r) => ({
            ...r,
            vector: r.vector === undefined ? undefined : plainVector(r.vector),
            vectors: r.vectors && Object.fromEntries(Object.entries(r.vectors).map(([k, v]) => [k, plainVector(v)])),
          })),
        },
  );
  return new TextEncoder().encode(JSON.stringify({ format: BATCH_FORMAT, ops: plain }));
}

/** A vector as JSON can hold it: typed arrays become arrays (a sparse vector's parts too). */
function plainVector(v: NonNullable<RecordInput["vectors"]>[string]): unknown {
  if (typeof v === "string") return v;
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return Array.from(v as ArrayLike<number>);
  const sparse = v as { indices?: ArrayLike<number>; values?: ArrayLike<number> };
  if (sparse.indices !== undefined && sparse.values !== undefined)
    return { indices: Array.from(sparse.indices), values: Array.from(sparse.values) };
  return v; // a sparse vector as { token: weight }, plain JSON already
}

export function decodeBatch(bytes: Uint8Array, key: string): BatchOp[] {
  let parsed: { format?: unknown; ops?: unknown };
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new QuiverError("CORRUPT", `batch ${key} is not valid JSON`, { cause: error });
  }
  if (parsed.format !== BATCH_FORMAT || !Array.isArray(parsed.ops))
    throw new QuiverError("CORRUPT", `batch ${key} has format ${JSON.stringify(parsed.format)}, not ${BATCH_FORMAT}`);
  return parsed.ops as BatchOp[];
}

/** Hex sha256 through Web Crypto, available in every runtime Quiver supports. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
