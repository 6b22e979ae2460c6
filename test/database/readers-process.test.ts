/**
 * A reader in another process than the writer: while a child process writes at 1,000 writes/s
 * (checkpointing every few seconds), a read-only opener here must see every acknowledged write
 * within its refresh interval (plus the time one refresh takes), and in the end exactly what the
 * writer wrote. 10 s by default; 60 s with QUIVER_LONG=1. Prints the largest lag observed. The
 * vectors are exact-search only (see paced-writer-child.ts): a graph's one-time build is not lag.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { Worker } from "node:worker_threads";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { open } from "../../src/index.js";

const CHILD = join(dirname(fileURLToPath(import.meta.url)), "paced-writer-child.js");
const LONG = process.env.QUIVER_LONG === "1";
const RATE = 1000;
const SECONDS = LONG ? 60 : 10;
const REFRESH_MS = 1000;
/** Allowed beyond the interval: one refresh's own work, and this process's polling on a busy machine. */
const SLACK_MS = 750;

/**
 * The longest a 10 ms timer of another thread of this process came late: while the machine does not
 * schedule the process, no refresh can run, and that stall is the machine's, not the reader's. The
 * bound on lag adds it. A thread apart, so the reader's own work on the main thread (a slow refresh)
 * is not counted as a stall and still fails the test.
 */
function stallMonitor(): { stallMs: () => number; stop: () => Promise<number> } {
  const worst = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const a = new Int32Array(require("node:worker_threads").workerData);
     let last = Date.now();
     setInterval(() => { const now = Date.now(); Atomics.store(a, 0, Math.max(Atomics.load(a, 0), now - last - 10)); last = now; }, 10);`,
    { eval: true, workerData: worst.buffer },
  );
  return {
    stallMs: () => Atomics.load(worst, 0),
    stop: async () => {
      await worker.terminate();
      return Atomics.load(worst, 0);
    },
  };
}

test(`a reader in another process sees each acknowledged write within its refresh interval (${RATE}/s for ${SECONDS} s)`, async () => {
  const path = await mkdtemp(join(tmpdir(), "quiver-readers-"));
  const child = spawn(process.execPath, [CHILD, path, String(RATE), String(SECONDS)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    const ackAt: number[] = [];
    let done = -1;
    let stderr = "";
    let buffered = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    const ready = new Promise<void>((resolve, reject) => {
      child.once("exit", (code) => (done < 0 ? reject(new Error(`writer exited ${code}: ${stderr}`)) : undefined));
      child.stdout.on("data", (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const line of lines) {
          const [word, a, b] = line.split(" ");
          if (word === "ready") resolve();
          else if (word === "ack") ackAt[Number(a)] = Number(b);
          else if (word === "done") done = Number(a);
        }
      });
    });
    await ready;
    const reader = await open(path, { readOnly: true, refreshIntervalMs: REFRESH_MS });
    const machine = stallMonitor();
    let stall = 0;
    // Lag counts from when the reader exists: what was written while it was opening is its load.
    const openedAt = Date.now();
    let maxLag = 0;
    let seenCount = 0;
    let checkpointsSeen = 0;
    let lastCheckpointSeq = 0;
    try {
      const c = await reader.collection("paced");
      // Poll: the records visible form a prefix p0..p(n-1) (one writer, writes logged in order).
      while (done < 0 || seenCount < done) {
        const now = Date.now();
        const n = await c.count();
        assert.ok(n >= seenCount, "never goes back");
        // Every write acknowledged before (now - interval - slack) must be visible by now.
        for (let i = n; i < ackAt.length; i++) {
          if (
            ackAt[i] !== undefined &&
            Math.max(ackAt[i], openedAt) < now - REFRESH_MS - SLACK_MS - machine.stallMs()
          ) {
            assert.fail(
              `write ${i}, acknowledged ${now - ackAt[i]} ms ago, is not visible (reader has ${n}; longest stall of this process ${machine.stallMs()} ms)`,
            );
          }
        }
        for (let i = seenCount; i < n; i++) {
          if (ackAt[i] !== undefined) maxLag = Math.max(maxLag, now - Math.max(ackAt[i], openedAt));
        }
        seenCount = n;
        const cp = (await reader.stats()).lastCheckpointSeq;
        if (cp !== lastCheckpointSeq) checkpointsSeen++;
        lastCheckpointSeq = cp;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(seenCount, RATE * SECONDS);
      const got = await c.get([`p0`, `p${seenCount - 1}`]);
      assert.equal(got.length, 2);
    } finally {
      stall = await machine.stop();
      await reader.close();
    }
    console.log(
      `reader lag: ${seenCount} writes at ${RATE}/s for ${SECONDS} s, max lag ${maxLag} ms (refresh every ${REFRESH_MS} ms), ${checkpointsSeen} checkpoints followed, longest stall of this process ${stall} ms`,
    );
    assert.ok(checkpointsSeen >= 2, `the writer checkpointed while the reader followed (${checkpointsSeen})`);
    assert.ok(maxLag <= REFRESH_MS + SLACK_MS + stall, `max lag ${maxLag} ms (stall ${stall} ms)`);
  } finally {
    child.kill("SIGKILL");
    await rm(path, { recursive: true, force: true });
  }
});
