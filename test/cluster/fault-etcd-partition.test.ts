/**
 * Fault: the etcd leader cut off from its peers (each member in its own network namespace; blackhole
 * routes both ways between the leader and the others, so its packets are dropped, not refused) while
 * a ShardWriter process streams writes, then healed. The two others elect a leader and writes go
 * on through them (any that fails, fails cleanly: UNAVAILABLE); after the heal they go on; the
 * checker replays the acknowledged history: 0 losses. Needs root and iproute2 (`ip netns`): where
 * they are missing this test fails, it does not skip. 2 trials here, 20 under QUIVER_LONG=1.
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
  [cluster, s3] = await Promise.all([EtcdCluster.start({ network: "namespaces" }), S3Stand.start()]);
});
after(async () => {
  await stopAllProcesses();
  await Promise.all([cluster?.stop(), s3?.stop()]);
});

it(`the etcd leader isolated from its peers, then healed: failures are UNAVAILABLE, nothing acknowledged is lost (${TRIALS} trials)`, async () => {
  const tally = new Tally("etcd leader isolated");
  for (let trial = 0; trial < TRIALS; trial++) {
    const shard = new ShardTrial(cluster.endpoints, s3);
    try {
      await shard.follow();
      const writer = shard.startWriter("a");
      await waitForLines(writer, /^ack /, 3 + (trial % 3), 30_000);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 200));
      const leader = await cluster.leader();
      const cutAt = writer.lines.length;
      await cluster.cutOff(leader);
      await cluster.leader(20_000, leader);
      // The majority side keeps the shard writable: a call that reaches the isolated member times
      // out (it has no leader to answer with) and etcd3 retries it on another member, whose circuit
      // breaker then keeps it away; so the writer's acknowledgements go on.
      await waitForLines(writer, /^ack /, 2, 20_000, cutAt);
      const healedAt = writer.lines.length;
      tally.note("writes acknowledged during the partition", countLines(writer, /^ack /, cutAt));
      await cluster.heal();
      await waitForLines(writer, /^ack /, 3, 30_000, healedAt);
      const failures = writer.lines.slice(cutAt).filter((l) => l.startsWith("fail "));
      for (const f of failures) assert.match(f, /^fail \d+ UNAVAILABLE /, `trial ${trial}`);
      tally.note("writes failed", failures.length);
      await cluster.leader();
      tally.add(trial, await shard.check(trial));
    } finally {
      await shard.close();
      await cluster.heal();
    }
  }
  tally.print();
});
