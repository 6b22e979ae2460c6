/**
 * A worker script for test/ai/worker-pool.test.ts: answers after `ms`, fails with or without a
 * catalog code, or exits, as the job says; reports its thread id so the test sees where jobs ran.
 */
import { parentPort, threadId } from "node:worker_threads";

interface Job {
  id: number;
  op: "echo" | "fail" | "fail-plain" | "exit";
  value?: unknown;
  ms?: number;
}

parentPort!.on("message", async ({ id, op, value, ms = 0 }: Job) => {
  await new Promise((r) => setTimeout(r, ms));
  if (op === "exit") process.exit(3);
  if (op === "fail") parentPort!.postMessage({ id, error: { code: "NOT_FOUND", message: "no such thing" } });
  else if (op === "fail-plain") parentPort!.postMessage({ id, error: { message: "plain failure" } });
  else parentPort!.postMessage({ id, result: { value, threadId } });
});
