/**
 * s3rver stopped under real `quiver serve --cluster` processes (3 nodes, 3 shards, 2 s leases, over a
 * 3-member etcd cluster) while clients write through random nodes (harness/node-cluster.ts). During
 * the outage exact queries go on answering the acknowledged state from the loaded replicas. A short
 * outage (3 s) is within a node's write deadline (three lease periods + 5 s, during which it retries
 * the shard's writer): writes wait and are acknowledged once the store is back. A long one (16 s)
 * outlasts it: writes fail with 503 UNAVAILABLE naming the shard, and are acknowledged again after.
 * After every trial the checker's invariant: 0 losses. 2 trials here (one of each), 20 under
 * QUIVER_LONG=1.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { randomVector, rng } from "../support/brute.js";
import { LEASE_MS, NodeTally, call, checkTrial, sleep, useNodeCluster } from "./harness/node-cluster.js";

const TRIALS = process.env.QUIVER_LONG === "1" ? 20 : 2;
/** A node's write deadline (router.ts: three lease periods + 5 s). */
const WRITE_DEADLINE_MS = LEASE_MS * 3 + 5000;
const SHORT_OUTAGE_MS = 3000;
/** Past the deadline with a margin: the attempt under way at the deadline may take a few seconds. */
const LONG_OUTAGE_MS = WRITE_DEADLINE_MS + 5000;

const fixture = useNodeCluster();

/** Exact queries through random nodes while the store is down: each the brute-force top 10. */
async function queriesWithoutTheStore(trial: number): Promise<number> {
  const { cluster, workload } = fixture;
  const random = rng(trial);
  for (let q = 0; q < 3; q++) {
    const vector = randomVector(random, 8);
    const r = await call(
      cluster.pick().url,
      "/v1/collections/docs/query",
      { vector, limit: 10, exact: true },
      workload.readHeaders,
    );
    assert.equal(r.status, 200, `trial ${trial}: a query during the outage: ${JSON.stringify(r.json)}`);
    const hits = (r.json.hits as { id: string }[]).map((h) => h.id);
    assert.deepEqual(hits, workload.expectedTopK(vector), `trial ${trial}: a query during the outage`);
  }
  return 3;
}

it(`s3rver stopped: reads go on; writes wait out a ${SHORT_OUTAGE_MS / 1000} s outage, fail with 503 in a ${LONG_OUTAGE_MS / 1000} s one, then succeed (${TRIALS} trials)`, async () => {
  const { cluster, workload, s3 } = fixture;
  const tally = new NodeTally("object store down", workload);
  let failedDuring = 0;
  let queriesDuring = 0;
  const catchUp: number[] = [];
  for (let trial = 0; trial < TRIALS; trial++) {
    const long = trial % 2 === 1;
    workload.start();
    await sleep(500);
    await workload.stop();
    // Once every replica has applied the acknowledged batches, no read needs the store.
    catchUp.push(await cluster.replicasCaughtUp(workload.minSeq));
    await s3.halt();
    const haltedAt = Date.now();
    const bodiesAt = workload.failureBodies.length;
    queriesDuring += await queriesWithoutTheStore(trial);
    const acknowledgedAtHalt = workload.acknowledged;
    workload.start();
    await sleep(Math.max(0, (long ? LONG_OUTAGE_MS : SHORT_OUTAGE_MS) - (Date.now() - haltedAt)));
    await s3.restart();
    await sleep(1000);
    const losses = await checkTrial(cluster, workload, `object store outage, trial ${trial}`);
    // Every failure since the halt (one answered just after the restart was still the outage's).
    const failures = workload.failureBodies.slice(bodiesAt);
    if (long) assert.ok(failures.length > 0, `trial ${trial}: no write failed in a ${LONG_OUTAGE_MS} ms outage`);
    else assert.deepEqual(failures, [], `trial ${trial}: writes failed in a ${SHORT_OUTAGE_MS} ms outage`);
    for (const f of failures) assert.match(f, /^503 .*UNAVAILABLE.*shard \d/, `trial ${trial}`);
    assert.ok(workload.acknowledged > acknowledgedAtHalt, `trial ${trial}: writes acknowledged after the outage`);
    failedDuring += failures.length;
    tally.add(losses);
  }
  tally.note("writes failed (503) during the long outages", failedDuring);
  tally.note("exact queries answered during the outages", queriesDuring);
  tally.note("ms at most for every replica to catch up before an outage", Math.max(...catchUp));
  tally.print();
  assert.equal(tally.losses, 0);
});
