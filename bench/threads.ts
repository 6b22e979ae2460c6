// `npm run bench -- threads [--n 50000] [--dim 128] [--queries 1000] [--repeats 3] [--threads 0,1,2]
// [--part handoff,embedded,server] [--ef 16,128] [--json]` (also `npm run bench -- scale --part threads`): query throughput
// with search threads (docs/threads.md), and what one handoff costs.
//
// - handoff: one search thread answering an empty graph (the search itself is a few loads), so a round
//   trip is only the handoff: caller → thread → caller. Sequential (the thread sleeps between calls: a
//   wake-up each time) and with both lanes kept busy (the thread takes the next without sleeping).
// - embedded: the clustered data of the scale bench (scale-data.ts), one collection built once with the
//   parallel build (one thread per core, batches of BUILD_BATCH) and cached under bench/.cache/threads/ of
//   the folder the bench runs from (as the ground truth is): run large sets (--n 1000000) from a folder
//   outside the repo to keep the cache there. Reopened with open(path, { threads: t }) for each t; a pass
//   keeps IN_FLIGHT queries awaited at once over every query, at the ef reaching recall@10 0.95 (or at each --ef).
// - server: `quiver serve --threads t` over the same collection, IN_FLIGHT HTTP clients (fetch, keep-alive)
//   in this process; the server's CPU is read from /proc/<pid>/stat (Linux; 10 ms ticks).
// Embedded settings with threads are measured twice: "t" (every search in a thread, callerSearches false)
// and "t+caller" (the default: the calling thread searches too when more are queued than threads idle).
// Settings interleaved within each round, --repeats rounds, medians. CPU µs per query (every thread of the
// measured process) is the figure that noise on a shared machine moves least; q/s needs a quiet machine.

import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NodeSearchThreads, open } from "../src/index.js";
import { loadHnswModule } from "../src/core/index/hnsw/module.js";
import { H } from "../src/core/kernels/boundary.generated.js";
import { EF_CONSTRUCTION, M } from "./ann-engines.js";
import { median } from "./median.js";
import { mainThreadCpuUs, processTreeCpuUs } from "./proc-cpu.js";
import { generate, groundTruth, K, recall, type ScaleData } from "./scale-data.js";
import { freePort, waitFor } from "./server.js";

export interface ThreadsBenchOptions {
  n?: number;
  dim?: number;
  queries?: number;
  repeats?: number;
  threads?: number[];
  parts?: string[];
  /** Beam widths to measure at (each in its own rounds) instead of the first reaching recall@10 0.95. */
  efs?: number[];
  json?: boolean;
}

const IN_FLIGHT = 16;
const EFS = [16, 24, 32, 48, 64, 96, 128, 192, 256];
const ROOT = join(fileURLToPath(import.meta.url), "../../..");
const ADMIN = "bench-admin-key-0123456789abcdef";
const f = (x: number, digits = 0) => x.toLocaleString("en-US", { maximumFractionDigits: digits });

interface Pass {
  qps: number;
  /** CPU µs per query, every thread of the measured process. */
  cpuUs: number;
  /** CPU µs per query of its main thread alone (the one that serves HTTP, or calls query()): the serial part. */
  mainUs: number;
}
interface Cpu {
  all: number;
  main: number;
}
/** Passes by setting: "0" (no threads), "t" (t threads, every search in one), "t+caller" (the caller searches too). */
type Rows = Map<string, Pass[]>;
/** Handoff round trips per second and CPU µs per round trip (every thread). */
type Trips = Omit<Pass, "mainUs">;

/** Every query once, `inFlight` awaited at once: q/s and CPU µs per query as `cpu()` reads it. */
async function pass(
  qs: Float32Array[],
  inFlight: number,
  search: (q: Float32Array) => Promise<number[]>,
  cpu: () => Cpu,
  found?: number[][],
): Promise<Pass> {
  let next = 0;
  const cpu0 = cpu();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < qs.length) {
        const i = next++;
        const ids = await search(qs[i]);
        if (found) found[i] = ids;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = cpu();
  return {
    qps: qs.length / seconds,
    cpuUs: (cpu1.all - cpu0.all) / qs.length,
    mainUs: (cpu1.main - cpu0.main) / qs.length,
  };
}

const ownCpuUs = (): Cpu => {
  const u = process.cpuUsage();
  return { all: u.user + u.system, main: mainThreadCpuUs(process.pid) };
};

/** The handoff alone: round trips of searchLane over an empty graph in one search thread. */
async function handoff(repeats: number): Promise<{ sequential: Trips; busy: Trips }> {
  const module = await loadHnswModule(undefined, true);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
  new Int32Array(memory.buffer, 0, 64).fill(0)[H.ENTRY] = -1;
  // The handoff alone: the calling thread must not run the searches itself.
  const threads = new NodeSearchThreads(1, { callerSearches: false });
  const call = (lane: number) => ({ hdr: 0, lane: 1024 + lane * 1024, k: 1, ef: 1, filterMode: 0 });
  const trips = 20_000;
  const run = async (lanes: number): Promise<Trips> => {
    const cpu0 = ownCpuUs().all;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        for (let i = 0; i < trips / lanes; i++) await threads.searchLane(lane, memory, module, call(lane));
      }),
    );
    return { qps: trips / ((performance.now() - t0) / 1000), cpuUs: (ownCpuUs().all - cpu0) / trips };
  };
  try {
    await run(1);
    const seq: Trips[] = [];
    const busy: Trips[] = [];
    for (let r = 0; r < repeats; r++) {
      seq.push(await run(1));
      busy.push(await run(threads.lanes));
    }
    const med = (ps: Trips[]) => ({ qps: median(ps.map((p) => p.qps)), cpuUs: median(ps.map((p) => p.cpuUs)) });
    return { sequential: med(seq), busy: med(busy) };
  } finally {
    await threads.close();
  }
}

/** Rows per upsert of the build: each is one parallel build phase (at least PARALLEL_BUILD_MIN). */
const BUILD_BATCH = 5000;

/** The collection of `d` (built once with the parallel build, cached by its spec) and the ef reaching recall 0.95. */
async function collection(d: ScaleData, truth: Int32Array[]): Promise<{ dir: string; ef: number; recall: number }> {
  const dir = join(process.cwd(), "bench", ".cache", "threads", `n${d.n}-d${d.dim}-m${M}-ef${EF_CONSTRUCTION}-par`);
  if (!existsSync(join(dir, "built"))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const t0 = performance.now();
    const db = await open(join(dir, "db"), { threads: availableParallelism() });
    const c = await db.createCollection("scale", {
      vectors: { v: { dim: d.dim, metric: "l2", index: { type: "hnsw", m: M, efConstruction: EF_CONSTRUCTION } } },
    });
    for (let i = 0; i < d.n; i += BUILD_BATCH) {
      const rows = Array.from({ length: Math.min(BUILD_BATCH, d.n - i) }, (_, j) => ({
        id: String(i + j),
        vector: d.base.subarray((i + j) * d.dim, (i + j + 1) * d.dim),
      }));
      await c.upsert(rows);
    }
    await db.checkpoint();
    await db.close();
    mkdirSync(join(dir, "built"));
    console.error(
      `built ${d.n} × ${d.dim} with ${availableParallelism()} threads in ${f((performance.now() - t0) / 1000, 1)} s (cached in ${dir})`,
    );
  }
  const db = await open(join(dir, "db"));
  try {
    const c = await db.collection("scale");
    for (const ef of EFS) {
      const found = await Promise.all(
        d.queryRows.map(async (q) => (await c.query({ vector: q, limit: K, ef, withPayload: false })).hits),
      );
      const r = recall(
        found.map((h) => h.map((x) => Number(x.id))),
        truth,
      );
      if (r >= 0.95 || ef === EFS[EFS.length - 1]) return { dir: join(dir, "db"), ef, recall: r };
    }
  } finally {
    await db.close();
  }
  throw new Error("unreachable");
}

async function embedded(
  path: string,
  ef: number,
  t: number,
  callerSearches: boolean,
  qs: Float32Array[],
  truth: Int32Array[],
) {
  const db = await open(path, { threads: t, callerSearches });
  try {
    const c = await db.collection("scale");
    const search = async (q: Float32Array) =>
      (await c.query({ vector: q, limit: K, ef, withPayload: false })).hits.map((h) => Number(h.id));
    await pass(qs.slice(0, 200), IN_FLIGHT, search, ownCpuUs);
    const found: number[][] = [];
    const p = await pass(qs, IN_FLIGHT, search, ownCpuUs, found);
    return { ...p, recall: recall(found, truth) };
  } finally {
    await db.close();
  }
}

async function server(path: string, ef: number, t: number, qs: Float32Array[]): Promise<Pass> {
  // The server gets its own copy: the embedded runs and the server never hold one directory's lock at once.
  const dir = mkdtempSync(join(tmpdir(), "quiver-threads-serve-"));
  cpSync(path, dir, { recursive: true });
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "dist/src/cli/main.js"),
      "serve",
      "--data",
      dir,
      "--port",
      String(port),
      "--no-log",
      "--threads",
      String(t),
    ],
    { env: { ...process.env, QUIVER_ADMIN_KEY: ADMIN }, stdio: ["ignore", "ignore", "ignore"] },
  );
  try {
    await waitFor(`http://127.0.0.1:${port}/healthz`, child, "quiver serve");
    const url = `http://127.0.0.1:${port}/v1/collections/scale/query`;
    const headers = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
    const search = async (q: Float32Array): Promise<number[]> => {
      const res = await fetch(url, {
        method: "POST",
        headers,
        body: JSON.stringify({ vector: Array.from(q), limit: K, ef, withPayload: false }),
      });
      if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { hits: { id: string }[] }).hits.map((h) => Number(h.id));
    };
    const cpu = () => ({ all: processTreeCpuUs(child.pid!), main: mainThreadCpuUs(child.pid!) });
    await pass(qs.slice(0, 200), IN_FLIGHT, search, cpu);
    // Twice over the queries: a pass of a second or more, so the 10 ms CPU ticks stay small beside it.
    return await pass([...qs, ...qs], IN_FLIGHT, search, cpu);
  } finally {
    child.kill("SIGTERM");
    if (child.exitCode === null) await new Promise((r) => child.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
}

function table(title: string, rows: Rows, extra: Map<string, string> = new Map()): void {
  console.log(`\n${title}`);
  const base = (t: string) => median(rows.get(t)!.map((p) => p.qps));
  const zero = rows.has("0") ? base("0") : undefined;
  const one = rows.has("1") ? base("1") : undefined;
  for (const [t, ps] of rows) {
    const qps = base(t);
    const ratios = [zero ? `${(qps / zero).toFixed(2)}× vs 0` : "", one ? `${(qps / one).toFixed(2)}× vs 1` : ""];
    console.log(
      `  threads ${t.padEnd(8)} ${f(qps).padStart(7)} q/s (passes ${ps.map((p) => f(p.qps)).join(", ")})  ` +
        `${ratios.filter(Boolean).join(", ").padEnd(24)}  CPU ${f(median(ps.map((p) => p.cpuUs)))} µs/query, ` +
        `main thread ${f(median(ps.map((p) => p.mainUs)))} µs/query${extra.get(t) ?? ""}`,
    );
  }
}

export async function runThreadsBench(o: ThreadsBenchOptions): Promise<void> {
  const parts = o.parts?.length ? o.parts : ["handoff", "embedded", "server"];
  const settings = o.threads?.length ? o.threads : [0, 1, 2];
  const repeats = o.repeats ?? 3;
  const spec = { n: o.n ?? 50_000, dim: o.dim ?? 128, queries: o.queries ?? 1000 };
  const out: Record<string, unknown> = { spec, inFlight: IN_FLIGHT, repeats };
  console.log(
    `threads bench: ${f(spec.n)} × ${spec.dim}, ${spec.queries} queries, ${IN_FLIGHT} in flight, ${repeats} interleaved rounds, medians; ` +
      `Node ${process.version}; load average ${(await import("node:os"))
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(" ")}`,
  );

  if (parts.includes("handoff")) {
    const h = await handoff(repeats);
    out.handoff = h;
    console.log(
      `\nhandoff (1 search thread, empty graph: the round trip alone, ${repeats} × 20,000 calls, medians)\n` +
        `  one at a time (the thread sleeps between calls): ${f(1e6 / h.sequential.qps, 1)} µs per round trip, ${f(h.sequential.cpuUs, 1)} µs CPU\n` +
        `  2 lanes kept busy (taken without sleeping):      ${f(1e6 / h.busy.qps, 1)} µs per round trip, ${f(h.busy.cpuUs, 1)} µs CPU`,
    );
  }
  if (parts.includes("embedded") || parts.includes("server")) await scaling(spec, parts, settings, repeats, o.efs, out);
  if (o.json) console.log(JSON.stringify(out));
}

/** The embedded and server parts: every setting in each round, then the tables. */
async function scaling(
  spec: { n: number; dim: number; queries: number },
  parts: string[],
  settings: number[],
  repeats: number,
  efs: number[] | undefined,
  out: Record<string, unknown>,
): Promise<void> {
  const d = generate(spec);
  const truth = await groundTruth(d, 1, d.queries);
  const { dir, ef: ef95, recall: r95 } = await collection(d, truth);
  out.ef95 = ef95;
  console.log(`\nef ${ef95} is the first to reach recall@10 0.95 on the calling thread (${r95.toFixed(4)})`);
  const runs: Record<string, unknown>[] = [];
  out.runs = runs;
  for (const ef of efs?.length ? efs : [ef95]) {
    // Embedded: with threads, each setting with the caller searching and without (the default is with).
    const plan = settings.flatMap((t) => (t === 0 ? [[0, false] as const] : [[t, false] as const, [t, true] as const]));
    const label = (t: number, caller: boolean) => `${t}${caller ? "+caller" : ""}`;
    const emb: Rows = new Map(plan.map(([t, c]) => [label(t, c), []]));
    const srv: Rows = new Map(settings.map((t) => [String(t), []]));
    const recalls = new Map<string, string>();
    for (let round = 0; round < repeats; round++) {
      for (const t of settings) {
        if (parts.includes("embedded")) {
          for (const [, caller] of plan.filter(([x]) => x === t)) {
            const p = await embedded(dir, ef, t, caller, d.queryRows, truth);
            emb.get(label(t, caller))!.push(p);
            recalls.set(label(t, caller), `, recall ${p.recall.toFixed(4)}`);
          }
        }
        if (parts.includes("server")) srv.get(String(t))!.push(await server(dir, ef, t, d.queryRows));
      }
    }
    runs.push({ ef, embedded: Object.fromEntries(emb), server: Object.fromEntries(srv) });
    if (parts.includes("embedded")) {
      table(`embedded at ef ${ef}: open(path, { threads }), q/s and CPU of the process per query`, emb, recalls);
    }
    if (parts.includes("server")) {
      table(
        `server at ef ${ef}: quiver serve --threads t, ${IN_FLIGHT} HTTP clients in the bench process; CPU of the server process per query`,
        srv,
      );
    }
  }
}
