// `npm run bench -- scale --part build [--n 100000] [--dim 128] [--queries 1000] [--repeats 2]`: Quiver's
// graph build with one thread and with every core (open(dir, { threads }): the search threads and the
// writer's own link each bulk write's graph, core/index/hnsw/parallel-build.ts), side by side on the scale
// bench's data and parameters (scale-engines.ts: m 16, efConstruction 200, int8, batches of 1000).
// Two kinds of build, each in its own child process, interleaved per round (1 thread, all, 1, all, ...):
//   database  records upserted through the embedded API on disk, as users build (WAL, validation,
//             payloads and the graph);
//   graph     HnswIndex.insertMany on a slab, the graph alone: what the threads share.
// The database's time less the graph's is the writer's serial part. Each build reports its wall time,
// its CPU time (every thread of the process), the CPU time of its busiest thread (Linux: from
// /proc/self/task), and recall@10 of the same queries at equal ef, against the exact ground truth
// (scale-data.ts). Medians over the rounds.
//
// On a shared machine wall time says little about threads: Linux's autogroup scheduler gives each
// session an equal share of the cores, however many threads it runs, so a loaded machine hands a
// two-thread build the same CPU per second as a one-thread one. The busiest thread's CPU time is the
// build's critical path: the wall time it would take on idle cores if no thread ever waited (a lower
// bound); one thread's CPU over it is the speed-up those cores could give at most.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { open } from "../src/index.js";
import { NodeSearchThreads } from "../src/node/search-threads.js";
import { loadKernelFactory } from "../src/core/kernels/load.js";
import { VectorSlab } from "../src/core/vectors/slab.js";
import { HnswIndex } from "../src/core/index/hnsw/hnsw.js";
import { loadHnswModule } from "../src/core/index/hnsw/module.js";
import { median } from "./median.js";
import { generate, groundTruth, K, recall, type ScaleData, type ScaleSpec } from "./scale-data.js";
import { EF_CONSTRUCTION, M } from "./scale-engines.js";

export interface BuildBenchOptions extends ScaleSpec {
  repeats?: number;
  json?: boolean;
  child?: BuildRun;
}

type Kind = "database" | "graph";
interface BuildRun {
  kind: Kind;
  threads: number;
}
interface BuildResult extends BuildRun {
  wallSeconds: number;
  cpuSeconds: number;
  /** CPU seconds of the busiest thread (NaN where /proc/self/task is missing). */
  busiestThreadSeconds: number;
  recall: Record<number, number>;
}

const MARK = "BUILD-RESULT ";
const BATCH = 1000;
const EFS = [32, 64, 128];

/** Linux's USER_HZ: the unit of a task's utime and stime in /proc (100 on every mainstream build). */
const TICKS_PER_SECOND = 100;

/** CPU seconds so far of each thread of this process, by thread id; empty without /proc. */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync("/proc/self/task")) return out;
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(tid, (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** Seconds of wall, of CPU (all threads) and of the busiest thread's CPU that `fn` took. */
async function timed(fn: () => Promise<void>) {
  const threads0 = threadCpu();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  const wallSeconds = (performance.now() - t0) / 1000;
  const threads1 = threadCpu();
  let busiestThreadSeconds = threads1.size > 0 ? 0 : Number.NaN;
  for (const [tid, s] of threads1) busiestThreadSeconds = Math.max(busiestThreadSeconds, s - (threads0.get(tid) ?? 0));
  return { wallSeconds, cpuSeconds: (c.user + c.system) / 1e6, busiestThreadSeconds };
}

async function recalls(d: ScaleData, search: (q: Float32Array, ef: number) => Promise<number[]>) {
  const truth = await groundTruth(d, 1, d.queries);
  const out: Record<number, number> = {};
  for (const ef of EFS) {
    const found: number[][] = [];
    for (const q of d.queryRows) found.push(await search(q, ef));
    out[ef] = recall(found, truth);
  }
  return out;
}

async function databaseBuild(d: ScaleData, threads: number): Promise<BuildResult> {
  const dir = mkdtempSync(join(tmpdir(), "quiver-build-"));
  try {
    const db = await open(dir, { threads: threads > 1 ? threads : 0 });
    const c = await db.createCollection("scale", {
      vectors: { v: { dim: d.dim, metric: "l2", index: { type: "hnsw", m: M, efConstruction: EF_CONSTRUCTION } } },
      indexes: { w: "number" },
    });
    const t = await timed(async () => {
      for (let i = 0; i < d.n; i += BATCH) {
        const n = Math.min(BATCH, d.n - i);
        await c.upsert(
          Array.from({ length: n }, (_, j) => ({
            id: String(i + j),
            vector: d.base.subarray((i + j) * d.dim, (i + j + 1) * d.dim),
            payload: { u: d.u[i + j], w: d.u[i + j] },
          })),
        );
      }
    });
    const r = await recalls(d, async (q, ef) =>
      (await c.query({ vector: q, limit: K, ef, withPayload: false })).hits.map((h) => Number(h.id)),
    );
    await db.close();
    return { kind: "database", threads, ...t, recall: r };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function graphBuild(d: ScaleData, threads: number): Promise<BuildResult> {
  const shared = threads > 1;
  const slab = new VectorSlab(await loadKernelFactory(undefined, undefined, shared), d.dim, "l2", null);
  const index = new HnswIndex(await loadHnswModule(undefined, shared), slab, { m: M, efConstruction: EF_CONSTRUCTION });
  const pool = shared ? new NodeSearchThreads(threads) : null;
  try {
    const t = await timed(async () => {
      for (let i = 0; i < d.n; i += BATCH) {
        const n = Math.min(BATCH, d.n - i);
        slab.ensureCapacity(i + n);
        index.reserve(n);
        if (pool) index.prepareLanes(pool.lanes);
        for (let s = i; s < i + n; s++) slab.set(s, d.base.subarray(s * d.dim, (s + 1) * d.dim));
        await index.insertMany(
          Array.from({ length: n }, (_, j) => i + j),
          pool,
        );
      }
    });
    const r = await recalls(d, async (q, ef) => index.search(q, K, { ef }).slots);
    return { kind: "graph", threads, ...t, recall: r };
  } finally {
    await pool?.close();
    index.dispose();
  }
}

async function child(opts: BuildBenchOptions): Promise<void> {
  const d = generate(opts);
  const run = opts.child!;
  const r = run.kind === "database" ? await databaseBuild(d, run.threads) : await graphBuild(d, run.threads);
  console.log(MARK + JSON.stringify(r));
}

const f = (x: number, digits = 1): string => x.toFixed(digits);

export async function runBuildBench(opts: BuildBenchOptions): Promise<void> {
  if (opts.child) return child(opts);
  const d = generate(opts);
  await groundTruth(d, 1, opts.queries);
  const all = availableParallelism();
  const runs: BuildRun[] = [];
  for (let round = 0; round < (opts.repeats ?? 2); round++) {
    for (const kind of ["graph", "database"] as Kind[]) for (const threads of [1, all]) runs.push({ kind, threads });
  }
  const results: BuildResult[] = [];
  for (const run of runs) {
    const args = [fileURLToPath(new URL("./main.js", import.meta.url)), "scale", "--part", "build"];
    args.push("--n", String(opts.n), "--dim", String(opts.dim), "--queries", String(opts.queries));
    args.push("--child", JSON.stringify(run));
    const r = spawnSync(process.execPath, args, {
      encoding: "utf8",
      maxBuffer: 1 << 24,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const line = r.stdout.split("\n").find((l) => l.startsWith(MARK));
    if (!line) throw new Error(`build ${JSON.stringify(run)} failed (exit ${r.status}): ${r.stdout.slice(-2000)}`);
    const res = JSON.parse(line.slice(MARK.length)) as BuildResult;
    results.push(res);
    console.log(
      `${res.kind} threads ${res.threads}: ${f(res.wallSeconds)} s wall, ${f(res.cpuSeconds)} s CPU (busiest thread ${f(res.busiestThreadSeconds)} s), recall@10 ${EFS.map((ef) => `ef ${ef} ${res.recall[ef].toFixed(4)}`).join(", ")}`,
    );
  }
  if (opts.json) console.log(JSON.stringify({ spec: { n: opts.n, dim: opts.dim, queries: opts.queries }, results }));
  console.log(
    `\nbuild: ${opts.n.toLocaleString("en-US")} × ${opts.dim} clustered (l2), m ${M}, efConstruction ${EF_CONSTRUCTION}, int8, batches of ${BATCH}; medians of ${opts.repeats ?? 2} interleaved rounds`,
  );
  console.log(
    `kind      threads   wall s   CPU s  busiest thread s  speed-up: wall  critical path  ${EFS.map((ef) => `recall@ef${ef}`).join("  ")}`,
  );
  for (const kind of ["graph", "database"] as Kind[]) {
    const one = results.filter((r) => r.kind === kind && r.threads === 1);
    const baseWall = median(one.map((r) => r.wallSeconds));
    const baseCpu = median(one.map((r) => r.busiestThreadSeconds));
    for (const threads of [1, all]) {
      const rs = results.filter((r) => r.kind === kind && r.threads === threads);
      const wall = median(rs.map((r) => r.wallSeconds));
      const busiest = median(rs.map((r) => r.busiestThreadSeconds));
      const rec = EFS.map((ef) =>
        median(rs.map((r) => r.recall[ef]))
          .toFixed(4)
          .padStart(11),
      );
      console.log(
        `${kind.padEnd(9)} ${String(threads).padStart(7)} ${f(wall).padStart(8)} ${f(median(rs.map((r) => r.cpuSeconds))).padStart(7)} ${f(busiest).padStart(17)} ${`${f(baseWall / wall, 2)}×`.padStart(15)} ${`${f(baseCpu / busiest, 2)}×`.padStart(14)}  ${rec.join("  ")}`,
      );
    }
  }
}
