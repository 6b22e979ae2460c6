/**
 * The cluster's placement functions (src/cluster/shard-map.ts): the id hash is pinned to known
 * values (changing it would move every stored id, so it is part of the format), spreads ids evenly,
 * and rendezvous hashing moves only the keys of a node that joins or leaves.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { groupByShard, rendezvous, shardOf, stableHash } from "../../src/cluster/shard-map.js";

it("the id hash is stable: pinned values, UTF-8 bytes, independent of the runtime", () => {
  assert.deepEqual(
    ["", "a", "doc-1", "doc-2", "ключ", "😀"].map(stableHash),
    [2872998923, 444641715, 1578409436, 2108982694, 2594288994, 855877642],
  );
  assert.equal(shardOf("doc-1", 4), 1578409436 % 4);
});

it("ids spread evenly over shards", () => {
  const counts = new Array(8).fill(0);
  for (let i = 0; i < 80_000; i++) counts[shardOf(`doc-${i}`, 8)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `shard sizes ${counts}`);
});

it("rendezvous ranks every node; a joining or leaving node moves only its own keys", () => {
  const nodes = ["a", "b", "c", "d"];
  const keys = Array.from({ length: 2000 }, (_, i) => `shards/docs/1/${i}`);
  const before = keys.map((k) => rendezvous(k, nodes)[0]);
  assert.deepEqual(rendezvous("x", nodes).sort(), nodes);
  assert.deepEqual(rendezvous("x", nodes), rendezvous("x", [...nodes].reverse()), "order of the input does not matter");
  const joined = keys.map((k) => rendezvous(k, [...nodes, "e"])[0]);
  const moved = keys.filter((_, i) => joined[i] !== before[i]);
  assert.ok(
    moved.every((_, i) => joined[keys.indexOf(moved[i])] === "e"),
    "keys only move to the new node",
  );
  assert.ok(Math.abs(moved.length - 400) < 80, `${moved.length} of 2000 keys moved to the fifth node`);
  const left = keys.map((k) => rendezvous(k, ["a", "b", "d"])[0]);
  keys.forEach((_, i) => {
    if (before[i] !== "c") assert.equal(left[i], before[i], "keys of the nodes that stay do not move");
  });
});

it("groupByShard keeps each shard's items in their order", () => {
  const ids = Array.from({ length: 50 }, (_, i) => `id${i}`);
  const groups = groupByShard(ids, (id) => id, 3);
  assert.deepEqual([...groups.values()].flat().sort(), [...ids].sort());
  for (const [shard, part] of groups) {
    assert.ok(part.every((id) => shardOf(id, 3) === shard));
    assert.deepEqual(
      part,
      ids.filter((id) => shardOf(id, 3) === shard),
    );
  }
});
