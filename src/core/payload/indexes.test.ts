/**
 * Tests for payload indexes: per-type lookups, arrays and nested paths, wrong-typed values left out,
 * removal with the old payload, lazy re-sorting for ranges, and declaration validation.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { isQuiverError } from "../errors/errors.js";
import { PayloadIndexSet, validateIndexDecls } from "./indexes.js";
import { decodePacked } from "./packed-index.js";

const sorted = (s: ReadonlySet<number> | null) => (s === null ? null : [...s].sort((a, b) => a - b));

function build(): PayloadIndexSet {
  const ix = new PayloadIndexSet([
    { field: "lang", type: "keyword" },
    { field: "year", type: "number" },
    { field: "draft", type: "boolean" },
    { field: "authors.name", type: "keyword" },
  ]);
  ix.add(0, { lang: "en", year: 2001, draft: true, authors: [{ name: "Ada" }, { name: "Alan" }] });
  ix.add(1, { lang: ["en", "fr"], year: [1999, 2001], draft: false });
  ix.add(2, { lang: 7, year: "2001", draft: "yes", authors: { name: "Ada" } });
  ix.add(3, { lang: null, year: 2010.5 });
  ix.add(4, {});
  return ix;
}

test("keyword, number and boolean equality", () => {
  const ix = build();
  assert.deepEqual(sorted(ix.lookupEq("lang", "en")), [0, 1]);
  assert.deepEqual(sorted(ix.lookupEq("lang", "de")), []);
  assert.deepEqual(sorted(ix.lookupEq("year", 2001)), [0, 1]);
  assert.deepEqual(sorted(ix.lookupEq("draft", true)), [0]);
  assert.deepEqual(sorted(ix.lookupEq("draft", false)), [1]);
  assert.deepEqual(sorted(ix.lookupEq("authors.name", "Ada")), [0, 2]);
  assert.deepEqual([...ix.keyword("lang")!.keys()].sort(), ["en", "fr"]);
});

test("the index cannot answer for other types, null, or unindexed fields", () => {
  const ix = build();
  assert.equal(ix.lookupEq("lang", 7), null);
  assert.equal(ix.lookupEq("year", "2001"), null);
  assert.equal(ix.lookupEq("lang", null), null);
  assert.equal(ix.lookupEq("nope", "x"), null);
  assert.equal(ix.lookupRange("year", { gte: "2000" }), null);
  assert.equal(ix.lookupRange("draft", { gte: 0 }), null);
  assert.equal(ix.keyword("year"), undefined);
  assert.equal(ix.has("year"), true);
  assert.equal(ix.has("authors"), false);
  assert.equal(ix.typeOf("draft"), "boolean");
});

test("number ranges use every bound and count an upper bound", () => {
  const ix = build();
  assert.deepEqual(sorted(ix.lookupRange("year", { gte: 2001 })), [0, 1, 3]);
  assert.deepEqual(sorted(ix.lookupRange("year", { gt: 2001 })), [3]);
  assert.deepEqual(sorted(ix.lookupRange("year", { lt: 2001 })), [1]);
  assert.deepEqual(sorted(ix.lookupRange("year", { lte: 2001, gt: 1999 })), [0, 1]);
  assert.deepEqual(sorted(ix.lookupRange("year", { gt: 2020 })), []);
  assert.deepEqual(sorted(ix.lookupRange("year", { gt: 2005, lt: 2000 })), []);
  assert.equal(ix.countRange("year", { gte: 1999 }), 4); // slot 1 counted twice: an upper bound
  assert.equal(ix.countRange("year", { gt: 2001, lte: 2010.5 }), 1);
});

test("keyword indexes answer string ranges", () => {
  const ix = build();
  assert.deepEqual(sorted(ix.lookupRange("lang", { gte: "e", lt: "f" })), [0, 1]);
  assert.deepEqual(sorted(ix.lookupRange("lang", { gt: "en" })), [1]);
  assert.equal(ix.lookupRange("lang", { gt: 1 }), null);
});

test("present tracks existence, including null and wrongly typed values", () => {
  const ix = build();
  assert.deepEqual(sorted(ix.present("lang")), [0, 1, 2, 3]);
  assert.deepEqual(sorted(ix.present("draft")), [0, 1, 2]);
  assert.deepEqual(sorted(ix.present("authors.name")), [0, 2]);
  assert.equal(ix.present("nope"), null);
});

test("remove with the old payload, then ranges re-sort lazily", () => {
  const ix = build();
  assert.deepEqual(sorted(ix.lookupRange("year", { gte: 2000 })), [0, 1, 3]);
  ix.remove(1, { lang: ["en", "fr"], year: [1999, 2001], draft: false });
  assert.deepEqual(sorted(ix.lookupEq("lang", "en")), [0]);
  assert.deepEqual([...ix.keyword("lang")!.keys()], ["en"]); // empty value sets are dropped
  assert.deepEqual(sorted(ix.lookupRange("year", { gte: 1000 })), [0, 3]);
  assert.equal(ix.countRange("year", { gte: 1000 }), 2);
  ix.add(1, { year: 1500 });
  assert.deepEqual(sorted(ix.lookupRange("year", { lt: 2001 })), [1]);
  assert.deepEqual(sorted(ix.present("lang")), [0, 2, 3]);
  ix.clear();
  assert.deepEqual(sorted(ix.lookupEq("lang", "en")), []);
  assert.equal(ix.countRange("year", { gte: -1e9 }), 0);
  assert.deepEqual(sorted(ix.present("lang")), []);
});

test("a slot with a repeated value is indexed once and removed cleanly", () => {
  const ix = new PayloadIndexSet([{ field: "t", type: "number" }]);
  ix.add(9, { t: [3, 3, -0] });
  assert.equal(ix.countRange("t", { gte: 0 }), 2);
  assert.deepEqual(sorted(ix.lookupEq("t", 0)), [9]);
  ix.remove(9, { t: [3, 3, 0] });
  assert.equal(ix.countRange("t", { lt: 1e9 }), 0);
});

test("a value goes from one slot to several and back, and answers alike at each step", () => {
  const ix = new PayloadIndexSet([{ field: "t", type: "number" }]);
  ix.add(4, { t: 7 });
  ix.add(4, { t: 7 }); // the same slot again: still one
  assert.deepEqual(sorted(ix.lookupEq("t", 7)), [4]);
  assert.equal(ix.countRange("t", { gte: 7 }), 1);
  ix.add(5, { t: 7 });
  ix.add(6, { t: 7 });
  assert.deepEqual(sorted(ix.lookupRange("t", { lte: 7 })), [4, 5, 6]);
  ix.remove(4, { t: 7 });
  ix.remove(6, { t: 7 });
  assert.deepEqual(sorted(ix.lookupEq("t", 7)), [5]);
  ix.remove(4, { t: 7 }); // not there: nothing changes
  assert.equal(ix.countRange("t", { gte: 0 }), 1);
  const restored = new PayloadIndexSet(ix.declarations);
  assert.equal(restored.restore(ix.toBytes(), 8), null);
  restored.add(7, { t: 7 }); // unpacks a lone slot, then adds to it
  assert.deepEqual(sorted(restored.lookupEq("t", 7)), [5, 7]);
  ix.remove(5, { t: 7 });
  assert.deepEqual(sorted(ix.lookupEq("t", 7)), []);
});

test("declarations are validated, every problem reported", () => {
  assert.throws(
    () =>
      validateIndexDecls([
        { field: "a", type: "keyword" },
        { field: "a", type: "number" },
        { field: "b..c", type: "text" },
        5,
      ]),
    (e) =>
      isQuiverError(e, "INVALID_ARGUMENT") &&
      e.problems.map((p) => p.path).join() ===
        "indexes[1].field,indexes[2].field,indexes[2].type,indexes[3].field,indexes[3].type",
  );
  assert.throws(
    () => new PayloadIndexSet("x" as never),
    (e) => isQuiverError(e, "INVALID_ARGUMENT"),
  );
  assert.deepEqual(new PayloadIndexSet([]).declarations, []);
});

/** Every answer the planner can ask of `ix` about the fields of build(), for comparing two index sets. */
function answers(ix: PayloadIndexSet): unknown {
  const out: unknown[] = [];
  for (const v of ["en", "fr", "de", "", "zz"]) out.push(sorted(ix.lookupEq("lang", v)));
  for (const v of [1999, 2001, 2010.5, 0, 7]) out.push(sorted(ix.lookupEq("year", v)));
  for (const v of [true, false]) out.push(sorted(ix.lookupEq("draft", v)));
  out.push(sorted(ix.lookupEq("authors.name", "Ada")));
  for (const b of [{ gte: 2000 }, { gt: 1999, lte: 2010.5 }, { lt: 2001 }, { gt: 3000 }, { gte: 0 }]) {
    out.push(sorted(ix.lookupRange("year", b)), ix.countRange("year", b));
    const visited: number[] = [];
    ix.forEachInRange("year", b, (s) => visited.push(s));
    out.push(visited.sort((a, c) => a - c));
  }
  out.push(sorted(ix.lookupRange("lang", { gte: "e", lt: "f" })), ix.countRange("lang", { gt: "a" }));
  for (const f of ["lang", "year", "draft", "authors.name"]) out.push(sorted(ix.present(f)));
  out.push([...ix.keyword("lang")!].map(([k, s]) => [k, sorted(s)]).sort());
  return out;
}

function fresh(): PayloadIndexSet {
  return new PayloadIndexSet(build().declarations);
}

test("indexes saved as bytes load packed, answer as the originals did, and take writes after", () => {
  const original = build();
  const restored = fresh();
  assert.equal(restored.restore(original.toBytes(), 5), null);
  assert.deepEqual(answers(restored), answers(original));
  // Saved again without a write in between: the same bytes.
  assert.deepEqual(restored.toBytes(), original.toBytes());
  // The same writes on both, then the same answers (a write unpacks the loaded index).
  for (const ix of [original, restored]) {
    ix.remove(1, { lang: ["en", "fr"], year: [1999, 2001], draft: false });
    ix.add(1, { lang: "de", year: 1500, draft: true });
    ix.add(5, { lang: "fr", year: 2001, authors: [{ name: "Ada" }] });
  }
  assert.deepEqual(answers(restored), answers(original));
  const again = fresh();
  assert.equal(again.restore(restored.toBytes(), 6), null);
  assert.deepEqual(answers(again), answers(original));
  // An empty index and an index of nothing but wrongly typed values round-trip too.
  const empty = new PayloadIndexSet([{ field: "x", type: "number" }]);
  empty.add(0, { x: "not a number" });
  const emptyBack = new PayloadIndexSet([{ field: "x", type: "number" }]);
  assert.equal(emptyBack.restore(empty.toBytes(), 1), null);
  assert.deepEqual(sorted(emptyBack.present("x")), [0]);
  assert.equal(emptyBack.countRange("x", { gte: -1e300 }), 0);
});

test("loaded indexes agree with rebuilt ones over many random records, values, arrays and rewrites", () => {
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  const payload = (): Record<string, unknown> => {
    const p: Record<string, unknown> = {};
    if (rand(5) > 0) p.lang = rand(3) === 0 ? ["en", `l${rand(40)}`] : rand(9) === 0 ? 3 : `l${rand(40)}`;
    if (rand(5) > 0) p.year = rand(4) === 0 ? [rand(100), rand(100) / 4] : rand(300) - 150;
    if (rand(3) === 0) p.draft = rand(2) === 0;
    if (rand(4) === 0) p.authors = [{ name: `a${rand(5)}` }, { name: "Ada" }];
    return p;
  };
  const original = fresh();
  const held: Record<string, unknown>[] = [];
  for (let slot = 0; slot < 2000; slot++) {
    held[slot] = payload();
    original.add(slot, held[slot]);
  }
  for (let i = 0; i < 300; i++) {
    const slot = rand(2000);
    original.remove(slot, held[slot]);
    held[slot] = payload();
    original.add(slot, held[slot]);
  }
  const restored = fresh();
  assert.equal(restored.restore(original.toBytes(), 2000), null);
  assert.deepEqual(answers(restored), answers(original));
  for (let slot = 0; slot < 2000; slot += 3) {
    for (const ix of [original, restored]) ix.remove(slot, held[slot]);
    held[slot] = payload();
    for (const ix of [original, restored]) ix.add(slot, held[slot]);
  }
  assert.deepEqual(answers(restored), answers(original));
});

test("damaged or mismatched saved indexes are refused whole, leaving the set as it was", () => {
  const bytes = build().toBytes();
  const refused = (damage: (b: Map<string, Uint8Array>) => void, limit = 5): string | null => {
    const copy = new Map([...bytes].map(([f, b]) => [f, b.slice()]));
    damage(copy);
    const ix = build();
    const before = answers(ix);
    const why = ix.restore(copy, limit);
    assert.deepEqual(answers(ix), before, "a refused restore changes nothing");
    return why;
  };
  assert.match(refused(() => {}, 3) ?? "", /past the slot table/);
  assert.match(refused((b) => b.delete("draft")) ?? "", /the schema declares/);
  assert.match(refused((b) => b.set("other", b.get("draft")!)) ?? "", /the schema declares/);
  assert.match(refused((b) => b.set("lang", b.get("year")!)) ?? "", /type number, declared keyword/);
  assert.match(refused((b) => b.set("year", b.get("year")!.subarray(0, 20))) ?? "", /cut short/);
  // The two distinct years of build(), 1999 and 2001 and 2010.5, swapped out of order.
  assert.match(
    refused((b) => {
      const y = b.get("year")!;
      const keys = new DataView(y.buffer, y.byteOffset + y.length - 24, 24);
      const first = keys.getFloat64(0, true);
      keys.setFloat64(0, keys.getFloat64(8, true), true);
      keys.setFloat64(8, first, true);
    }) ?? "",
    /ascending/,
  );
  assert.match(
    refused((b) => {
      const l = b.get("lang")!;
      new DataView(l.buffer, l.byteOffset).setUint32(16, 99, true); // the first value's slot count
    }) ?? "",
    /do not add up|cut short/,
  );
  assert.equal(
    refused(() => {}),
    null,
  );
});

/** Every field's packed contents, each value's slots and the present slots in ascending order. */
function contents(ix: PayloadIndexSet, slotLimit: number): unknown {
  const out: Record<string, unknown> = {};
  for (const [field, bytes] of ix.toBytes()) {
    const p = decodePacked(bytes, ix.typeOf(field)!, slotLimit);
    out[field] = {
      values: p.keys.map((k, i) => [k, [...p.slots.subarray(p.offsets[i], p.offsets[i + 1])].sort((a, b) => a - b)]),
      present: [...p.present].sort((a, b) => a - b),
    };
  }
  return out;
}

test("a pack after writes merges them into the last pack: the same index as packing every value again", () => {
  let seed = 11;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const payload = (): Record<string, unknown> => {
    const p: Record<string, unknown> = {};
    if (rand(5) > 0) p.lang = rand(3) === 0 ? [`l${rand(40)}`, "en"] : rand(9) === 0 ? 3 : `l${rand(400)}`;
    if (rand(5) > 0) p.year = rand(4) === 0 ? [rand(100), rand(100) / 4] : rand(3000) / 7 - 150;
    if (rand(3) === 0) p.draft = rand(9) === 0 ? null : rand(2) === 0;
    if (rand(4) === 0) p.authors = [{ name: `a${rand(5)}` }, { name: "Ada" }];
    return p;
  };
  const N = 1500;
  const held: (Record<string, unknown> | undefined)[] = [];
  const live = fresh();
  for (let slot = 0; slot < N; slot++) {
    held[slot] = payload();
    live.add(slot, held[slot]);
  }
  let loaded: PayloadIndexSet | null = null;
  for (let round = 0; round < 6; round++) {
    // Replacements, deletions and slots taken again, sometimes several times over between packs.
    for (let i = 0; i < 200 + round * 150; i++) {
      const slot = rand(N);
      const targets = loaded ? [live, loaded] : [live];
      if (held[slot] !== undefined) for (const ix of targets) ix.remove(slot, held[slot]);
      held[slot] = rand(4) === 0 ? undefined : payload();
      if (held[slot] !== undefined) for (const ix of targets) ix.add(slot, held[slot]);
    }
    const whole = fresh();
    held.forEach((p, slot) => {
      if (p !== undefined) whole.add(slot, p);
    });
    const want = contents(whole, N);
    assert.deepEqual(contents(live, N), want, `round ${round}: merged into the last pack`);
    if (loaded) assert.deepEqual(contents(loaded, N), want, `round ${round}: merged into a loaded index`);
    // From round 2 on, a copy loaded from the bytes takes the same writes (its base is the loaded pack).
    if (round === 1) {
      loaded = fresh();
      assert.equal(loaded.restore(live.toBytes(), N), null);
    }
  }
});
