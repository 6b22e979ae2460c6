// `npm run bench -- scale [--n 1000000] [--dim 128] [--queries 1000] [--engines quiver,hnswlib-node,usearch]
// [--clusters 1000] [--m 16]`:
// one machine at scale. Deterministic clustered data (scale-data.ts) with cached exact ground truth;
// each engine in its own child process (so peak RSS is its own), one after the other: build time and
// threads, peak RSS, bytes per vector, q/s at the first ef reaching recall@10 0.95, filtered search at
// 50/10/1/0.1% on an indexed and an unindexed field (recall, q/s, plan), replacing 1% vs inserting 1%,
// time to open the persisted index and to the first answer, and (Quiver) write latency p50/p99 alone
// and while a checkpoint runs.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { getHeapStatistics } from "node:v8";
import { median } from "./median.js";
import { CLUSTERS, generate, groundTruth, K, recall, type ScaleData, type ScaleSpec } from "./scale-data.js";
import { M, makeScaleEngine, SCALE_ENGINES, type ScaleEngine } from "./scale-engines.js";

export interface ScaleOptions extends Partial<ScaleSpec> {
  engines?: string[];
  child?: string;
  json?: boolean;
  /** Quiver's f32 originals (`--originals disk`: only int8 codes and links in WebAssembly memory). */
  originals?: "memory" | "disk";
  /** Threads that build Quiver's graph (`--build-threads N`; 2 or more: the parallel build). */
  buildThreads?: number;
  /**
   * `--lean`: Quiver alone (no peers), build, recall/q/s sweep and open only (no thread passes, filters,
   * updates or write latency), with build progress on stderr: what fits the time at 10M vectors.
   */
  lean?: boolean;
  /** `--m`: graph links per node for every engine (default 16). */
  m?: number;
}

const EFS = [16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512];
const TARGET_RECALL = 0.95;
const SELECTIVITIES = [0.5, 0.1, 0.01, 0.001];
const FILTER_QUERIES = 200;
const MARK = "SCALE-RESULT ";
/** Search threads compared at the engine's ef@0.95 (0: the calling thread); queries kept in flight at once. */
const THREADS = [0, 1, 2];
const IN_FLIGHT = 16;

/** Filtered runs use the first FILTER_QUERIES queries (fewer when fewer are asked for). */
const filterQueries = (s: ScaleSpec): number => Math.min(FILTER_QUERIES, s.queries);
const spec = (o: ScaleOptions): ScaleSpec => ({
  n: o.n ?? 1_000_000,
  dim: o.dim ?? 128,
  queries: o.queries ?? 1000,
  clusters: o.clusters ?? CLUSTERS,
});
const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];

interface Latency {
  n: number;
  p50: number;
  p99: number;
}

/** Everything measured on one engine. */
interface EngineResult {
  engine: string;
  buildThreads: string;
  buildSeconds: number;
  /** RSS growth over the build, per vector (data arrays of the bench itself excluded: made before). */
  rssBytesPerVector: number;
  /** JavaScript heap in use after the build (ids, payloads, payload indexes), and the heap's limit, in MB. */
  heapMB: { used: number; limit: number };
  engineBytesPerVector?: number;
  sweep: { ef: number; recall: number; qps: number }[];
  at95: { ef: number; recall: number; qps: number; passes: number[] };
  filtered?: { selectivity: number; field: string; recall: number; qps: number; plans: string[] }[];
  /** Absent with --lean. */
  updates?: { records: number; replaceSeconds: number; insertSeconds: number; ratio: number };
  writeLatencyMs?: { alone: Latency; duringCheckpoint: Latency; checkpointMs: number };
  open: { openSeconds: number; firstQuerySeconds: number };
  /** q/s with IN_FLIGHT concurrent queries per thread setting: medians of interleaved passes; CPU of all threads per query. */
  threads?: { threads: number; qps: number; passes: number[]; cpuUsPerQuery: number; recall: number }[];
  peakRssMB: number;
}

/** q/s of one pass with `inFlight` queries awaited at once, CPU µs per query (every thread), what it found. */
async function concurrentPass(
  search: (q: Float32Array) => Promise<ArrayLike<number>> | ArrayLike<number>,
  qs: Float32Array[],
  inFlight: number,
): Promise<{ qps: number; cpuUs: number; found: ArrayLike<number>[] }> {
  const found: ArrayLike<number>[] = new Array(qs.length);
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < qs.length) {
        const i = next++;
        found[i] = await search(qs[i]);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { qps: qs.length / seconds, cpuUs: (cpu.user + cpu.system) / qs.length, found };
}

/** q/s of one pass over the queries, and what it found. */
async function pass(
  search: (q: Float32Array) => Promise<ArrayLike<number>> | ArrayLike<number>,
  qs: Float32Array[],
): Promise<{ qps: number; found: ArrayLike<number>[] }> {
  const found: ArrayLike<number>[] = [];
  const t0 = performance.now();
  for (const q of qs) found.push(await search(q));
  return { qps: qs.length / ((performance.now() - t0) / 1000), found };
}

/** Runs every measurement on one engine (in this, a child, process) and returns them. */
async function measure(e: ScaleEngine, d: ScaleData, lean = false): Promise<EngineResult> {
  const out = { engine: e.name, buildThreads: e.buildThreads } as EngineResult;
  const rss0 = process.memoryUsage().rss;
  let t0 = performance.now();
  await e.build(d);
  out.buildSeconds = (performance.now() - t0) / 1000;
  out.rssBytesPerVector = (process.memoryUsage().rss - rss0) / d.n;
  const heap = getHeapStatistics();
  out.heapMB = { used: heap.used_heap_size / 2 ** 20, limit: heap.heap_size_limit / 2 ** 20 };
  if (e.bytesPerVector) out.engineBytesPerVector = await e.bytesPerVector();
  if (lean) {
    const rss = Math.round(process.memoryUsage().rss / 2 ** 20);
    const { used, limit } = out.heapMB;
    process.stderr.write(
      `${e.name} built in ${out.buildSeconds.toFixed(0)} s, RSS ${rss} MB, JavaScript heap ${used.toFixed(0)} of ${limit.toFixed(0)} MB; ground truth next\n`,
    );
  }

  const truth = await groundTruth(d, 1, d.queries);
  const warm = d.queryRows.slice(0, 100);
  const sweep: { ef: number; recall: number; qps: number }[] = [];
  let chosen = EFS[EFS.length - 1];
  for (const ef of EFS) {
    e.setEf(ef);
    await pass((q) => e.search(q, K), warm);
    const p = await pass((q) => e.search(q, K), d.queryRows);
    sweep.push({ ef, recall: recall(p.found, truth), qps: p.qps });
    if (recall(p.found, truth) >= TARGET_RECALL) {
      chosen = ef;
      break;
    }
  }
  e.setEf(chosen);
  const repeats = [sweep[sweep.length - 1].qps];
  for (let i = 0; i < 2; i++) repeats.push((await pass((q) => e.search(q, K), d.queryRows)).qps);
  out.sweep = sweep;
  out.at95 = { ef: chosen, recall: sweep[sweep.length - 1].recall, qps: median(repeats), passes: repeats };

  if (lean) {
    out.open = await e.reopen(d.queryRows[0]);
    out.peakRssMB = process.resourceUsage().maxRSS / 1024;
    await e.close();
    return out;
  }

  if (e.withThreads) {
    // Interleaved: each round reopens the index once per setting, so load drifts hit every setting alike.
    const runs = new Map(THREADS.map((t) => [t, { qps: [] as number[], cpu: [] as number[], recall: 0 }]));
    for (let round = 0; round < 3; round++) {
      for (const t of THREADS) {
        const r = runs.get(t)!;
        await e.withThreads(t, async () => {
          await concurrentPass((q) => e.search(q, K), warm, IN_FLIGHT);
          const p = await concurrentPass((q) => e.search(q, K), d.queryRows, IN_FLIGHT);
          r.qps.push(p.qps);
          r.cpu.push(p.cpuUs);
          r.recall = recall(p.found, truth);
        });
      }
    }
    out.threads = THREADS.map((t) => {
      const r = runs.get(t)!;
      return { threads: t, qps: median(r.qps), passes: r.qps, cpuUsPerQuery: median(r.cpu), recall: r.recall };
    });
  }

  if (e.searchFiltered) {
    const fq = d.queryRows.slice(0, filterQueries(d));
    const filtered: NonNullable<EngineResult["filtered"]> = [];
    for (const s of SELECTIVITIES) {
      const ft = await groundTruth(d, s, filterQueries(d));
      for (const field of ["indexed", "unindexed"] as const) {
        const plans = new Set<string>();
        const run = (q: Float32Array) =>
          e.searchFiltered!(q, K, s, field).then((r) => {
            plans.add(r.strategy);
            return r.ids;
          });
        await pass(run, fq.slice(0, 20));
        const qps: number[] = [];
        let rec = 0;
        for (let i = 0; i < 3; i++) {
          const p = await pass(run, fq);
          qps.push(p.qps);
          rec = recall(p.found, ft);
        }
        filtered.push({ selectivity: s, field, recall: rec, qps: median(qps), plans: [...plans] });
      }
    }
    out.filtered = filtered;
  }

  // Replacing 1% vs inserting 1%, alternated in halves, batches of 100 records.
  const one = Math.max(2, Math.floor(d.n / 100));
  const times = { replace: 0, insert: 0 };
  let extraRow = 0;
  for (let half = 0; half < 2; half++) {
    for (const kind of ["replace", "insert"] as const) {
      for (let i = half * (one >> 1); i < (half + 1) * (one >> 1); i += 100) {
        const m = Math.min(100, (half + 1) * (one >> 1) - i);
        const ids = Array.from({ length: m }, (_, j) => (kind === "replace" ? ((i + j) * 97) % d.n : d.n + i + j));
        // The extra rows are reused from the start when they run out (batches are at most 100 of 200+).
        if ((extraRow + m) * d.dim > d.extra.length) extraRow = 0;
        const rows = d.extra.subarray(extraRow * d.dim, (extraRow + m) * d.dim);
        extraRow += m;
        t0 = performance.now();
        await (kind === "replace" ? e.replace(ids, rows) : e.insert(ids, rows));
        times[kind] += (performance.now() - t0) / 1000;
      }
    }
  }
  out.updates = {
    records: 2 * (one >> 1),
    replaceSeconds: times.replace,
    insertSeconds: times.insert,
    ratio: times.replace / times.insert,
  };

  if (e.writeLatency) {
    const w = await e.writeLatency(d.extra, d.dim);
    const stats = (xs: number[]) => ({ n: xs.length, p50: quantile(xs, 0.5), p99: quantile(xs, 0.99) });
    out.writeLatencyMs = {
      alone: stats(w.alone),
      duringCheckpoint: stats(w.duringCheckpoint),
      checkpointMs: w.checkpointMs,
    };
  }
  out.open = await e.reopen(d.queryRows[0]);
  out.peakRssMB = process.resourceUsage().maxRSS / 1024;
  await e.close();
  return out;
}

async function child(opts: ScaleOptions): Promise<void> {
  const d = generate(spec(opts));
  const engine = makeScaleEngine(opts.child!, {
    m: opts.m,
    originals: opts.originals,
    buildThreads: opts.buildThreads,
    progressEvery: opts.lean ? 100_000 : 0,
  });
  const r = await measure(engine, d, opts.lean);
  console.log(MARK + JSON.stringify(r));
}

const f = (x: number, digits = 0): string =>
  x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

function report(s: ScaleSpec, m: number, results: EngineResult[]): void {
  console.log(
    `\nscale bench: ${f(s.n)} × ${s.dim} in ${f(s.clusters ?? CLUSTERS)} clusters (l2), ${f(s.queries)} queries, k ${K}, m ${m}`,
  );
  console.log("engine         build s  threads  peak RSS MB  B/vector (RSS; engine)   ef@0.95  recall    q/s");
  for (const r of results) {
    const bpv = `${f(r.rssBytesPerVector)}${r.engineBytesPerVector ? `; ${f(r.engineBytesPerVector)}` : ""}`;
    console.log(
      `${r.engine.padEnd(14)} ${f(r.buildSeconds, 1).padStart(7)} ${r.buildThreads.padStart(8)} ${f(r.peakRssMB).padStart(12)} ${bpv.padStart(24)} ${String(r.at95.ef).padStart(9)} ${r.at95.recall.toFixed(4).padStart(7)} ${f(r.at95.qps).padStart(7)}`,
    );
  }
  for (const r of results) {
    console.log(`${r.engine}: JavaScript heap after the build ${f(r.heapMB.used)} MB (limit ${f(r.heapMB.limit)} MB)`);
  }
  console.log("\nupdates (batches of 100): replace 1% vs insert 1%; open the persisted index; first query");
  for (const r of results) {
    const u = r.updates;
    if (!u) {
      const sweep = r.sweep.map((p) => `ef ${p.ef}: recall ${p.recall.toFixed(4)}, ${f(p.qps)} q/s`).join("; ");
      console.log(
        `${r.engine.padEnd(14)} ${sweep}; open ${f(r.open.openSeconds, 3)} s, first query ${f(r.open.firstQuerySeconds * 1000, 1)} ms`,
      );
      continue;
    }
    console.log(
      `${r.engine.padEnd(14)} replace ${f(u.replaceSeconds, 2)} s, insert ${f(u.insertSeconds, 2)} s (${f(u.records)} records each): ratio ${u.ratio.toFixed(2)}; open ${f(r.open.openSeconds, 3)} s, first query ${f(r.open.firstQuerySeconds * 1000, 1)} ms`,
    );
  }
  for (const r of results) {
    if (!r.writeLatencyMs) continue;
    const w = r.writeLatencyMs;
    console.log(
      `${r.engine}: single-record upsert latency p50/p99 ${w.alone.p50.toFixed(2)}/${w.alone.p99.toFixed(2)} ms alone (${w.alone.n}), ${w.duringCheckpoint.p50.toFixed(2)}/${w.duringCheckpoint.p99.toFixed(2)} ms during a checkpoint (${w.duringCheckpoint.n}; the checkpoint took ${f(w.checkpointMs)} ms)`,
    );
  }
  for (const r of results) {
    if (!r.threads) continue;
    console.log(
      `\n${r.engine}: search threads at ef ${r.at95.ef}, ${IN_FLIGHT} queries in flight (median of 3 interleaved passes)`,
    );
    const base = r.threads[0].qps;
    for (const t of r.threads) {
      console.log(
        `  threads ${t.threads}${t.threads === 0 ? " (calling thread)" : ""}: ${f(t.qps).padStart(7)} q/s (${t.passes.map((x) => f(x)).join(", ")}), ${(t.qps / base).toFixed(2)}×, ${f(t.cpuUsPerQuery)} µs CPU/query, recall ${t.recall.toFixed(4)}`,
      );
    }
  }
  console.log(`\nfiltered (${filterQueries(s)} queries, the engine's ef@0.95, median of 3 passes):`);
  console.log("engine         selectivity  field        recall      q/s  plan");
  for (const r of results) {
    for (const p of r.filtered ?? []) {
      console.log(
        `${r.engine.padEnd(14)} ${String(p.selectivity).padStart(11)}  ${p.field.padEnd(10)} ${p.recall.toFixed(4).padStart(8)} ${f(p.qps).padStart(8)}  ${p.plans.join(",")}`,
      );
    }
  }
}

export async function runScaleBench(opts: ScaleOptions): Promise<void> {
  if (opts.m !== undefined && !(Number.isInteger(opts.m) && opts.m >= 2 && opts.m <= 128)) {
    throw new Error(`--m takes an integer in [2, 128], got ${opts.m}`);
  }
  if (opts.child) return child(opts);
  const s = spec(opts);
  const m = opts.m ?? M;
  const d = generate(s);
  const t0 = performance.now();
  await groundTruth(d, 1, s.queries);
  if (!opts.lean) for (const sel of SELECTIVITIES) await groundTruth(d, sel, filterQueries(s));
  console.log(`ground truth ready (${((performance.now() - t0) / 1000).toFixed(1)} s; cached in bench/.cache/scale)`);
  const results: EngineResult[] = [];
  for (const name of opts.engines ?? (opts.lean ? ["quiver"] : SCALE_ENGINES)) {
    const args = [fileURLToPath(new URL("./main.js", import.meta.url)), "scale", "--child", name];
    args.push("--n", String(s.n), "--dim", String(s.dim), "--queries", String(s.queries));
    if (opts.originals) args.push("--originals", opts.originals);
    if (opts.buildThreads !== undefined) args.push("--build-threads", String(opts.buildThreads));
    if (opts.lean) args.push("--lean");
    args.push("--clusters", String(s.clusters), "--m", String(m));
    const r = spawnSync(process.execPath, args, {
      encoding: "utf8",
      maxBuffer: 1 << 26,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const line = r.stdout.split("\n").find((l) => l.startsWith(MARK));
    if (!line) throw new Error(`${name} failed (exit ${r.status}): ${r.stdout.slice(-2000)}`);
    results.push(JSON.parse(line.slice(MARK.length)));
    console.log(`${name} done`);
  }
  if (opts.json) console.log(JSON.stringify({ spec: s, m, results }));
  report(s, m, results);
}
