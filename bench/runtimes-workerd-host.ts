// Runs runtimes-workerd.ts for `npm run bench -- runtimes`: bundles it once (test/runtimes/workerd-bundle.ts,
// as the workerd tests do), then per run starts a fresh `workerd serve` on a free loopback
// port, sends the rows, and times the upsert and query requests from outside (workerd's clock only
// advances across I/O). The median round trip of an empty request, measured on the warm connection
// before the phases, is subtracted from each phase's time and reported.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorker, workerdConfig } from "../test/runtimes/workerd-bundle.js";
import { median } from "./median.js";
import type { WorkloadResult } from "./runtimes-workload.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const WORKERD = join(HERE, "../../node_modules/.bin/workerd");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function post(url: string, body?: ArrayBuffer): Promise<unknown> {
  const res = await fetch(url, { method: "POST", body });
  if (!res.ok) throw new Error(`workerd ${url}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

/** Waits until the worker answers /ping, or fails with workerd's output when it exits first. */
async function whenUp(base: string, child: ChildProcess, output: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`workerd exited (${child.exitCode}):\n${output()}`);
    try {
      if ((await fetch(`${base}/ping`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`workerd did not answer within 30 s:\n${output()}`);
}

export interface WorkerdResult extends WorkloadResult {
  roundTripMs: number;
}

/** Bundles the worker into a scratch directory; `run` starts a fresh workerd for each run. */
export async function startWorkerd(baseBytes: Uint8Array, queryBytes: Uint8Array) {
  if (!existsSync(WORKERD)) throw new Error(`workerd is not installed (${WORKERD})`);
  const dir = await mkdtemp(join(tmpdir(), "quiver-bench-workerd-"));
  await bundleWorker(dir, "bench.js", join(HERE, "runtimes-workerd.js"), "runtimesWorker");
  const body = new Uint8Array(baseBytes.byteLength + queryBytes.byteLength);
  body.set(baseBytes);
  body.set(queryBytes, baseBytes.byteLength);

  const run = async (dim: number, metric: string): Promise<WorkerdResult> => {
    const port = await freePort();
    await writeFile(join(dir, `config-${port}.capnp`), workerdConfig("bench.js", `127.0.0.1:${port}`));
    const child = spawn(WORKERD, ["serve", `config-${port}.capnp`], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout?.on("data", (d) => (output += d));
    child.stderr?.on("data", (d) => (output += d));
    const exited = new Promise((r) => child.once("exit", r));
    const url = `http://127.0.0.1:${port}`;
    try {
      await whenUp(url, child, () => output);
      const baseRows = baseBytes.byteLength / (dim * 4);
      await post(`${url}/prepare?dim=${dim}&metric=${metric}&base=${baseRows}`, body.buffer);
      const trips: number[] = [];
      for (let i = 0; i < 7; i++) {
        const t = performance.now();
        await (await fetch(`${url}/ping`)).text();
        trips.push(performance.now() - t);
      }
      const roundTripMs = median(trips);
      const t0 = performance.now();
      await post(`${url}/upsert`);
      const upsertMs = performance.now() - t0 - roundTripMs;
      const t1 = performance.now();
      const ids = (await post(`${url}/query`)) as number[][];
      const queryMs = performance.now() - t1 - roundTripMs;
      const { kernels } = (await post(`${url}/finish`)) as { kernels: string };
      return {
        kernels,
        upsertsPerSec: (baseRows / upsertMs) * 1000,
        queriesPerSec: (ids.length / queryMs) * 1000,
        ids,
        roundTripMs,
      };
    } finally {
      child.kill();
      await exited;
    }
  };
  return {
    run,
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
