/**
 * Fault: the object store (s3rver) stopped for a few seconds while a ShardWriter process streams
 * writes. Writes fail cleanly (UNAVAILABLE: the batch could not be PUT, so nothing was committed)
 * and succeed again once it is back; a follower that followed through the outage catches up; the
 * checker replays the acknowledged history: 0 losses. 2 trials here, 20 under QUIVER_LONG=1.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { S3Stand } from "../support/cluster-services.js";
import { EtcdCluster } from "./harness/etcd-cluster.js";
import { stopAllProcesses } from "./harness/node-process.js";
import { ShardTrial, countLines, waitForLines } from "./harness/shard-trial.js";
import { Tally } from "./harness/tally.js";

const TRIALS = process.env.QUIVER_LONG === "1" ? 20 : 2;
const OUTAGE_MS = 3000;

let cluster: EtcdCluster;
let s3: S3Stand;
before(async () => {
  [cluster, s3] = await Promise.all([EtcdCluster.start(), S3Stand.start()]);
});
after(async () => {
  await stopAllProcesses();
  await Promise.all([cluster?.stop(), s3?.stop()]);
});

it(`the object store down for ${OUTAGE_MS / 1000} s during writes: failures are UNAVAILABLE, writes resume, nothing acknowledged is lost (${TRIALS} trials)`, async () => {
  const tally = new Tally("object store outage");
  for (let trial = 0; trial < TRIALS; trial++) {
    const shard = new ShardTrial(cluster.endpoints, s3);
    try {
      await shard.follow();
      const writer = shard.startWriter("a");
      await waitForLines(writer, /^ack /, 3 + (trial % 3), 30_000);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 200));
      await s3.halt();
      const haltedAt = writer.lines.length;
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
      await s3.restart();
      const restartedAt = writer.lines.length;
      await waitForLines(writer, /^ack /, 3, 30_000, restartedAt);

      const during = writer.lines.slice(haltedAt, restartedAt);
      const failures = during.filter((l) => l.startsWith("fail "));
      assert.ok(failures.length > 0, `trial ${trial}: no write failed while the store was down`);
      for (const f of writer.lines.slice(haltedAt).filter((l) => l.startsWith("fail ")))
        assert.match(f, /^fail \d+ UNAVAILABLE /, `trial ${trial}`);
      // Only a batch PUT before the halt can be acknowledged while the store is down.
      assert.ok(countLines(writer, /^ack /, haltedAt) - countLines(writer, /^ack /, restartedAt) <= 1);
      tally.note("writes failed during the outage", failures.length);
      tally.add(trial, await shard.check(trial));
    } finally {
      await shard.close();
    }
  }
  tally.print();
});
