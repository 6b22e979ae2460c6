/**
 * etcd going away under the coordinator: with its only member killed (kill -9), CommitLog, Lease and
 * Catalog calls fail with UNAVAILABLE within their time limit instead of hanging; once the member is
 * restarted on its data, the same calls succeed, nothing committed is lost, and a follower that was
 * watching through the outage catches up with what is appended afterwards.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, it } from "node:test";
import { followLog } from "../../src/cluster/commit-log.js";
import { EtcdCoordinator } from "../../src/cluster/etcd/etcd-coordinator.js";
import { isQuiverError } from "../../src/core/errors/errors.js";
import { EtcdMember } from "../support/cluster-services.js";

let etcd: EtcdMember;
let coordinator: EtcdCoordinator;
before(async () => {
  etcd = await EtcdMember.start();
  coordinator = new EtcdCoordinator({
    endpoints: [etcd.endpoint],
    prefix: `faults-${randomUUID()}`,
    callTimeoutMs: 500,
  });
});
after(async () => {
  coordinator.close();
  await etcd.stop();
});

const entry = (epoch: number, n: number) => ({ objectKey: `b/${n}`, sha256: "0".repeat(64), count: 1, epoch });

/** Retries `call` until it succeeds (the client's circuit breaker may hold a few seconds after an outage). */
async function eventually<T>(call: () => Promise<T>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!isQuiverError(error, "UNAVAILABLE") || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

it("a killed etcd member makes every call UNAVAILABLE; after its restart they succeed and the log is whole", async () => {
  const log = "shards/c/0";
  const lease = await coordinator.acquire(log, "node-a", 30_000);
  assert.ok(lease);
  for (let n = 1; n <= 3; n++) await coordinator.append(log, n - 1, entry(lease.epoch, n));
  const seen: number[] = [];
  const follower = await followLog(coordinator, log, 0, async (e) => {
    seen.push(e.seq);
  });
  await follower.waitFor(3);

  await etcd.kill();
  const calls: [string, () => Promise<unknown>][] = [
    ["append", () => coordinator.append(log, 3, entry(lease.epoch, 4))],
    ["head", () => coordinator.head(log)],
    ["read", () => coordinator.read(log, 1)],
    ["renew", () => lease.renew()],
    ["acquire", () => coordinator.acquire("shards/c/1", "node-a", 30_000)],
    ["catalog put", () => coordinator.put("collections/c", "{}", 0)],
  ];
  for (const [name, call] of calls) {
    const started = Date.now();
    await assert.rejects(call(), (e) => {
      assert.ok(isQuiverError(e, "UNAVAILABLE"), `${name}: expected UNAVAILABLE, got ${String(e)}`);
      return true;
    });
    assert.ok(Date.now() - started < 10_000, `${name} took ${Date.now() - started} ms to fail`);
  }

  await etcd.restart();
  // The append during the outage never reached etcd (the member was dead), so the head is still 3.
  assert.equal(await eventually(() => coordinator.head(log)), 3);
  await eventually(() => lease.renew());
  assert.deepEqual(await eventually(() => coordinator.append(log, 3, entry(lease.epoch, 4))), {
    committed: true,
    seq: 4,
  });
  assert.equal(await coordinator.put("collections/c", "{}", 0), true);
  // Polled, not waitFor(): waitFor itself would read the log, and this checks the watch came back.
  const deadline = Date.now() + 20_000;
  while (follower.applied < 4) {
    assert.ok(Date.now() < deadline, `the follower's watch did not deliver seq 4 (applied ${follower.applied})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.deepEqual(seen, [1, 2, 3, 4]);
  await follower.close();
  await lease.release();
});
