/**
 * The behaviour every coordinator (CommitLog + Lease + Catalog) must show, process-local and on etcd,
 * as one node:test suite each implementation's test file runs against its own factory. Time is the
 * factory's: the local one moves a fake clock, etcd's really waits.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Catalog } from "../../src/cluster/catalog.js";
import { type CommitLog, type LogEntry, LogTrimmed, followLog } from "../../src/cluster/commit-log.js";
import type { LeaseService } from "../../src/cluster/lease.js";
import { isQuiverError } from "../../src/core/errors/errors.js";

export type Coordinator = CommitLog & LeaseService & Catalog;

export interface CoordinatorFixture {
  coordinator: Coordinator;
  /** The lease time to live the tests ask for (etcd rounds it up to whole seconds, at least its minimum). */
  ttlMs: number;
  /** Lets `ms` of lease time pass. */
  passTime(ms: number): Promise<void>;
  /** Lets `name`'s current lease expire (without renewal), returning once nobody holds it. */
  expire(name: string): Promise<void>;
}

const entry = (epoch: number, n: number): Omit<LogEntry, "seq"> => ({
  objectKey: `batches/${n}`,
  sha256: String(n).padStart(64, "0"),
  count: n,
  epoch,
});

export function coordinationConformance(name: string, open: () => Promise<CoordinatorFixture>): void {
  describe(`coordination conformance: ${name}`, () => {
    it("Catalog: compare-and-set on versions, listing by prefix in key order", async () => {
      const { coordinator: c } = await open();
      assert.equal(await c.get("collections/a"), null);
      assert.equal(await c.put("collections/a", "v1", 0), true);
      assert.equal(await c.put("collections/a", "lost race", 0), false);
      assert.deepEqual(await c.get("collections/a"), { value: "v1", version: 1 });
      assert.equal(await c.put("collections/a", "v2", 2), false);
      assert.equal(await c.put("collections/a", "v2", 1), true);
      assert.equal(await c.put("collections/b", "b", 0), true);
      assert.equal(await c.put("collectionsX", "other", 0), true);
      assert.deepEqual(await c.list("collections/"), [
        { key: "collections/a", value: "v2", version: 2 },
        { key: "collections/b", value: "b", version: 1 },
      ]);
    });

    it("Lease: one live holder at a time; a release lets the next in with a greater epoch", async () => {
      const { coordinator: c, ttlMs } = await open();
      const a = await c.acquire("shards/c/0", "node-a", ttlMs);
      assert.ok(a);
      assert.equal(await c.acquire("shards/c/0", "node-b", ttlMs), null);
      assert.deepEqual(await c.owner("shards/c/0"), { holder: "node-a", epoch: a.epoch });
      const other = await c.acquire("shards/c/1", "node-b", ttlMs);
      assert.ok(other, "leases of different names are independent");
      await a.release();
      assert.equal(await c.owner("shards/c/0"), null);
      const b = await c.acquire("shards/c/0", "node-b", ttlMs);
      assert.ok(b);
      assert.ok(b.epoch > a.epoch, `epoch ${b.epoch} after ${a.epoch}`);
      await b.release();
      await other.release();
    });

    it("Lease: renewal keeps it past its time to live; without renewal it expires and renew() fails", async () => {
      const { coordinator: c, ttlMs, passTime, expire } = await open();
      const a = await c.acquire("shards/r/0", "node-a", ttlMs);
      assert.ok(a);
      for (let i = 0; i < 3; i++) {
        await passTime(ttlMs * 0.6);
        await a.renew();
      }
      assert.equal((await c.owner("shards/r/0"))?.holder, "node-a");
      await expire("shards/r/0");
      await assert.rejects(a.renew(), (e) => isQuiverError(e, "UNAVAILABLE"));
      const b = await c.acquire("shards/r/0", "node-b", ttlMs);
      assert.ok(b && b.epoch > a.epoch);
      await b.release();
    });

    it("CommitLog: appends in order under the holder's epoch; head, read and limit", async () => {
      const { coordinator: c, ttlMs } = await open();
      const lease = await c.acquire("shards/l/0", "node-a", ttlMs);
      assert.ok(lease);
      assert.equal(await c.head("shards/l/0"), 0);
      for (let n = 1; n <= 5; n++)
        assert.deepEqual(await c.append("shards/l/0", n - 1, entry(lease.epoch, n)), { committed: true, seq: n });
      assert.equal(await c.head("shards/l/0"), 5);
      assert.deepEqual(
        (await c.read("shards/l/0", 1)).map((e) => [e.seq, e.objectKey, e.count, e.epoch]),
        [1, 2, 3, 4, 5].map((n) => [n, `batches/${n}`, n, lease.epoch]),
      );
      assert.deepEqual(
        (await c.read("shards/l/0", 3, 2)).map((e) => e.seq),
        [3, 4],
      );
      assert.deepEqual(await c.read("shards/l/0", 6), []);
      assert.deepEqual(await c.read("shards/l/other", 1), []);
      const stale = await c.append("shards/l/0", 3, entry(lease.epoch, 99));
      assert.deepEqual(stale, { committed: false, reason: "conflict", head: 5, epoch: lease.epoch });
      assert.equal(await c.head("shards/l/0"), 5);
      await lease.release();
    });

    it("CommitLog: trim deletes pointers up to a seq only while the guarding Catalog key is at its version", async () => {
      const { coordinator: c, ttlMs } = await open();
      const lease = await c.acquire("shards/t/0", "node-a", ttlMs);
      assert.ok(lease);
      for (let n = 1; n <= 5; n++) await c.append("shards/t/0", n - 1, entry(lease.epoch, n));
      assert.equal(await c.put("shards/t/0/manifest", "m1", 0), true);
      assert.equal(await c.trim("shards/t/0", 3, { key: "shards/t/0/manifest", version: 0 }), false);
      assert.deepEqual(
        (await c.read("shards/t/0", 1)).map((e) => e.seq),
        [1, 2, 3, 4, 5],
        "a trim guarded by a stale version deletes nothing",
      );
      assert.equal(await c.trim("shards/t/0", 3, { key: "shards/t/0/manifest", version: 1 }), true);
      assert.deepEqual(
        (await c.read("shards/t/0", 1)).map((e) => e.seq),
        [4, 5],
      );
      assert.equal(await c.head("shards/t/0"), 5, "the head stays");
      assert.deepEqual(await c.append("shards/t/0", 5, entry(lease.epoch, 6)), { committed: true, seq: 6 });
      assert.deepEqual(
        (await c.read("shards/t/0", 2, 2)).map((e) => e.seq),
        [4, 5],
      );
      await lease.release();
    });

    it("followLog: entries trimmed before delivery are reported as LogTrimmed, never skipped", async () => {
      const { coordinator: c, ttlMs } = await open();
      const lease = await c.acquire("shards/g/0", "node-a", ttlMs);
      assert.ok(lease);
      for (let n = 1; n <= 4; n++) await c.append("shards/g/0", n - 1, entry(lease.epoch, n));
      assert.equal(await c.trim("shards/g/0", 2, { key: "shards/g/0/manifest", version: 0 }), true);
      const seen: number[] = [];
      let reported: unknown;
      let resolveGap!: () => void;
      const gap = new Promise<void>((resolve) => {
        resolveGap = resolve;
      });
      const follower = await followLog(
        c,
        "shards/g/0",
        0,
        async (e) => {
          seen.push(e.seq);
        },
        (error) => {
          reported = error;
          resolveGap();
        },
      );
      await gap;
      await follower.close();
      assert.ok(reported instanceof LogTrimmed, String(reported));
      assert.equal(reported.firstAvailable, 3);
      assert.deepEqual(seen, []);
      await lease.release();
    });

    it("CommitLog: a log nobody holds takes no append", async () => {
      const { coordinator: c } = await open();
      const result = await c.append("shards/never/0", 0, entry(0, 1));
      assert.equal(result.committed, false);
      assert.equal(result.committed === false && result.reason, "fenced");
      assert.equal(await c.head("shards/never/0"), 0);
    });

    it("fencing: after its lease expired and another took it, the old holder's append is rejected", async () => {
      const { coordinator: c, ttlMs, expire } = await open();
      const zombie = await c.acquire("shards/f/0", "node-a", ttlMs);
      assert.ok(zombie);
      assert.deepEqual(await c.append("shards/f/0", 0, entry(zombie.epoch, 1)), { committed: true, seq: 1 });
      await expire("shards/f/0");
      const successor = await c.acquire("shards/f/0", "node-b", ttlMs);
      assert.ok(successor && successor.epoch > zombie.epoch);
      // The zombie still believes it owns the shard and knows the head: only the epoch stops it.
      assert.deepEqual(await c.append("shards/f/0", 1, entry(zombie.epoch, 2)), {
        committed: false,
        reason: "fenced",
        head: 1,
        epoch: successor.epoch,
      });
      assert.deepEqual(await c.append("shards/f/0", 1, entry(successor.epoch, 2)), { committed: true, seq: 2 });
      assert.deepEqual(
        (await c.read("shards/f/0", 1)).map((e) => [e.seq, e.epoch]),
        [
          [1, zombie.epoch],
          [2, successor.epoch],
        ],
      );
      await successor.release();
    });

    it("a paused holder whose lease expired, with nobody else taking it, still commits (its epoch is current)", async () => {
      const { coordinator: c, ttlMs, expire } = await open();
      const slow = await c.acquire("shards/p/0", "node-a", ttlMs);
      assert.ok(slow);
      await expire("shards/p/0");
      assert.deepEqual(await c.append("shards/p/0", 0, entry(slow.epoch, 1)), { committed: true, seq: 1 });
    });

    it("followLog: every entry, before and after it starts, once, in order; waitFor is read-your-writes", async () => {
      const { coordinator: c, ttlMs } = await open();
      const lease = await c.acquire("shards/w/0", "node-a", ttlMs);
      assert.ok(lease);
      for (let n = 1; n <= 3; n++) await c.append("shards/w/0", n - 1, entry(lease.epoch, n));
      const seen: number[] = [];
      const follower = await followLog(c, "shards/w/0", 1, async (e) => {
        seen.push(e.seq);
      });
      await follower.waitFor(3);
      for (let n = 4; n <= 12; n++) await c.append("shards/w/0", n - 1, entry(lease.epoch, n));
      await follower.waitFor(12);
      assert.deepEqual(seen, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      assert.equal(follower.applied, 12);
      await follower.close();
      await lease.release();
    });
  });
}
