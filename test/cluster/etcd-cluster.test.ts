/**
 * The fault harness's etcd cluster itself: three members elect a leader; the leader killed with
 * kill -9, the other two elect another and an EtcdCoordinator given all three endpoints keeps
 * committing; the killed member restarted rejoins. In network namespaces, the leader cut off from its
 * peers by blackhole routes loses the leadership to them and rejoins when healed. And a test that
 * fails with a cluster running leaves no etcd process, data folder or namespace behind.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { after, it } from "node:test";
import { EtcdCoordinator } from "../../src/cluster/etcd/etcd-coordinator.js";
import { isQuiverError } from "../../src/core/errors/errors.js";
import { EtcdCluster, etcdProcessesUnder } from "./harness/etcd-cluster.js";
import { harnessNetworks } from "./harness/netns.js";
import { stopAllProcesses } from "./harness/node-process.js";

after(stopAllProcesses);

const entry = (epoch: number, n: number) => ({ objectKey: `b/${n}`, sha256: "0".repeat(64), count: 1, epoch });

/** Retries through UNAVAILABLE (an election, a dead member) for up to `ms`. */
async function eventually<T>(call: () => Promise<T>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!isQuiverError(error, "UNAVAILABLE") || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function statusOf(endpoint: string): Promise<{ leader: string; header: { member_id: string } }> {
  const res = await fetch(`${endpoint}/v3/maintenance/status`, { method: "POST", body: "{}" });
  return (await res.json()) as { leader: string; header: { member_id: string } };
}

async function until(condition: () => Promise<boolean>, failure: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    assert.ok(Date.now() < deadline, failure);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it("three members elect a leader; it killed, the others elect another and commits go on; restarted, it rejoins", async () => {
  const cluster = await EtcdCluster.start();
  const coordinator = new EtcdCoordinator({ endpoints: cluster.endpoints, prefix: randomUUID(), callTimeoutMs: 1000 });
  try {
    const log = "shards/c/0";
    const lease = await coordinator.acquire(log, "node-a", 30_000);
    assert.ok(lease);
    for (let n = 1; n <= 3; n++) await coordinator.append(log, n - 1, entry(lease.epoch, n));

    const leader = await cluster.leader();
    await cluster.kill(leader);
    const next = await cluster.leader(15_000, leader);
    assert.notEqual(next, leader);
    // The append may reach etcd and lose its answer (UNAVAILABLE): then the head says it committed.
    await eventually(async () => {
      const head = await coordinator.head(log);
      if (head === 3) await coordinator.append(log, 3, entry(lease.epoch, 4));
    });
    assert.equal(await coordinator.head(log), 4);

    await cluster.restart(leader);
    await cluster.leader();
    const statuses = await Promise.all(
      cluster.members.map((m) => fetch(`${m.endpoint}/health`).then((r) => r.json() as Promise<{ health: string }>)),
    );
    assert.deepEqual(
      statuses.map((s) => s.health),
      ["true", "true", "true"],
    );
    assert.deepEqual(
      (await coordinator.read(log, 1)).map((e) => e.seq),
      [1, 2, 3, 4],
    );
  } finally {
    coordinator.close();
    await cluster.stop();
  }
});

it("in network namespaces, the leader cut off from its peers loses the leadership; healed, it rejoins", async () => {
  const cluster = await EtcdCluster.start({ network: "namespaces" });
  const coordinator = new EtcdCoordinator({ endpoints: cluster.endpoints, prefix: randomUUID(), callTimeoutMs: 1000 });
  try {
    assert.ok(
      cluster.endpoints.every((e) => !e.includes("127.0.0.1")),
      "members are not on loopback",
    );
    const leader = await cluster.leader();
    await cluster.cutOff(leader);
    const next = await cluster.leader(20_000, leader);
    assert.notEqual(next, leader);
    // The isolated member still answers the test (only its peers are cut); lacking a quorum, it
    // steps down (etcd's check-quorum) within an election timeout or so.
    const self = (await statusOf(leader.endpoint)).header.member_id;
    await until(async () => (await statusOf(leader.endpoint)).leader !== self, "the isolated member still leads");
    await eventually(() => coordinator.put(`k-${randomUUID()}`, "v", 0));

    await cluster.heal();
    await until(async () => {
      const { leader: seen } = await statusOf(leader.endpoint);
      return seen !== "0" && seen !== self;
    }, "the healed member did not rejoin a leader");
  } finally {
    coordinator.close();
    await cluster.stop();
  }
  const { namespaces, bridges } = await harnessNetworks();
  const mine = (name: string) => name.includes(`${process.pid}x`);
  assert.deepEqual([...namespaces, ...bridges].filter(mine), [], "namespaces or bridge left after stop()");
});

it("a test that fails with a cluster running leaves no etcd process, data folder or namespace behind", async () => {
  const child = fileURLToPath(new URL("./harness/failing-cluster-test.js", import.meta.url));
  const run = spawnSync(process.execPath, ["--test", "--test-reporter=tap", child], {
    encoding: "utf8",
    timeout: 60_000,
    // Without this the child runner would report to ours (as a subtest) instead of exiting non-zero.
    env: { ...process.env, NODE_TEST_CONTEXT: undefined },
  });
  assert.notEqual(run.status, 0, "the deliberately failing test passed");
  const started = run.stdout.match(/started (\S+) (\S+) pids ([\d,]+)/);
  assert.ok(started, `the failing test did not report its cluster: ${run.stdout} ${run.stderr}`);
  const [, dataRoot, namespacePrefix, pids] = started;
  assert.equal(pids.split(",").length, 3);
  assert.deepEqual(await etcdProcessesUnder(dataRoot), [], "etcd members outlived the failed test");
  assert.equal(existsSync(dataRoot), false, "the data folder outlived the failed test");
  const { namespaces } = await harnessNetworks();
  assert.deepEqual(
    namespaces.filter((n) => n.startsWith(namespacePrefix)),
    [],
    "namespaces outlived the failed test",
  );
});
