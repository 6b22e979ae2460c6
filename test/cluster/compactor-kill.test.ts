/**
 * kill -9 of a compactor process at chosen points of a compaction (before folding, after folding,
 * after its PUTs, after its manifest commit but before the trim): the next compaction and a fresh
 * replica must be correct, with every acknowledged batch present (exact payloads and vectors, deletes
 * honoured). 4 trials here, 20 under QUIVER_LONG=1; each kill lands at a random moment inside its window.
 * Then garbage collection leaves exactly the objects the manifest names, and the state is unchanged.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { it } from "node:test";
import { GarbageCollector } from "../../src/cluster/gc.js";
import { readShardManifest, referencedKeys } from "../../src/cluster/shard-manifest.js";
import { useEtcdAndS3 } from "../support/cluster-services.js";
import { replay } from "../support/shard-workload.js";
import { Shard } from "../support/shard-storage.js";

const TRIALS = process.env.QUIVER_LONG === "1" ? 20 : 4;
const CHILD = fileURLToPath(new URL("./compactor-child.js", import.meta.url));
const WINDOWS = ["start", "folded", "uploaded", "committed"];

const services = useEtcdAndS3();

/** Runs the child until it prints "step <window>", waits 0-140 ms (it pauses 150 ms there), kill -9. */
async function killCompactor(shard: Shard, prefix: string, window: string): Promise<string[]> {
  const child = spawn(
    process.execPath,
    [CHILD, services.etcd.endpoint, prefix, shard.log, services.s3.endpoint, services.s3.bucket],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => {
    err += String(d);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += String(d);
      if (out.includes(`step ${window}\n`)) resolve();
    });
    child.once("exit", (code) => reject(new Error(`compactor exited (${code}) before step ${window}: ${err}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 140)));
  child.kill("SIGKILL");
  await exited;
  return [...out.matchAll(/^step (\S+)/gm)].map((m) => m[1]!);
}

it(`kill -9 of a compactor mid-compaction leaves a state the next compaction and a fresh replica get right (${TRIALS} trials)`, async () => {
  const prefix = `compactor-kill-${randomUUID()}`;
  const shard = new Shard(services.etcd, services.s3, prefix);
  const reached = new Map<string, number>();
  try {
    let next = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      await shard.write(next, next + 6);
      next += 6;
      const before = (await readShardManifest(shard.coordinator, shard.log)).manifest;
      const window = WINDOWS[trial % WINDOWS.length]!;
      const steps = await killCompactor(shard, prefix, window);
      reached.set(window, (reached.get(window) ?? 0) + 1);
      const after = (await readShardManifest(shard.coordinator, shard.log)).manifest;
      if (steps.includes("committed")) assert.equal(after.generation, before.generation + 1, `trial ${trial}`);
      else assert.equal(after.generation, before.generation, `trial ${trial}: no commit before "committed"`);
      // A replica straight after the kill, then the next compaction, then a replica again.
      assert.deepEqual(
        (await shard.freshReplica()).state,
        replay(shard.log, shard.acked),
        `trial ${trial}, after the kill`,
      );
      const compaction = await shard.compact();
      assert.equal(compaction.manifest.appliedThrough, shard.acked.length, `trial ${trial}`);
      assert.deepEqual(await shard.coordinator.read(shard.log, 1), [], `trial ${trial}: trimmed`);
      assert.deepEqual((await shard.freshReplica()).state, replay(shard.log, shard.acked), `trial ${trial}`);
    }
    // What the killed compactors PUT and never committed, and the trimmed batches, are garbage: once
    // collected (grace 0: the second pass deletes what the first saw), only the manifest's objects remain.
    const gc = new GarbageCollector({ ...shard.base(), graceMs: 0 });
    await gc.collect();
    const { deleted } = await gc.collect();
    assert.ok(deleted.length > 0);
    const { manifest } = await readShardManifest(shard.coordinator, shard.log);
    const left = (await Promise.all(["batches", "segments", "graphs"].map((k) => shard.s3.list(`${shard.log}/${k}/`))))
      .flat()
      .map((o) => o.key);
    assert.deepEqual(left.sort(), referencedKeys(manifest).sort());
    assert.deepEqual((await shard.freshReplica()).state, replay(shard.log, shard.acked), "after GC");
  } finally {
    shard.close();
  }
  console.log(
    `# compactor kill -9: ${TRIALS} trials (${[...reached].map(([w, n]) => `${n} after ${w}`).join(", ")}), ${shard.acked.length} batches acknowledged, 0 lost`,
  );
});
