/**
 * Fault: the etcd leader killed (kill -9) while a ShardWriter process streams writes to a 3-member
 * cluster. Writes during the election fail cleanly (UNAVAILABLE, nothing else) and succeed again
 * after it; the killed member is restarted and rejoins. Then the checker replays the acknowledged
 * history against the log and against a follower that followed through the fault: 0 losses.
 * 2 trials here, 20 under QUIVER_LONG=1.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { S3Stand } from "../support/cluster-services.js";
import { EtcdCluster } from "./harness/etcd-cluster.js";
import { stopAllProcesses } from "./harness/node-process.js";
import { ShardTrial, countLines, waitForLines } from "./harness/shard-trial.js";
import { Tally } from "./harness/tally.js";

const TRIALS = process.env.QUIVER_LONG === "1" ? 20 : 2;

let cluster: EtcdCluster;
let s3: S3Stand;
before(async () => {
  [cluster, s3] = await Promise.all([EtcdCluster.start(), S3Stand.start()]);
});
after(async () => {
  await stopAllProcesses();
  await Promise.all([cluster?.stop(), s3?.stop()]);
});

it(`the etcd leader killed during writes: failures are UNAVAILABLE, writes resume, nothing acknowledged is lost (${TRIALS} trials)`, async () => {
  const tally = new Tally("etcd leader kill -9");
  for (let trial = 0; trial < TRIALS; trial++) {
    const shard = new ShardTrial(cluster.endpoints, s3);
    try {
      await shard.follow();
      const writer = shard.startWriter("a");
      await waitForLines(writer, /^ack /, 3 + (trial % 3), 30_000);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 200));
      const leader = await cluster.leader();
      const killedAt = writer.lines.length;
      await cluster.kill(leader);
      await waitForLines(writer, /^ack /, 3, 30_000, killedAt);
      const failures = writer.lines.slice(killedAt).filter((l) => l.startsWith("fail "));
      for (const f of failures) assert.match(f, /^fail \d+ UNAVAILABLE /, `trial ${trial}`);
      tally.note("writes failed during the election", failures.length);
      await cluster.restart(leader);
      await cluster.leader();
      const rejoinedAt = writer.lines.length;
      await waitForLines(writer, /^ack /, 2, 30_000, rejoinedAt);
      assert.ok(countLines(writer, /^ack /) >= 8);
      tally.add(trial, await shard.check(trial));
    } finally {
      await shard.close();
    }
  }
  tally.print();
});
