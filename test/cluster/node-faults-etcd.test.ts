/**
 * The etcd leader killed (kill -9) under real `quiver serve --cluster` processes (3 nodes, 3 shards,
 * 2 s leases, over a 3-member etcd cluster and s3rver) while clients write through random nodes
 * (harness/node-cluster.ts); a new leader is elected, the killed member restarted on its data. Writes
 * are acknowledged again after the election; after every trial the checker's invariant through a
 * random node and the shards' logs in etcd (seqs without gaps, epochs never going back): 0 losses.
 * 2 trials here, 20 under QUIVER_LONG=1.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { NodeTally, checkTrial, sleep, useNodeCluster } from "./harness/node-cluster.js";

const TRIALS = process.env.QUIVER_LONG === "1" ? 20 : 2;

const fixture = useNodeCluster();

it(`the etcd leader killed during the workload, restarted after 1.5 s (${TRIALS} trials)`, async () => {
  const { cluster, workload, etcd } = fixture;
  const tally = new NodeTally("etcd leader kill -9", workload);
  const failedBefore = workload.failed;
  for (let trial = 0; trial < TRIALS; trial++) {
    workload.start();
    await sleep(200 + Math.random() * 800);
    const leader = await etcd.leader();
    await etcd.kill(leader);
    const acknowledgedAtKill = workload.acknowledged;
    await etcd.leader(15_000, leader);
    await sleep(1500);
    await etcd.restart(leader);
    await sleep(500);
    const losses = await checkTrial(cluster, workload, `etcd leader kill, trial ${trial}`);
    assert.ok(workload.acknowledged > acknowledgedAtKill, `trial ${trial}: writes acknowledged after the kill`);
    tally.add(losses);
  }
  tally.note("failed attempts retried", workload.failed - failedBefore);
  tally.print();
  assert.equal(tally.losses, 0);
});
