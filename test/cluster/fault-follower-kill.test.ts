/**
 * Fault: a follower process (applying the shard to an embedded database on disk) killed with kill -9
 * at random points mid-apply while a ShardWriter process streams writes, and restarted on the same
 * database: it recovers the database, follows the log again from the start (batches re-applied in
 * log order converge to the same state) and catches up. Its state, opened once it closed cleanly,
 * must be the replay of the acknowledged history: 0 losses. 2 trials of 2 kills each here, 20 under
 * QUIVER_LONG=1.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { open } from "../../src/index.js";
import { S3Stand } from "../support/cluster-services.js";
import { EtcdCluster } from "./harness/etcd-cluster.js";
import { stopAllProcesses } from "./harness/node-process.js";
import { ShardTrial, waitForLines } from "./harness/shard-trial.js";
import { Tally } from "./harness/tally.js";
import { COLLECTION } from "./harness/workload.js";

const TRIALS = process.env.QUIVER_LONG === "1" ? 20 : 2;
const KILLS_PER_TRIAL = 2;

let cluster: EtcdCluster;
let s3: S3Stand;
before(async () => {
  [cluster, s3] = await Promise.all([EtcdCluster.start(), S3Stand.start()]);
});
after(async () => {
  await stopAllProcesses();
  await Promise.all([cluster?.stop(), s3?.stop()]);
});

/** The number captured by `pattern` in the last line matching it (0 when none). */
function lastNumber(lines: readonly string[], pattern: RegExp): number {
  const matching = lines.filter((l) => pattern.test(l));
  return matching.length === 0 ? 0 : Number(matching[matching.length - 1].match(pattern)?.[1]);
}

it(`a follower killed mid-apply and restarted converges to the acknowledged state (${TRIALS} trials)`, async () => {
  const tally = new Tally("follower kill -9");
  for (let trial = 0; trial < TRIALS; trial++) {
    const shard = new ShardTrial(cluster.endpoints, s3);
    const path = await mkdtemp(join(tmpdir(), "quiver-follower-"));
    const follower = shard.followerProcess(join(path, "db"));
    try {
      const writer = shard.startWriter("a");
      await waitForLines(writer, /^ack /, 2, 30_000);
      follower.start();
      for (let kill = 0; kill < KILLS_PER_TRIAL; kill++) {
        const from = follower.lines.length;
        await follower.waitForLine(/^applied [1-9]\d*$/, 30_000, from);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 300));
        // Behind the last acknowledged seq at the kill: it had entries to apply, so was mid-apply.
        const applied = lastNumber(follower.lines, /^applied (\d+)$/);
        const acked = lastNumber(writer.lines, /^ack \d+ (\d+)$/);
        await follower.kill9();
        tally.note("follower kills", 1);
        tally.note("of them behind the log", applied < acked ? 1 : 0);
        follower.start();
      }
      const head = await shard.stopWriters();
      // The writers are gone, so the head is final: the follower prints it once it got there.
      const caughtUp = follower.lines.length;
      await follower.waitForLine(new RegExp(`^applied ${head}$`), 60_000, caughtUp);
      follower.send("close");
      await follower.waitForLine(/^closed$/, 30_000, caughtUp);
      await follower.exited(10_000);

      const db = await open(join(path, "db"));
      try {
        const check = await shard.check(trial, await db.collection(COLLECTION));
        assert.ok(check.entries === head, `trial ${trial}: log of ${check.entries}, head ${head}`);
        tally.add(trial, check);
      } finally {
        await db.close();
      }
    } finally {
      await follower.kill9();
      await shard.close();
      await rm(path, { recursive: true, force: true });
    }
  }
  tally.print();
});
