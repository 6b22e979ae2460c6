/**
 * Reads of disk-cached segments while the object store is down, on real `quiver serve --cluster`
 * processes: n1, n2, n3 write and compact (roles writer and indexer, over a 3-member etcd cluster and
 * s3rver; compacting by records, `--compact-after-records=12`, batches being too many to count); the one query node, q1, loads every shard from its manifest
 * through its disk cache (`--cache-dir`), so every read goes through a replica opened from sealed
 * segments and graphs. Each trial: clients write until every shard's log is compacted through its head;
 * q1 is started again (kill -9, then the same cache folder) and serves every shard from the new
 * manifests; s3rver is stopped; then, with the store down:
 * - the checker's whole invariant through a random node (every acknowledged upsert exact, no
 *   acknowledged delete undone, the count, exact top 10 equal to a brute-force scan) answers;
 * - in the long trials q1 is killed (kill -9) and started again: it opens every shard from its disk
 *   cache alone (the folder gains no file) and the invariant holds again;
 * - clients write: a short outage (3 s) is within a node's write deadline, so no write fails; a long
 *   one outlasts it and writes fail with 503 UNAVAILABLE naming the shard;
 * then s3rver is started again, the writes are acknowledged, and the checker passes: 0 losses.
 * 2 trials here (one short, one long), 20 under QUIVER_LONG=1.
 */
import assert from "node:assert/strict";
import { readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { referencedKeys } from "../../src/cluster/shard-manifest.js";
import { LEASE_MS, NodeTally, checkTrial, sleep, useNodeCluster } from "./harness/node-cluster.js";

const TRIALS = process.env.QUIVER_LONG === "1" ? 20 : 2;
const COMPACT_AFTER_RECORDS = 12;
/** A node's write deadline (router.ts: three lease periods + 5 s). */
const WRITE_DEADLINE_MS = LEASE_MS * 3 + 5000;
const SHORT_OUTAGE_MS = 3000;
const LONG_OUTAGE_MS = WRITE_DEADLINE_MS + 5000;
const QUERY_NODE = "q1";

/** q1's disk cache (the node creates it); named after this process, removed after the test. */
const cacheDir = join(tmpdir(), `quiver-node-cache-${process.pid}`);
const queryFlags = [`--cache-dir=${cacheDir}`];
const fixture = useNodeCluster({
  roles: "writer,indexer",
  flags: ["--compact-after=1000", `--compact-after-records=${COMPACT_AFTER_RECORDS}`],
  more: [{ id: QUERY_NODE, roles: "query", flags: queryFlags }],
});
after(() => rm(cacheDir, { recursive: true, force: true }));

const cachedFiles = async (): Promise<Set<string>> => new Set(await readdir(cacheDir).catch(() => []));

/** Whether `ok` holds within `timeoutMs` (polled). */
async function within(timeoutMs: number, ok: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

async function until(what: string, ok: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  if (!(await within(timeoutMs, ok))) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * Writes until every shard's log holds more than COMPACT_AFTER_RECORDS records past its manifest, stops, and
 * waits for the indexers to fold every log through its head. A compaction that started before the
 * last writes leaves a tail too short to compact again: then it writes more.
 */
async function writeAndCompactThroughHeads(): Promise<void> {
  const { cluster, workload } = fixture;
  for (;;) {
    workload.start();
    await until("every shard's log to need a compaction", async () =>
      (await cluster.shards()).every((s) => s.records > COMPACT_AFTER_RECORDS),
    );
    await workload.stop();
    const folded = async () => (await cluster.shards()).every((s) => s.manifest.appliedThrough === s.head);
    if (await within(10_000, folded)) return;
  }
}

/** (Re)starts q1 on its cache folder and waits until it serves every shard. */
async function startQueryNode(): Promise<void> {
  const { cluster } = fixture;
  await cluster.kill9(QUERY_NODE);
  await cluster.restart(QUERY_NODE, "query", queryFlags);
  await until(`${QUERY_NODE} to serve every shard`, async () => (await cluster.servedBy(QUERY_NODE)).length === 3);
}

it(`s3rver stopped: a query node loaded from manifests through its disk cache answers exactly, restarts from its cache alone; writes wait out ${SHORT_OUTAGE_MS / 1000} s, fail with 503 in ${LONG_OUTAGE_MS / 1000} s, then succeed (${TRIALS} trials)`, async () => {
  const { cluster, workload, s3 } = fixture;
  const tally = new NodeTally("object store down, reads from disk-cached segments", workload);
  let failedDuring = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    const long = trial % 2 === 1;
    const label = `cached reads, trial ${trial}`;
    // Every log folded through its head, so a replica opened from the manifests needs no batch object.
    await writeAndCompactThroughHeads();
    const manifests = (await cluster.shards()).map((s) => s.manifest);
    tally.note(
      "segments the query node loaded (summed)",
      manifests.reduce((n, m) => n + m.segments.length, 0),
    );
    await startQueryNode();
    const cached = await cachedFiles();
    const sealed = manifests.flatMap((m) =>
      m.segments.flatMap((s) => (s.graphSha256 ? [s.sha256, s.graphSha256] : [s.sha256])),
    );
    for (const sha of sealed) assert.ok(cached.has(`${sha}.obj`), `${label}: ${sha} is not in q1's disk cache`);
    assert.ok(
      manifests.every((m) => referencedKeys(m).length > 0),
      `${label}: every shard has segments`,
    );

    await s3.halt();
    const haltedAt = Date.now();
    const bodiesAt = workload.failureBodies.length;
    const seed = (n: number) => trial * 10 + n;
    assert.deepEqual(
      await workload.check(cluster.pick(), seed(1)),
      { problems: [], losses: 0 },
      `${label}: store down`,
    );
    tally.note("checks answered with the store down", 1);
    if (long) {
      await startQueryNode();
      assert.deepEqual(await cachedFiles(), cached, `${label}: q1 opened from its cache alone`);
      const again = await workload.check(cluster.pick(), seed(2));
      assert.deepEqual(again, { problems: [], losses: 0 }, `${label}: q1 restarted with the store down`);
      tally.note("checks answered with the store down", 1);
      tally.note("query-node restarts from the disk cache alone", 1);
    }
    const acknowledgedAtHalt = workload.acknowledged;
    workload.start();
    await sleep(Math.max(0, (long ? LONG_OUTAGE_MS : SHORT_OUTAGE_MS) - (Date.now() - haltedAt)));
    await s3.restart();
    await sleep(1000);
    const losses = await checkTrial(cluster, workload, label);
    const failures = workload.failureBodies.slice(bodiesAt);
    if (long) assert.ok(failures.length > 0, `${label}: no write failed in a ${LONG_OUTAGE_MS} ms outage`);
    else assert.deepEqual(failures, [], `${label}: writes failed in a ${SHORT_OUTAGE_MS} ms outage`);
    for (const f of failures) assert.match(f, /^503 .*UNAVAILABLE.*shard \d/, label);
    assert.ok(workload.acknowledged > acknowledgedAtHalt, `${label}: writes acknowledged after the outage`);
    failedDuring += failures.length;
    tally.add(losses);
  }
  tally.note("writes failed (503) during the long outages", failedDuring);
  tally.print();
  assert.equal(tally.losses, 0);
});
