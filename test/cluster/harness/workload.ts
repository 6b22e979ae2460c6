/**
 * The fault harness's write workload: batch i of writer `tag` is a pure function of (tag, i), so the
 * checker can tell from a logged batch which attempt it was, and replay exactly what was
 * acknowledged. Each batch upserts two fresh records and one of five "hot" ids every writer
 * overwrites (so a lost or reordered overwrite shows as a wrong payload); some batches delete an
 * earlier record of their writer or a hot id (so an undone delete shows as a resurrected record).
 */
import type { BatchOp } from "../../../src/cluster/batch.js";
import { seededRandom } from "../../../src/core/util/prng.js";

export const DIM = 8;
export const COLLECTION = "docs";
export const SCHEMA = { vectors: { v: { dim: DIM, metric: "l2" as const } } };

/** f32-exact values (Math.fround), so a vector compares bit for bit after storage. */
function vectorOf(seedText: string): number[] {
  let seed = 2166136261;
  for (const ch of seedText) seed = Math.imul(seed ^ ch.charCodeAt(0), 16777619);
  const random = seededRandom(seed);
  return Array.from({ length: DIM }, () => Math.fround(random() * 2 - 1));
}

export function writerBatch(tag: string, i: number): BatchOp[] {
  const fresh = [0, 1].map((j) => `${tag}-${i}-${j}`);
  const ids = [...fresh, `hot-${i % 5}`];
  const records = ids.map((id, j) => ({
    id,
    vector: vectorOf(`${tag}/${i}/${j}`),
    payload: { writer: tag, batch: i, j, note: `batch ${i} of ${tag}` },
  }));
  const ops: BatchOp[] = [{ op: "upsert", records }];
  const deletes: string[] = [];
  if (i % 3 === 2) deletes.push(`${tag}-${i - 2}-1`);
  if (i % 7 === 6) deletes.push(`hot-${(i + 2) % 5}`);
  if (deletes.length > 0) ops.push({ op: "delete", ids: deletes });
  return ops;
}

/** Which (writer, batch) a logged batch is, from its first record's payload; null if none. */
export function batchIdentity(ops: BatchOp[]): { tag: string; i: number } | null {
  const first = ops[0]?.op === "upsert" ? ops[0].records[0]?.payload : undefined;
  if (typeof first?.writer !== "string" || typeof first.batch !== "number") return null;
  return { tag: first.writer, i: first.batch };
}
