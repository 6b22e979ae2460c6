/**
 * TableSlots places ids at their index-file slots while segments load: in-order ids by a cursor with
 * no lookup, out-of-order ids (a delta segment's replacements) by one pass over the table per batch,
 * ids the table lacks above it, and the whole table hashed once past MAX_TABLE_SCANS passes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_TABLE_SCANS, TableSlots } from "../../src/database/table-slots.js";

/** Loads `ids` the way applySegment does: an id already loaded keeps its slot, others are placed. */
function load(slots: TableSlots, loaded: (string | undefined)[], ids: string[]): number[] {
  slots.batch = ids;
  return ids.map((id) => {
    const slot = slots.slotOf(id, loaded) ?? slots.place(id, loaded);
    while (loaded.length <= slot) loaded.push(undefined);
    loaded[slot] = id;
    return slot;
  });
}

test("a compacted segment in slot order is placed by the cursor, without a pass over the table", () => {
  const slots = new TableSlots(["a", "b", undefined, "c", "d"]);
  const loaded: (string | undefined)[] = [];
  assert.deepEqual(load(slots, loaded, ["a", "b", "c", "d"]), [0, 1, 3, 4]);
  assert.equal(slots.scans, 0);
});

test("a delta segment's ids are looked up together, in one pass; ids the table lacks go above it", () => {
  const slots = new TableSlots(["a", "b", undefined, "c", "d"]);
  const loaded: (string | undefined)[] = [];
  load(slots, loaded, ["a", "b", "c", "d"]);
  assert.deepEqual(load(slots, loaded, ["d", "x", "b", "y"]), [4, 5, 1, 6]);
  assert.equal(slots.scans, 1, "one pass for the whole batch");
  assert.equal(slots.slotOf("x", loaded), 5);
  // Deleted, then added again by a later segment: back to the same slot above the table.
  slots.batch = ["x"];
  loaded[5] = undefined;
  assert.equal(slots.slotOf("x", loaded), undefined);
  assert.equal(slots.place("x", loaded), 5);
  assert.equal(slots.scans, 1, "ids already looked up need no pass");
});

test("ids placed out of order do not stall the cursor for the ids after them", () => {
  const slots = new TableSlots(["a", "b", "c", "d"]);
  const loaded: (string | undefined)[] = [];
  assert.deepEqual(load(slots, loaded, ["b"]), [1]);
  assert.equal(slots.scans, 1);
  assert.deepEqual(load(slots, loaded, ["a", "c", "d"]), [0, 2, 3]);
  assert.equal(slots.scans, 1, "a, c and d came by the cursor, past b's taken slot");
});

test("past MAX_TABLE_SCANS passes the whole table is hashed once, and later misses cost nothing", () => {
  const table = Array.from({ length: 100 }, (_, i) => `r${i}`);
  const slots = new TableSlots(table);
  const loaded: (string | undefined)[] = [];
  load(slots, loaded, table);
  for (let b = 0; b < MAX_TABLE_SCANS + 3; b++) {
    const batch = [`r${90 - b * 7}`, `r${5 + b}`, `new${b}`];
    assert.deepEqual(load(slots, loaded, batch), [90 - b * 7, 5 + b, 100 + b]);
  }
  assert.equal(slots.scans, MAX_TABLE_SCANS + 1, "the lookups, then the one pass that hashes the table");
  assert.equal(slots.slotOf("r42", loaded), 42);
  assert.equal(slots.slotOf("new2", loaded), 102);
  assert.equal(slots.slotOf("nowhere", loaded), undefined);
});
