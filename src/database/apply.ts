/**
 * Applying logged operations to the in-memory state: the one function both the live write path
 * (after the WAL commit) and recovery's replay call, so memory after a reopen is what it was.
 */
import { CollectionState, type StateEnv } from "./collection-state.js";
import type { DeferredInserts } from "./graph-inserts.js";
import type { Op } from "./ops.js";

/**
 * Applies one logged operation to the state; shared by replay and the live write path. `deferred`:
 * graph inserts are collected there instead of made (see graph-inserts.ts).
 */
export function applyOp(
  op: Op,
  collections: Map<string, CollectionState>,
  env: StateEnv,
  trackDirty: boolean,
  deferred?: DeferredInserts,
): number {
  switch (op.type) {
    case "create":
      collections.set(op.uid, new CollectionState(op.name, op.uid, op.schema, env));
      return 0;
    case "drop":
      collections.get(op.uid)?.dispose();
      collections.delete(op.uid);
      return 0;
    case "upsert": {
      const c = collections.get(op.uid);
      if (!c) return -1;
      c.applyUpsert(op.records, trackDirty, deferred);
      return op.records.length;
    }
    case "delete": {
      const c = collections.get(op.uid);
      if (!c) return -1;
      return c.applyDelete(op.ids, trackDirty);
    }
  }
}
