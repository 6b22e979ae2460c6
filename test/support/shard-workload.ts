/**
 * The shard-writer checker's workload, shared by the writer child and the test: batch i of a log is a
 * pure function of (log, i), so the checker can replay exactly what a killed writer acknowledged.
 * Every batch upserts three records; every fourth also deletes a record of an earlier batch.
 */
import type { CollectionApi } from "../../src/api/types.js";
import type { BatchOp } from "../../src/cluster/batch.js";

export const DIM = 4;

export interface Expected {
  vector: number[];
  payload: Record<string, unknown>;
}

/** f32-exact values (Math.fround), so a vector compares bit for bit after storage. */
function vectorOf(log: string, i: number, j: number): number[] {
  return Array.from({ length: DIM }, (_, d) => Math.fround(Math.sin(i * 7.31 + j * 3.17 + d + log.length)));
}

export function batchOps(log: string, i: number): BatchOp[] {
  const records = [0, 1, 2].map((j) => ({
    id: `r${i}-${j}`,
    vector: vectorOf(log, i, j),
    payload: { batch: i, j, note: `batch ${i} record ${j} of ${log}` },
  }));
  const ops: BatchOp[] = [{ op: "upsert", records }];
  if (i % 4 === 3) ops.push({ op: "delete", ids: [`r${i - 2}-1`] });
  return ops;
}

/** The state after applying batches `indexes` in order. */
export function replay(log: string, indexes: number[]): Map<string, Expected> {
  const state = new Map<string, Expected>();
  for (const i of indexes)
    for (const op of batchOps(log, i)) {
      if (op.op === "delete") for (const id of op.ids) state.delete(id);
      else
        for (const r of op.records)
          state.set(r.id, { vector: Array.from(r.vector as number[]), payload: r.payload ?? {} });
    }
  return state;
}

/** A collection's whole state (vector "v" and payload of every record), to compare with `replay`. */
export async function stateOf(collection: CollectionApi): Promise<Map<string, Expected>> {
  const state = new Map<string, Expected>();
  let cursor: string | undefined;
  do {
    const page = await collection.scroll({ cursor, limit: 500, withPayload: true, withVectors: true });
    for (const r of page.records)
      state.set(r.id, { vector: Array.from(r.vectors?.v as ArrayLike<number>), payload: r.payload ?? {} });
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return state;
}
