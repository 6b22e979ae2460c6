/**
 * kill -9 of a query node while exact queries run, on real `quiver serve --cluster` processes: three
 * nodes of every role plus `q4` (query role only, which ranks among the replicas of some shards) over
 * a 3-member etcd cluster and s3rver. Clients query through n1-n3 with read-your-writes seqs; q4 is
 * killed at a random point. Every answer must be the brute-force top 10 of the acknowledged state;
 * a query that fails is retried once on another node, and after that retry it must have succeeded
 * (a 503 naming the shard is the only failure allowed, when no replica is left; with 2 replicas one
 * always is). Then the checker's invariant. 2 trials here, 20 under QUIVER_LONG=1.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { randomVector, rng } from "../support/brute.js";
import { LEASE_MS, NODE_IDS, NodeTally, call, sleep, useNodeCluster } from "./harness/node-cluster.js";

const TRIALS = process.env.QUIVER_LONG === "1" ? 20 : 2;

const fixture = useNodeCluster();

interface QueryTally {
  queries: number;
  retried: number;
  failedAfterRetry: string[];
  wrong: string[];
}

/** Exact queries through n1-n3 until `stop()` says so; each failure retried once on another node. */
async function queryLoop(seed: number, stop: () => boolean, tally: QueryTally): Promise<void> {
  const { cluster, workload } = fixture;
  const random = rng(seed);
  while (!stop()) {
    const vector = randomVector(random, 8);
    const body = { vector, limit: 10, exact: true };
    const first = NODE_IDS[Math.floor(random() * 3)];
    let r = await call(cluster.node(first).url, "/v1/collections/docs/query", body, workload.readHeaders);
    if (r.status !== 200) {
      tally.retried++;
      const other = NODE_IDS.filter((id) => id !== first)[Math.floor(random() * 2)];
      r = await call(cluster.node(other).url, "/v1/collections/docs/query", body, workload.readHeaders);
    }
    tally.queries++;
    if (r.status === 200) {
      const got = (r.json.hits as { id: string }[]).map((h) => h.id);
      const want = workload.expectedTopK(vector);
      if (JSON.stringify(got) !== JSON.stringify(want)) tally.wrong.push(`${got} instead of ${want}`);
    } else if (!(r.status === 503 && /shard/.test(JSON.stringify(r.json))))
      tally.failedAfterRetry.push(`${r.status} ${JSON.stringify(r.json)}`);
  }
}

it(`kill -9 of a query node while exact queries run through the others (${TRIALS} trials)`, async () => {
  const { cluster, workload } = fixture;
  const tally = new NodeTally("query node kill -9", workload);
  const queries: QueryTally = { queries: 0, retried: 0, failedAfterRetry: [], wrong: [] };
  for (let trial = 0; trial < TRIALS; trial++) {
    await cluster.restart("q4", "query");
    workload.start();
    await sleep(1000);
    await workload.stop();
    // q4 takes the shards it ranks first for once it has caught up (within a lease period or so).
    const deadline = Date.now() + LEASE_MS * 4;
    while ((await cluster.servedBy("q4")).length === 0) {
      assert.ok(Date.now() < deadline, `trial ${trial}: q4 serves no shard`);
      await sleep(100);
    }
    let stopped = false;
    const loops = [0, 1].map((l) => queryLoop(trial * 10 + l, () => stopped, queries));
    await sleep(200 + Math.random() * 800);
    await cluster.kill9("q4");
    await sleep(LEASE_MS * 1.5);
    stopped = true;
    await Promise.all(loops);
    assert.deepEqual(queries.wrong, [], `trial ${trial}: wrong answers`);
    assert.deepEqual(queries.failedAfterRetry, [], `trial ${trial}: failed queries`);
    const { problems, losses } = await workload.check(cluster.pick(), trial);
    assert.deepEqual(problems, [], `trial ${trial}`);
    tally.add(losses);
  }
  tally.note("exact queries answered right", queries.queries);
  tally.note("retried on another node", queries.retried);
  tally.print();
  assert.ok(queries.queries > TRIALS * 10, `${queries.queries} queries`);
  assert.equal(tally.losses, 0);
});
