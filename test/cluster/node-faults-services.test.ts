/**
 * Faults of the services under real `quiver serve --cluster` processes (3 nodes, 3 shards, 2 s
 * leases), while clients write through random nodes (harness/node-cluster.ts):
 * - the etcd leader killed (kill -9) during the workload, restarted on its data after a moment;
 * - s3rver stopped for 3 s: exact queries go on answering from the loaded replicas, writes fail with
 *   503 UNAVAILABLE, and they are acknowledged again once it is back.
 * After every trial the checker's invariant through a random node: 0 losses. 2 trials of each here,
 * 20 under QUIVER_LONG=1.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { randomVector, rng } from "../support/brute.js";
import { S3Stand } from "../support/cluster-services.js";
import { EtcdCluster } from "./harness/etcd-cluster.js";
import { NodeCluster, NodeTally, Workload, call, sleep } from "./harness/node-cluster.js";

const TRIALS = process.env.QUIVER_LONG === "1" ? 20 : 2;
const OUTAGE_MS = 3000;

let etcd: EtcdCluster;
let s3: S3Stand;
let cluster: NodeCluster;
let workload: Workload;
before(async () => {
  [etcd, s3] = await Promise.all([EtcdCluster.start(), S3Stand.start()]);
  cluster = await NodeCluster.start(etcd, s3);
  workload = new Workload(cluster);
});
after(async () => {
  await cluster?.stop();
  await Promise.all([etcd?.stop(), s3?.stop()]);
});

async function checkTrial(fault: string, trial: number): Promise<number> {
  await workload.stop();
  assert.deepEqual(await cluster.logProblems(), [], `${fault}, trial ${trial}: the shards' logs`);
  const { problems, losses } = await workload.check(cluster.pick(), trial);
  assert.deepEqual(problems, [], `${fault}, trial ${trial}`);
  return losses;
}

it(`the etcd leader killed during the workload, restarted after 1.5 s (${TRIALS} trials)`, async () => {
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
    const losses = await checkTrial("etcd leader kill", trial);
    assert.ok(workload.acknowledged > acknowledgedAtKill, `trial ${trial}: writes acknowledged after the kill`);
    tally.add(losses);
  }
  tally.note("failed attempts retried", workload.failed - failedBefore);
  tally.print();
  assert.equal(tally.losses, 0);
});

it(`s3rver stopped for ${OUTAGE_MS / 1000} s: reads go on, writes fail with 503 UNAVAILABLE, then succeed (${TRIALS} trials)`, async () => {
  const tally = new NodeTally("object store down 3 s", workload);
  let failedDuring = 0;
  let queriesDuring = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    workload.start();
    await sleep(500);
    await workload.stop();
    await s3.halt();
    const haltedAt = Date.now();
    const bodiesAt = workload.failureBodies.length;
    // The replicas are loaded: exact queries answer the acknowledged state without the store.
    const random = rng(trial);
    for (let q = 0; q < 3; q++) {
      const vector = randomVector(random, 8);
      const r = await call(cluster.pick().url, "/v1/collections/docs/query", { vector, limit: 10, exact: true });
      assert.equal(r.status, 200, `trial ${trial}: a query during the outage: ${JSON.stringify(r.json)}`);
      const hits = (r.json.hits as { id: string }[]).map((h) => h.id);
      assert.deepEqual(hits, workload.expectedTopK(vector), `trial ${trial}: a query during the outage`);
      queriesDuring++;
    }
    const acknowledgedAtHalt = workload.acknowledged;
    workload.start();
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - haltedAt)));
    const failures = workload.failureBodies.slice(bodiesAt);
    await s3.restart();
    await sleep(1000);
    const losses = await checkTrial("object store outage", trial);
    assert.ok(failures.length > 0, `trial ${trial}: no write failed while the store was down`);
    for (const f of failures) assert.match(f, /^503 .*UNAVAILABLE/, `trial ${trial}`);
    assert.ok(workload.acknowledged > acknowledgedAtHalt, `trial ${trial}: writes acknowledged after the outage`);
    failedDuring += failures.length;
    tally.add(losses);
  }
  tally.note("writes failed (503) during the outages", failedDuring);
  tally.note("exact queries answered during the outages", queriesDuring);
  tally.print();
  assert.equal(tally.losses, 0);
});
