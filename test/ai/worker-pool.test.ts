/**
 * The worker-thread pool under the local model (src/embed/node/worker-pool.ts), with a scripted
 * worker: jobs run on up to `size` threads at once and each answer goes to its own caller; a
 * worker's failure keeps its catalog code (else the pool's); a dead worker fails its job and is
 * replaced; close() fails what is pending and terminates the threads; idle workers let the process exit.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WorkerPool } from "../../src/embed/node/worker-pool.js";
import { isQuiverError } from "../../src/index.js";

const SCRIPT = new URL("../support/pool-worker.js", import.meta.url);

interface Job {
  op: "echo" | "fail" | "fail-plain" | "exit";
  value?: unknown;
  ms?: number;
}
type Result = { value: unknown; threadId: number };

test("worker pool: jobs run on every thread at once, each answer to its caller, in order", async () => {
  const pool = new WorkerPool<Job, Result>(SCRIPT, 2, "EMBEDDING_FAILED");
  try {
    const results = await Promise.all([0, 1, 2, 3, 4].map((value) => pool.run({ op: "echo", value, ms: 100 })));
    assert.deepEqual(
      results.map((r) => r.value),
      [0, 1, 2, 3, 4],
    );
    assert.equal(pool.started, 2);
    assert.equal(new Set(results.map((r) => r.threadId)).size, 2, "both threads worked");
    // The first two jobs started together, on different threads.
    assert.notEqual(results[0].threadId, results[1].threadId);
  } finally {
    await pool.close();
  }
});

test("worker pool: failures keep the worker's code, else the pool's; a dead worker is replaced", async () => {
  const pool = new WorkerPool<Job, Result>(SCRIPT, 1, "EMBEDDING_FAILED");
  try {
    await assert.rejects(
      pool.run({ op: "fail" }),
      (e) => isQuiverError(e, "NOT_FOUND") && /no such thing/.test(e.message),
    );
    await assert.rejects(pool.run({ op: "fail-plain" }), (e) => isQuiverError(e, "EMBEDDING_FAILED"));
    const exit = pool.run({ op: "exit" });
    const waiting = pool.run({ op: "echo", value: "after" });
    await assert.rejects(exit, (e) => isQuiverError(e, "EMBEDDING_FAILED") && /exited with code 3/.test(e.message));
    assert.equal((await waiting).value, "after", "the job queued behind it ran on a new worker");
    assert.equal(pool.started, 1);
  } finally {
    await pool.close();
  }
});

test("worker pool: close() fails pending and running jobs with CLOSED and terminates the threads", async () => {
  const pool = new WorkerPool<Job, Result>(SCRIPT, 1, "EMBEDDING_FAILED");
  const running = pool.run({ op: "echo", ms: 5_000 });
  const queued = pool.run({ op: "echo" });
  const failed = Promise.all([
    assert.rejects(running, (e) => isQuiverError(e, "CLOSED")),
    assert.rejects(queued, (e) => isQuiverError(e, "CLOSED")),
  ]);
  await new Promise((r) => setTimeout(r, 50));
  await pool.close();
  await failed;
  await assert.rejects(pool.run({ op: "echo" }), (e) => isQuiverError(e, "CLOSED"));
  assert.equal(pool.started, 0);
  assert.throws(() => new WorkerPool<Job, Result>(SCRIPT, 0, "EMBEDDING_FAILED"), /threads/);
});

test("worker pool: idle workers do not keep the process alive", () => {
  const pool = fileURLToPath(new URL("../../src/embed/node/worker-pool.js", import.meta.url));
  const code = `import(${JSON.stringify(pool)}).then(async ({ WorkerPool }) => {
    const p = new WorkerPool(new URL(${JSON.stringify(SCRIPT.href)}), 2, "EMBEDDING_FAILED");
    console.log((await p.run({ op: "echo", value: "done" })).value);
  });`;
  const dir = mkdtempSync(join(tmpdir(), "quiver-pool-"));
  const file = join(dir, "run.mjs");
  writeFileSync(file, code);
  const child = spawnSync(process.execPath, [file], { timeout: 10_000, encoding: "utf8" });
  rmSync(dir, { recursive: true, force: true });
  assert.equal(child.signal, null, "the process exited by itself (not killed at the timeout)");
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), "done");
});

test("worker pool: starts from a program given on the command line (node --input-type=module -e)", () => {
  // Workers inherit the parent's flags; `-e <code>` and --input-type are the parent's own and made
  // every worker fail ("--input-type can only be used with string input").
  const pool = fileURLToPath(new URL("../../src/embed/node/worker-pool.js", import.meta.url));
  const code = `const { WorkerPool } = await import(${JSON.stringify(pool)});
    const p = new WorkerPool(new URL(${JSON.stringify(SCRIPT.href)}), 1, "EMBEDDING_FAILED");
    console.log((await p.run({ op: "echo", value: "done" })).value);`;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", code], { timeout: 10_000, encoding: "utf8" });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), "done");
});

test("worker pool: the flags a worker inherits leave out the parent's command-line program", async () => {
  const { workerExecArgv } = await import("../../src/embed/node/worker-pool.js");
  assert.deepEqual(workerExecArgv(["--input-type=module", "-e", "code", "--max-old-space-size=512"]), [
    "--max-old-space-size=512",
  ]);
  assert.deepEqual(workerExecArgv(["--print", "1", "--enable-source-maps"]), ["--enable-source-maps"]);
});
