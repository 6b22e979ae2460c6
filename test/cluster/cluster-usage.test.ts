/**
 * Usage metering across three nodes sharing one Catalog (the in-memory coordinator, as etcd): each
 * node's meter counts what it serves, flushes add it to the key's record by compare-and-set, and
 * after a flush every node's meter (what `/v1/usage` answers) holds the cluster-wide totals. Flushes
 * racing on the same key, puts refused at random (another writer) and a Catalog that fails for a
 * while lose no unit and count none twice; close writes what is pending; a month turning while a
 * flush is in flight keeps both months' units in the totals and restarts the period.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Catalog } from "../../src/cluster/catalog.js";
import { LocalCoordinator } from "../../src/cluster/local-coordinator.js";
import { ClusterUsage, USAGE_PREFIX } from "../../src/cluster/serve/cluster-usage.js";
import { seededRandom } from "../../src/core/util/prng.js";
import { UsageMeter } from "../../src/server/usage.js";

/** A Catalog whose puts are refused (as if another node had written first) or fail, on demand. */
function flaky(inner: Catalog, rand: () => number, state: { failing: boolean }): Catalog {
  return {
    get: (key) => inner.get(key),
    list: (prefix) => inner.list(prefix),
    async put(key, value, version) {
      if (state.failing) throw new Error("etcd unreachable");
      const current = await inner.get(key);
      if (current && rand() < 0.3) {
        // Someone else's write lands first: the version moves on, our compare-and-set fails.
        await inner.put(key, current.value, current.version);
        return false;
      }
      return inner.put(key, value, version);
    },
  };
}

async function nodes(catalog: Catalog, n: number) {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const meter = await UsageMeter.open(null);
      const usage = new ClusterUsage(catalog, meter, { flushMs: 60_000 });
      usage.start();
      return { meter, usage };
    }),
  );
}

describe("usage metering in the cluster's Catalog", () => {
  it("three nodes' units add up exactly, and every node answers the cluster-wide totals", async () => {
    const coordinator = new LocalCoordinator();
    const state = { failing: false };
    const three = await nodes(flaky(coordinator, seededRandom(3), state), 3);
    const expected = { readUnits: 0, writeUnits: 0, requests: 0 };
    const perCollection = new Map<string, number>();
    const rand = seededRandom(8);
    for (let round = 0; round < 6; round++) {
      state.failing = round === 2; // one round's flushes fail: their units wait for the next
      for (let i = 0; i < 40; i++) {
        const node = three[Math.floor(rand() * 3)];
        const units = { readUnits: Math.floor(rand() * 5), writeUnits: Math.floor(rand() * 3) + 1 };
        const collection = rand() < 0.5 ? "docs" : "__proto__";
        node.meter.record("k1", collection, units);
        expected.readUnits += units.readUnits;
        expected.writeUnits += units.writeUnits;
        expected.requests++;
        perCollection.set(collection, (perCollection.get(collection) ?? 0) + 1);
      }
      // All three flush at once: their compare-and-sets race on the same key.
      await Promise.all(three.map((n) => n.usage.flush()));
    }
    state.failing = false;
    await Promise.all(three.map((n) => n.usage.flush()));
    // A last flush reads every other node's writes back.
    await Promise.all(three.map((n) => n.usage.flush()));
    for (const { meter } of three) {
      const u = meter.ofKey("k1");
      assert.deepEqual(u.total, expected);
      assert.deepEqual(u.period, expected);
      assert.equal(u.collections.docs.requests, perCollection.get("docs"));
      assert.equal(
        Object.getOwnPropertyDescriptor(u.collections, "__proto__")?.value.requests,
        perCollection.get("__proto__"),
      );
      assert.deepEqual(
        meter.all().keys.map((k) => k.key),
        ["k1"],
      );
    }
    const stored = await coordinator.get(`${USAGE_PREFIX}k1`);
    assert.deepEqual(JSON.parse(stored?.value ?? "null").total, expected);
    for (const n of three) await n.usage.close();
  });

  it("close writes the units counted since the last flush; another node sees them on its next flush", async () => {
    const coordinator = new LocalCoordinator();
    const [a, b] = await nodes(coordinator, 2);
    a.meter.record("k2", "docs", { readUnits: 3, writeUnits: 0 });
    b.meter.record("k2", undefined, { readUnits: 0, writeUnits: 2 });
    await a.usage.close();
    assert.deepEqual(b.meter.ofKey("k2").total, { readUnits: 0, writeUnits: 2, requests: 1 }, "not yet seen");
    await b.usage.flush();
    assert.deepEqual(b.meter.ofKey("k2").total, { readUnits: 3, writeUnits: 2, requests: 2 });
    assert.deepEqual(b.meter.ofKey("k2").collections, { docs: { readUnits: 3, writeUnits: 0, requests: 1 } });
    await b.usage.close();
  });

  it("units of a month that ended and of the new one: totals keep both, the period only the new month's", async () => {
    const coordinator = new LocalCoordinator();
    let now = Date.UTC(2026, 10, 30, 23, 59);
    const meter = await UsageMeter.open(null, { now: () => now });
    const usage = new ClusterUsage(coordinator, meter, { flushMs: 60_000, now: () => now });
    usage.start();
    meter.record("k3", "docs", { readUnits: 5, writeUnits: 0 });
    const flushing = usage.flush(); // in flight while the month turns
    now = Date.UTC(2026, 11, 1, 0, 1);
    meter.record("k3", "docs", { readUnits: 2, writeUnits: 1 });
    await flushing;
    await usage.close();
    const stored = JSON.parse((await coordinator.get(`${USAGE_PREFIX}k3`))?.value ?? "null");
    assert.deepEqual(stored.total, { readUnits: 7, writeUnits: 1, requests: 2 });
    assert.equal(stored.month, "2026-12");
    assert.deepEqual(stored.period, { readUnits: 2, writeUnits: 1, requests: 1 });
    assert.deepEqual(meter.ofKey("k3").total, stored.total);
  });
});
