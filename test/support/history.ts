/**
 * The acknowledged history of a multi-collection workload, and the oracle that decides whether a
 * recovered database is one that history allows: every acknowledged write applied, in log order,
 * plus any subset of the writes that were rejected or still in flight, each all-or-nothing.
 */

export interface ModelRecord {
  id: string;
  vector: number[];
  /** A sparse vector (indices ascending), on collections that have one. */
  sparse?: { indices: number[]; values: number[] };
  payload: { op: number; g: number; body: string };
}

/** A logged write, as the model sees it (delete by filter is logged as the ids it matched). */
export type ModelOp =
  | { kind: "create"; coll: string }
  | { kind: "drop"; coll: string }
  | { kind: "upsert"; coll: string; records: ModelRecord[] }
  | { kind: "delete"; coll: string; ids: string[] };

export type Status = "pending" | "acked" | "rejected";

/** Keys of the model state: `coll` for a collection's existence, `coll/id` for a record. */
export type ModelState = Map<string, ModelRecord | true>;

const recordKey = (coll: string, id: string): string => `${coll}/${id}`;

/** Applies one operation the way recovery replays it (a write to a missing collection does nothing). */
export function applyModelOp(state: ModelState, op: ModelOp): void {
  if (op.kind === "create") {
    state.set(op.coll, true);
    return;
  }
  if (op.kind === "drop") {
    for (const k of [...state.keys()]) if (k === op.coll || k.startsWith(`${op.coll}/`)) state.delete(k);
    return;
  }
  if (!state.has(op.coll)) return;
  if (op.kind === "upsert") for (const r of op.records) state.set(recordKey(op.coll, r.id), r);
  else for (const id of op.ids) state.delete(recordKey(op.coll, id));
}

/** The writes a workload submitted, in log order, with their outcome so far. */
export class History {
  readonly ops: ModelOp[] = [];
  readonly status: Status[] = [];
  /** The acknowledged writes applied in order: what the live database holds. */
  readonly live: ModelState = new Map();

  /** Records a submitted write and follows its promise. */
  track<T>(op: ModelOp, promise: Promise<T>): Promise<T> {
    const i = this.ops.push(op) - 1;
    this.status.push("pending");
    return promise.then(
      (v) => {
        this.status[i] = "acked";
        applyModelOp(this.live, op);
        return v;
      },
      (e) => {
        this.status[i] = "rejected";
        throw e;
      },
    );
  }

  /** A write refused before it could be logged (e.g. its collection handle was gone). */
  refuse(op: ModelOp): void {
    this.ops.push(op);
    this.status.push("rejected");
  }
}

/** Compares one recovered value with the model's; cosine vectors come back normalised. */
export type SameValue = (key: string, expected: ModelRecord | true, actual: ModelRecord | true) => boolean;

/**
 * Returns null when `actual` equals the acknowledged writes of `ops` plus some subset of the others
 * (applied whole, in log order), else why not. A depth-first search over the unacknowledged writes,
 * pruned by checking each key as soon as no later write touches it.
 */
export function explainMismatch(
  ops: ModelOp[],
  status: Status[],
  actual: ModelState,
  same: SameValue,
  budget = 200_000,
): string | null {
  // The last write that touches each key (a drop touches every record of its collection seen so far).
  const lastTouch = new Map<string, number>();
  const seen = new Map<string, Set<string>>();
  ops.forEach((op, i) => {
    const keys = op.kind === "upsert" ? op.records.map((r) => r.id) : op.kind === "delete" ? op.ids : [];
    const known = seen.get(op.coll) ?? new Set<string>();
    seen.set(op.coll, known);
    for (const id of keys) known.add(recordKey(op.coll, id));
    if (op.kind === "create" || op.kind === "drop") lastTouch.set(op.coll, i);
    for (const k of op.kind === "drop" ? known : keys.map((id) => recordKey(op.coll, id))) lastTouch.set(k, i);
  });
  for (const k of actual.keys()) if (!lastTouch.has(k)) return `${k} is present but no write ever made it`;
  const finalAt = new Map<number, string[]>();
  for (const [k, i] of lastTouch) finalAt.set(i, [...(finalAt.get(i) ?? []), k]);

  let deepest = { at: -1, why: "" };
  let nodes = 0;
  const advance = (i: number, state: ModelState, include: boolean): boolean => {
    if (include) applyModelOp(state, ops[i]);
    for (const k of finalAt.get(i) ?? []) {
      const want = state.get(k);
      const got = actual.get(k);
      const ok = want === undefined || got === undefined ? want === got : same(k, want, got);
      if (!ok) {
        if (i > deepest.at) {
          const desc = (v: ModelRecord | true | undefined): string =>
            v === undefined ? "absent" : v === true ? "exists" : `written by step ${v.payload.op}`;
          deepest = {
            at: i,
            why: `${k}: expected ${desc(want)}, recovered ${desc(got)} (deciding write #${i}, ${ops[i].kind} ${ops[i].coll}, ${status[i]})`,
          };
        }
        return false;
      }
    }
    return true;
  };
  const search = (from: number, state: ModelState): boolean => {
    for (let i = from; i < ops.length; i++) {
      if (++nodes > budget) throw new Error(`history search gave up after ${budget} steps`);
      if (status[i] === "acked") {
        if (!advance(i, state, true)) return false;
        continue;
      }
      const withIt = new Map(state);
      if (advance(i, withIt, true) && search(i + 1, withIt)) return true;
      if (!advance(i, state, false)) return false;
    }
    return true;
  };
  return search(0, new Map()) ? null : `no allowed history gives the recovered state; nearest: ${deepest.why}`;
}
