/**
 * A deterministic mixed workload of upserts and deletes for crash tests, and the model that
 * replays it: given a seed, both the writer and the checker derive the same operations, so the
 * checker can compute the exact state after any prefix of them.
 */
import { rng } from "./brute.js";

export const DIM = 8;
export const COLLECTION = "crash";

export type WorkOp =
  | { kind: "upsert"; records: { id: string; vector: number[]; payload: { op: number; g: number } }[] }
  | { kind: "delete"; ids: string[] };

export interface ModelRecord {
  vector: number[];
  payload: { op: number; g: number };
}

/** `count` operations over a pool of `pool` ids; about one in four deletes. */
export function makeWorkload(seed: number, count: number, pool = 400): WorkOp[] {
  const r = rng(seed);
  const ops: WorkOp[] = [];
  for (let i = 0; i < count; i++) {
    if (r() < 0.25) {
      const n = 1 + Math.floor(r() * 3);
      const ids = new Set<string>();
      while (ids.size < n) ids.add(`k${Math.floor(r() * pool)}`);
      ops.push({ kind: "delete", ids: [...ids] });
    } else {
      const n = 1 + Math.floor(r() * 4);
      const ids = new Set<string>();
      while (ids.size < n) ids.add(`k${Math.floor(r() * pool)}`);
      ops.push({
        kind: "upsert",
        // Values exactly representable in float32, so stored and model vectors compare equal.
        records: [...ids].map((id) => ({
          id,
          vector: Array.from({ length: DIM }, () => Math.round((r() * 2 - 1) * 4096) / 4096),
          payload: { op: i, g: Math.floor(r() * 10) },
        })),
      });
    }
  }
  return ops;
}

export function applyWork(state: Map<string, ModelRecord>, op: WorkOp): void {
  if (op.kind === "delete") for (const id of op.ids) state.delete(id);
  else for (const r of op.records) state.set(r.id, { vector: r.vector, payload: r.payload });
}

export function sameState(a: Map<string, ModelRecord>, b: Map<string, ModelRecord>): string | null {
  if (a.size !== b.size) return `size ${a.size} vs ${b.size}`;
  for (const [id, x] of a) {
    const y = b.get(id);
    if (!y) return `missing ${id}`;
    if (x.payload.op !== y.payload.op || x.payload.g !== y.payload.g) return `payload of ${id}`;
    for (let i = 0; i < DIM; i++) if (x.vector[i] !== y.vector[i]) return `vector of ${id}`;
  }
  return null;
}

/**
 * Finds P in [minP, maxP] such that base + ops[0, P) equals `actual`, or returns -1 with a
 * description. Acknowledgements arrive in log order, so a recovered state must be such a prefix.
 */
export function findPrefix(
  base: Map<string, ModelRecord>,
  ops: WorkOp[],
  minP: number,
  maxP: number,
  actual: Map<string, ModelRecord>,
): { p: number; why: string } {
  const state = new Map(base);
  for (let i = 0; i < minP; i++) applyWork(state, ops[i]);
  let why = "";
  for (let p = minP; p <= Math.min(maxP, ops.length); p++) {
    const diff = sameState(state, actual);
    if (diff === null) return { p, why: "" };
    if (p === minP) why = diff;
    if (p < ops.length) applyWork(state, ops[p]);
  }
  return { p: -1, why: `no prefix in [${minP}, ${maxP}] matches; at ${minP}: ${why}` };
}
