/**
 * Crash test: a child process runs a mixed upsert/delete workload and is killed with SIGKILL at a
 * random point (WAL appends, fsyncs, checkpoints and compactions all happen during the run). After
 * each kill the database is reopened and must equal the workload applied up to some P with
 * acked <= P <= submitted: no acknowledged write lost, no deleted id back, nothing invented.
 * Then exact search must equal a brute-force scan of that state. Each trial kills twice on the
 * same directory, so recovery of a recovered database is tested too. Half the trials give the
 * vector an HNSW graph, persisted in index files at every checkpoint; every other one of those keeps
 * the f32 vectors on disk (originals: "disk"), whose scratch file the kill leaves behind.
 *
 * The child runs under Node, Bun and Deno (test/support/runtimes.ts): crash safety rests on what
 * each runtime's node:fs does with fsync, rename and appends, so each is killed the same way; the
 * recovered state is always checked from this (Node) process, and each second cycle's child
 * recovers its own runtime's kill first.
 *
 * Default: 20 trials under Node and 4 under each of Bun and Deno (flat, HNSW, HNSW with originals on
 * disk, flat), each acknowledging at least 1,000 operations before its first kill.
 * QUIVER_LONG=1: 100 trials under Node, 20 under each of the others.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { open } from "../../src/index.js";
import { rng } from "../support/brute.js";
import { checkSearch, readState } from "../support/read-state.js";
import { COLLECTION, findPrefix, makeWorkload, type ModelRecord } from "../support/workload.js";
import { missingRuntime, RUNTIMES, runtimeCommand, type Runtime } from "../support/runtimes.js";

const CHILD = join(dirname(fileURLToPath(import.meta.url)), "crash-child.js");
const TRIALS: Record<Runtime, number> = process.env.QUIVER_LONG
  ? { node: 100, bun: 20, deno: 20 }
  : { node: 20, bun: 4, deno: 4 };
const CONCURRENCY = 8;
const WAL_MAX = 48 * 1024; // small, so checkpoints and compactions happen many times per run

interface Run {
  acked: number;
  finished: boolean;
}

/** Runs the child until `killAtAck` acknowledgements (plus a random delay), then SIGKILLs it. */
function runChild(
  runtime: Runtime,
  dir: string,
  seed: number,
  count: number,
  killAtAck: number,
  delayMs: number,
  index: "flat" | "hnsw" | "hnsw-disk",
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const [exe, args] = runtimeCommand(runtime, CHILD, [
      dir,
      String(seed),
      String(count),
      String(CONCURRENCY),
      String(WAL_MAX),
      index,
    ]);
    const child = spawn(exe, args, { stdio: ["ignore", "pipe", "pipe"] });
    let acked = 0;
    let finished = false;
    let killing = false;
    let buf = "";
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith("ack ")) {
          const i = Number(line.slice(4));
          // Acks must arrive in order: the log order is the acknowledgement order.
          if (i !== acked) reject(new Error(`ack ${i} arrived when ${acked} was expected`));
          acked = i + 1;
        } else if (line === "done") finished = true;
        if (!killing && acked >= killAtAck) {
          killing = true;
          setTimeout(() => child.kill("SIGKILL"), delayMs);
        }
      }
    });
    child.on("exit", (code, signal) => {
      if (signal !== "SIGKILL" && code !== 0) reject(new Error(`${runtime} child exited ${code}: ${stderr}`));
      else resolve({ acked, finished });
    });
  });
}

for (const runtime of RUNTIMES) {
  test(
    `${runtime}: SIGKILL crash trials (${TRIALS[runtime]} trials, two kills each)`,
    {
      timeout: 15 * 60_000,
      skip: missingRuntime(runtime),
    },
    () => crashTrials(runtime, TRIALS[runtime]),
  );
}

async function crashTrials(runtime: Runtime, trials: number): Promise<void> {
  let totalAcked = 0;
  let totalRecovered = 0;
  for (let trial = 0; trial < trials; trial++) {
    const r = rng(1000 + trial);
    const dir = await mkdtemp(join(tmpdir(), "quiver-crash-"));
    let base = new Map<string, ModelRecord>();
    for (let cycle = 0; cycle < 2; cycle++) {
      const seed = trial * 10 + cycle;
      const count = cycle === 0 ? 1200 : 400;
      const ops = makeWorkload(seed, count);
      const killAt = cycle === 0 ? 1000 + Math.floor(r() * 190) : Math.floor(r() * 390);
      // Odd trials give the vector an HNSW graph, so index files are written and killed mid-write too.
      const index = trial % 2 === 0 ? "flat" : trial % 4 === 1 ? "hnsw" : "hnsw-disk";
      const run = await runChild(runtime, dir, seed, count, killAt, Math.floor(r() * 4), index);
      assert.ok(run.acked >= killAt, `trial ${trial}: child acknowledged ${run.acked}, expected at least ${killAt}`);
      totalAcked += run.acked;

      const db = await open(dir);
      const c = await db.collection(COLLECTION);
      if (index === "hnsw-disk") assert.equal((await db.stats()).collections[0].vectors[0].originals, "disk");
      const actual = await readState(c);
      // At most CONCURRENCY operations were in flight beyond the last acknowledgement.
      const found = findPrefix(base, ops, run.acked, run.finished ? ops.length : run.acked + CONCURRENCY, actual);
      assert.ok(found.p >= 0, `trial ${trial} cycle ${cycle}: ${found.why}`);
      await checkSearch(c, actual, seed);
      totalRecovered += found.p - run.acked;
      await db.close();
      base = actual;
    }
    await rm(dir, { recursive: true, force: true });
  }
  console.log(
    `# sigkill (${runtime}): ${trials} trials, ${totalAcked} acknowledged operations, 0 lost; ${totalRecovered} in-flight operations were durable at the kill`,
  );
}
