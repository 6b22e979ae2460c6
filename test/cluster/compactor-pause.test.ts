/**
 * A compactor process paused again and again (SIGSTOP for half its lease, a stretch of work, again)
 * through a compaction that lasts several lease periods keeps its lease, because it renews on a timer
 * of its own, and commits: a lease lost under a loaded machine failed CI before. Each trial's
 * compaction must commit and leave a state a fresh replica gets right. 3 trials here, 10 under
 * QUIVER_LONG=1. (Without the renewals the lease lapses after one ttl and the compactor gives up with
 * "lease lost": each trial holds it for more than two ttls, pauses included.)
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { it } from "node:test";
import { readShardManifest } from "../../src/cluster/shard-manifest.js";
import { useEtcdAndS3 } from "../support/cluster-services.js";
import { replay } from "../support/shard-workload.js";
import { Shard } from "../support/shard-storage.js";

const TRIALS = process.env.QUIVER_LONG === "1" ? 10 : 3;
const CHILD = fileURLToPath(new URL("./compactor-child.js", import.meta.url));
/** The child's lease, its renewal period, and how long it lingers after each of its five steps. */
const TTL_MS = 3000;
const RENEW_MS = 500;
const HOLD_MS = 1200;
/** Each pause: shorter than the lease less a renewal period, with margin for a starved machine. */
const PAUSE_MS = 1500;
const RUN_MS = 300;

const services = useEtcdAndS3();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs one compaction in a child, pausing it until it prints its last step; its steps and the pauses. */
async function pausedCompaction(
  shard: Shard,
  prefix: string,
): Promise<{ steps: string[]; pausedMs: number; err: string }> {
  const child = spawn(
    process.execPath,
    [
      CHILD,
      services.etcd.endpoint,
      prefix,
      shard.log,
      services.s3.endpoint,
      services.s3.bucket,
      String(TTL_MS),
      String(RENEW_MS),
      String(HOLD_MS),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  let exited = false;
  child.stdout.on("data", (d) => {
    out += String(d);
  });
  child.stderr.on("data", (d) => {
    err += String(d);
  });
  const exit = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      exited = true;
      resolve(code);
    }),
  );
  let pausedMs = 0;
  try {
    while (!exited && !out.includes("step start\n")) await sleep(20);
    // The child compacts 150 ms after it took the lease: only from then does anything renew it.
    await sleep(RUN_MS + 150);
    while (!exited && !out.includes("step done")) {
      child.kill("SIGSTOP");
      const stopped = Date.now();
      await sleep(PAUSE_MS);
      child.kill("SIGCONT");
      pausedMs += Date.now() - stopped;
      await sleep(RUN_MS);
    }
    const code = await exit;
    assert.equal(code, 0, `the compactor exited with ${code}: ${err}`);
  } finally {
    if (!exited) {
      child.kill("SIGCONT");
      child.kill("SIGKILL");
    }
  }
  return { steps: [...out.matchAll(/^step (.+)$/gm)].map((m) => m[1]!), pausedMs, err };
}

it(`a compactor paused for half its lease, again and again, keeps the lease and commits (${TRIALS} trials)`, async () => {
  const prefix = `compactor-pause-${randomUUID()}`;
  const shard = new Shard(services.etcd, services.s3, prefix);
  const paused: number[] = [];
  try {
    let next = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      await shard.write(next, next + 6);
      next += 6;
      const before = (await readShardManifest(shard.coordinator, shard.log)).manifest;
      const { steps, pausedMs, err } = await pausedCompaction(shard, prefix);
      paused.push(pausedMs);
      assert.ok(pausedMs > TTL_MS, `trial ${trial}: paused ${pausedMs} ms in all, more than one lease`);
      assert.equal(steps.at(-1), "done committed", `trial ${trial}: ${steps.join(", ")} ${err}`);
      const { manifest } = await readShardManifest(shard.coordinator, shard.log);
      assert.equal(manifest.generation, before.generation + 1, `trial ${trial}`);
      assert.equal(manifest.appliedThrough, shard.acked.length, `trial ${trial}`);
      assert.deepEqual((await shard.freshReplica()).state, replay(shard.log, shard.acked), `trial ${trial}`);
    }
  } finally {
    shard.close();
  }
  console.log(`# compactor pauses: ${TRIALS} trials committed, paused ${paused.join(", ")} ms (lease ${TTL_MS} ms)`);
});
