/**
 * Fault: a shard writer paused (SIGSTOP) past its lease while a second writer process takes the shard
 * (a new epoch) and writes; then the first resumes (SIGCONT) and goes on writing as if it still
 * owned the shard. Every commit it attempts after losing the lease is fenced (rejected by the epoch
 * compared in the append transaction): none is acknowledged or logged after the new writer's first
 * entry. The checker replays both writers' acknowledged histories: 0 losses. 2 trials here, 20
 * under QUIVER_LONG=1.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { S3Stand } from "../support/cluster-services.js";
import { writerHistory } from "./harness/checker.js";
import { EtcdCluster } from "./harness/etcd-cluster.js";
import { stopAllProcesses } from "./harness/node-process.js";
import { ShardTrial, countLines, waitForLines } from "./harness/shard-trial.js";
import { Tally } from "./harness/tally.js";

const TRIALS = process.env.QUIVER_LONG === "1" ? 20 : 2;
const LEASE_TTL_MS = 2000;

let cluster: EtcdCluster;
let s3: S3Stand;
before(async () => {
  [cluster, s3] = await Promise.all([EtcdCluster.start(), S3Stand.start()]);
});
after(async () => {
  await stopAllProcesses();
  await Promise.all([cluster?.stop(), s3?.stop()]);
});

it(`a writer paused past its lease, its shard taken by another: its late commits are all fenced (${TRIALS} trials)`, async () => {
  const tally = new Tally("writer SIGSTOP past its lease");
  for (let trial = 0; trial < TRIALS; trial++) {
    const shard = new ShardTrial(cluster.endpoints, s3);
    try {
      await shard.follow();
      const first = shard.startWriter("a", { leaseTtlMs: LEASE_TTL_MS });
      await waitForLines(first, /^ack /, 3 + (trial % 3), 30_000);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 100));
      first.pause();
      const pausedAt = first.lines.length;
      // The second writer retries acquire until the first one's lease has expired in etcd.
      const second = shard.startWriter("b", { leaseTtlMs: LEASE_TTL_MS });
      await waitForLines(second, /^ack /, 3, 30_000);
      first.resume();
      await waitForLines(first, /^fail \d+ UNAVAILABLE .*fenced/, 1, 30_000, pausedAt);
      await waitForLines(first, /^try /, 3, 30_000, pausedAt);

      const a = writerHistory("a", first.lines);
      const b = writerHistory("b", second.lines);
      assert.ok(
        a.epoch !== null && b.epoch !== null && b.epoch > a.epoch,
        `trial ${trial}: epochs ${a.epoch}, ${b.epoch}`,
      );
      // At most the batch in flight at the pause may be acknowledged after it (it committed before
      // the lease expired, its answer read on resume); every attempt after that is fenced.
      const lateAcks = countLines(first, /^ack /, pausedAt);
      assert.ok(lateAcks <= 1, `trial ${trial}: ${lateAcks} acknowledgements after the pause`);
      const firstB = Math.min(...b.acked.values());
      for (const seq of a.acked.values()) assert.ok(seq < firstB, `trial ${trial}: a's seq ${seq} after b's ${firstB}`);
      const fenced = first.lines.slice(pausedAt).filter((l) => /^fail \d+ UNAVAILABLE .*fenced/.test(l)).length;
      tally.note("late commits fenced", fenced);
      tally.add(trial, await shard.check(trial));
    } finally {
      await shard.close();
    }
  }
  tally.print();
});
