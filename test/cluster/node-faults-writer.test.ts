/**
 * Faults of the node that writes a shard, on real `quiver serve --cluster` processes (3 nodes, 3
 * shards, 2 s leases) over a 3-member etcd cluster and s3rver, while clients write through random
 * nodes (harness/node-cluster.ts):
 * - kill -9 of a shard's writer at a random point: the shard moves to a higher epoch, the clients'
 *   retried writes are acknowledged by the new writer; the killed node is started again;
 * - SIGSTOP of a shard's writer past its lease: another node takes the shard; SIGCONT: the log's
 *   epochs never go back (its late commits are fenced) and nothing it acknowledged is lost.
 * After every trial the checker's invariant through a random node: 0 losses. 2 trials of each here,
 * 20 under QUIVER_LONG=1.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { LEASE_MS, checkTrial, NodeTally, sleep, useNodeCluster } from "./harness/node-cluster.js";

const TRIALS = process.env.QUIVER_LONG === "1" ? 20 : 2;

const fixture = useNodeCluster();

it(`kill -9 of a shard's writer node at a random point under writes (${TRIALS} trials)`, async () => {
  const { cluster, workload } = fixture;
  const tally = new NodeTally("writer node kill -9", workload);
  for (let trial = 0; trial < TRIALS; trial++) {
    const shard = trial % 3;
    const before = await cluster.ownerOtherThan(shard, "");
    workload.start();
    await sleep(200 + Math.random() * 800);
    const acknowledgedAtKill = workload.acknowledged;
    const killedAt = Date.now();
    await cluster.kill9(before.holder);
    const after = await cluster.ownerOtherThan(shard, before.holder);
    assert.ok(after.epoch > before.epoch, `trial ${trial}: epoch ${before.epoch} -> ${after.epoch}`);
    tally.note("ms to the new writer (summed)", Date.now() - killedAt);
    await sleep(500);
    await cluster.restart(before.holder);
    await sleep(300);
    const losses = await checkTrial(cluster, workload, `writer kill -9, trial ${trial}`);
    assert.ok(workload.acknowledged > acknowledgedAtKill, `trial ${trial}: writes acknowledged after the kill`);
    tally.add(losses);
  }
  tally.note("failed attempts retried", workload.failed);
  tally.print();
  assert.equal(tally.losses, 0);
});

it(`SIGSTOP of a shard's writer node past its lease, SIGCONT after another took the shard (${TRIALS} trials)`, async () => {
  const { cluster, workload } = fixture;
  const tally = new NodeTally("writer node SIGSTOP past its lease", workload);
  for (let trial = 0; trial < TRIALS; trial++) {
    const shard = (trial + 1) % 3;
    const before = await cluster.ownerOtherThan(shard, "");
    workload.start();
    await sleep(200 + Math.random() * 800);
    cluster.pause(before.holder);
    const after = await cluster.ownerOtherThan(shard, before.holder);
    assert.ok(after.epoch > before.epoch, `trial ${trial}: epoch ${before.epoch} -> ${after.epoch}`);
    const acknowledgedAtMove = workload.acknowledged;
    await sleep(LEASE_MS / 2);
    cluster.resume(before.holder);
    // The resumed node's pending commits run now, under its stale epoch: they must be fenced.
    await sleep(LEASE_MS);
    const losses = await checkTrial(cluster, workload, `writer SIGSTOP, trial ${trial}`);
    assert.ok(workload.acknowledged > acknowledgedAtMove, `trial ${trial}: writes acknowledged after the move`);
    // Writes forwarded to the paused node while it still held the lease wait in its sockets; on
    // SIGCONT it commits them under its old epoch: fenced, their batch objects left out of the log.
    tally.note("late commits fenced", await cluster.unloggedBatches(shard, before.epoch));
    tally.add(losses);
  }
  tally.print();
  assert.equal(tally.losses, 0);
});
