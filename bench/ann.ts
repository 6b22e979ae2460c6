// ANN benchmark: `npm run bench -- ann --data DIR [--engines a,b] [--json] [--ef 10,20,...]
// [--filter-selectivity 0.5,0.1,...] [--queries N]`. Each engine runs in its own child process (so its
// peak RSS is its own), builds with M = 16, efConstruction = 200, then sweeps ef single-threaded:
// recall@10 (ties at rank 10 are hits), queries per second, build seconds, peak RSS.
// The queries are split (split.ts): each ef's recall on the tuning part picks an engine's operating point,
// and recall and speed are reported on the scored part. Every timed pass, filtered ones included, follows
// the same untimed warm-up and is repeated (median pass), for every engine.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { bruteForce, K, loadAnnDataset, recallOf, type AnnDataset } from "./ann-data.js";
import { ENGINE_NAMES, makeEngine, type Engine } from "./ann-engines.js";
import { describeSplit, splitQueries } from "./split.js";
import { seededRandom } from "../src/core/util/prng.js";

export interface AnnBenchOptions {
  data?: string;
  json: boolean;
  engines?: string[];
  efs?: number[];
  selectivities?: number[];
  queries?: number;
  /** Internal: run one engine in this process and print its points. */
  child?: string;
  /**
   * Build every engine in one process and alternate their timed passes (filtered ones too), so that noise from other
   * processes on the machine hits them alike (the fair qps ratio on a shared machine; RSS is then shared).
   */
  interleave?: boolean;
}

export interface AnnPoint {
  engine: string;
  dataset: string;
  params: Record<string, unknown>;
  /** Recall on the scored queries (the figure reported). */
  recall: number;
  /** Recall on the tuning queries (what picks the operating point); absent for filtered points. */
  tuneRecall?: number;
  qps: number;
  buildSeconds: number;
  rssMB: number;
  [extra: string]: unknown;
}

const DEFAULT_EFS = [10, 16, 24, 32, 40, 48, 64, 96, 128, 192, 256, 384];
const DEFAULT_ENGINES = ["quiver", "quiver-f32", "hnswlib-node", "hnswlib-wasm", "usearch", "orama"];
/** Orama scans every vector per query: measure it on fewer queries. */
const ORAMA_QUERIES = 100;
const FILTER_QUERIES = 200;
const FILTER_EF = 64;
const MIN_TIMED_SECONDS = 0.5;
const MAX_PASSES = 20;
const WARM_UP_QUERIES = 100;
const MARK = "@@ann ";

const rssMB = (): number => process.resourceUsage().maxRSS / 1024;

type Search = (q: Float32Array) => ArrayLike<number | bigint> | Promise<ArrayLike<number | bigint>>;

async function runQueries(search: Search, qs: Float32Array[]): Promise<{ results: number[][]; seconds: number }> {
  const raw: ArrayLike<number | bigint>[] = new Array(qs.length);
  const t0 = performance.now();
  for (let i = 0; i < qs.length; i++) {
    let r = search(qs[i]);
    if (r instanceof Promise) r = await r;
    raw[i] = r;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { results: raw.map((r) => Array.from(r, Number)), seconds };
}

/**
 * The measurement every engine and mode gets: an untimed warm-up, then timed passes over `qs` until they
 * add up to MIN_TIMED_SECONDS (at most MAX_PASSES); the first pass's results and the median pass's seconds.
 */
async function timedPasses(
  search: Search,
  qs: Float32Array[],
): Promise<{ results: number[][]; seconds: number; passes: number }> {
  await runQueries(search, qs.slice(0, Math.min(WARM_UP_QUERIES, qs.length)));
  const first = await runQueries(search, qs);
  const times = [first.seconds];
  let total = first.seconds;
  while (total < MIN_TIMED_SECONDS && times.length < MAX_PASSES) {
    const again = await runQueries(search, qs);
    times.push(again.seconds);
    total += again.seconds;
  }
  times.sort((a, b) => a - b);
  return { results: first.results, seconds: times[Math.floor(times.length / 2)], passes: times.length };
}

/** The first `limit` queries of the data set, split into tuning and scored parts with their ground truth. */
function splitAnnQueries(ds: AnnDataset, limit: number) {
  const rows = Array.from({ length: Math.min(limit, ds.queries.length) }, (_, i) => i);
  const { tune, scored } = splitQueries(rows);
  return {
    tune: tune.map((i) => ds.queries[i]),
    tuneTruth: tune.map((i) => ds.truth[i]),
    scored: scored.map((i) => ds.queries[i]),
    scoredTruth: scored.map((i) => ds.truth[i]),
    description: describeSplit({ tune, scored }),
  };
}

/** One ef for every engine's filtered runs (not tuned per engine): --ef when a single value is given. */
const filterEf = (opts: AnnBenchOptions): number => (opts.efs?.length === 1 ? opts.efs[0] : FILTER_EF);

interface FilterCase {
  selectivity: number;
  allowed: Uint8Array;
  bits: Uint8Array;
  matches: number;
  /** Exact filtered top-k of each query. */
  truth: Set<number>[];
}

/** Synthetic payload: each row draws u in [0, 1) from a seeded generator; the filter is u < selectivity. */
function syntheticFilter(ds: AnnDataset, selectivity: number, qs: Float32Array[]): FilterCase {
  const allowed = new Uint8Array(ds.n);
  const bits = new Uint8Array(Math.ceil(ds.n / 8));
  const random = seededRandom(12345);
  let matches = 0;
  for (let i = 0; i < ds.n; i++) {
    if (random() < selectivity) {
      allowed[i] = 1;
      bits[i >> 3] |= 1 << (i & 7);
      matches++;
    }
  }
  const truth = qs.map((q) => bruteForce(ds.base, ds.n, ds.dim, ds.metric, q, allowed));
  return { selectivity, allowed, bits, matches, truth };
}

/** The engine's filtered search as a plain search, recording the plans it reports. */
function filteredSearch(e: Engine, f: FilterCase, strategies: Set<string>): Search {
  const searchFiltered = e.searchFiltered!.bind(e);
  return (q) => {
    const r = searchFiltered(q, K, f.allowed, f.bits);
    if (r.strategy) strategies.add(r.strategy);
    return r.ids;
  };
}

function filteredPoint(
  e: Engine,
  ds: AnnDataset,
  opts: AnnBenchOptions,
  f: FilterCase,
  timed: { results: number[][]; seconds: number; passes: number },
  strategies: Set<string>,
  extra: { buildSeconds: number; rssMB: number; interleaved?: boolean },
): AnnPoint {
  const n = timed.results.length;
  return {
    engine: e.name,
    dataset: ds.name,
    params: { M: 16, efConstruction: 200, ef: filterEf(opts), selectivity: f.selectivity },
    recall: recallOf(timed.results, f.truth),
    qps: n / timed.seconds,
    ...extra,
    matches: f.matches,
    hitsMin: Math.min(...timed.results.map((r) => r.length)),
    hitsMean: timed.results.reduce((a, r) => a + r.length, 0) / n,
    wanted: Math.min(K, f.matches),
    strategies: [...strategies],
    queries: n,
    passes: timed.passes,
  };
}

const INTERLEAVED_PASSES = 5;

/** --interleave: all engines in this process, passes alternated A B A B …, median pass per engine. */
async function interleaved(opts: AnnBenchOptions): Promise<void> {
  const ds = loadAnnDataset(opts.data!);
  const { tune, tuneTruth, scored: queries, scoredTruth: truth } = splitAnnQueries(ds, opts.queries ?? Infinity);
  const engines = opts.child!.split(",").map(makeEngine);
  const build = new Map<string, number>();
  for (const e of engines) {
    const t0 = performance.now();
    await e.build(ds);
    build.set(e.name, (performance.now() - t0) / 1000);
  }
  for (const ef of opts.efs ?? DEFAULT_EFS) {
    const times = new Map<string, number[]>(engines.map((e) => [e.name, []]));
    const recall = new Map<string, number>();
    const tuneRecall = new Map<string, number>();
    for (const e of engines) {
      await e.setEf(ef);
      const search: Search = (q) => e.search(q, K);
      tuneRecall.set(e.name, recallOf((await runQueries(search, tune)).results, tuneTruth));
      await runQueries(search, queries.slice(0, Math.min(WARM_UP_QUERIES, queries.length)));
    }
    for (let pass = 0; pass < INTERLEAVED_PASSES; pass++) {
      for (const e of pass % 2 === 0 ? engines : [...engines].reverse()) {
        await e.setEf(ef);
        const r = await runQueries((q) => e.search(q, K), queries);
        times.get(e.name)!.push(r.seconds);
        if (pass === 0) recall.set(e.name, recallOf(r.results, truth));
      }
    }
    for (const e of engines) {
      const t = times.get(e.name)!.sort((a, b) => a - b);
      process.stdout.write(
        MARK +
          JSON.stringify({
            // An exhaustive engine ignores ef; it is re-timed beside each ef as a reference for the noise.
            engine: e.name,
            dataset: ds.name,
            params: e.tunable ? { M: 16, efConstruction: 200, ef } : { exhaustive: true },
            recall: recall.get(e.name),
            tuneRecall: tuneRecall.get(e.name),
            qps: queries.length / t[Math.floor(t.length / 2)],
            buildSeconds: build.get(e.name),
            rssMB: NaN,
            interleaved: true,
            queries: queries.length,
            passes: t.length,
          }) +
          "\n",
      );
    }
  }
  if (opts.selectivities !== undefined) await interleavedFiltered(opts, ds, engines, queries, build);
}

/** Filtered runs of --interleave: each engine warmed, then timed passes alternated, median pass per engine. */
async function interleavedFiltered(
  opts: AnnBenchOptions,
  ds: AnnDataset,
  engines: Engine[],
  queries: Float32Array[],
  build: Map<string, number>,
): Promise<void> {
  const filterable = engines.filter((e) => e.searchFiltered !== undefined);
  for (const e of filterable) await e.setEf(filterEf(opts));
  const fq = queries.slice(0, FILTER_QUERIES);
  for (const sel of opts.selectivities!) {
    const f = syntheticFilter(ds, sel, fq);
    const runs = filterable.map((e) => {
      const strategies = new Set<string>();
      return {
        e,
        strategies,
        search: filteredSearch(e, f, strategies),
        times: [] as number[],
        results: [] as number[][],
      };
    });
    for (const r of runs) await runQueries(r.search, fq.slice(0, Math.min(WARM_UP_QUERIES, fq.length)));
    for (let pass = 0; pass < INTERLEAVED_PASSES; pass++) {
      for (const r of pass % 2 === 0 ? runs : [...runs].reverse()) {
        const p = await runQueries(r.search, fq);
        r.times.push(p.seconds);
        if (pass === 0) r.results = p.results;
      }
    }
    for (const r of runs) {
      const t = r.times.sort((a, b) => a - b);
      const timed = { results: r.results, seconds: t[Math.floor(t.length / 2)], passes: t.length };
      const point = filteredPoint(r.e, ds, opts, f, timed, r.strategies, {
        buildSeconds: build.get(r.e.name)!,
        rssMB: NaN,
        interleaved: true,
      });
      process.stdout.write(`${MARK + JSON.stringify(point)}\n`);
    }
  }
}

/** Runs one engine and prints its points (as marked JSON lines the parent reads). */
async function child(opts: AnnBenchOptions): Promise<void> {
  if (opts.interleave) return interleaved(opts);
  const ds = loadAnnDataset(opts.data!);
  const e = makeEngine(opts.child!);
  const emit = (p: AnnPoint): void => void process.stdout.write(`${MARK + JSON.stringify(p)}\n`);
  const limit = Math.min(opts.queries ?? Infinity, e.name === "orama" ? ORAMA_QUERIES : Infinity);
  const { tune, tuneTruth, scored: queries, scoredTruth: truth } = splitAnnQueries(ds, limit);
  const rssBase = rssMB();
  const t0 = performance.now();
  await e.build(ds);
  const buildSeconds = (performance.now() - t0) / 1000;
  const efs = e.tunable ? (opts.efs ?? DEFAULT_EFS) : [0];
  for (const ef of efs) {
    await e.setEf(ef);
    const search: Search = (q) => e.search(q, K);
    const tuneRecall = recallOf((await runQueries(search, tune)).results, tuneTruth);
    const timed = await timedPasses(search, queries);
    emit({
      engine: e.name,
      dataset: ds.name,
      params: e.tunable ? { M: 16, efConstruction: 200, ef } : { exhaustive: true },
      recall: recallOf(timed.results, truth),
      tuneRecall,
      qps: queries.length / timed.seconds,
      buildSeconds,
      rssMB: rssMB(),
      rssBaseMB: rssBase,
      queries: queries.length,
      passes: timed.passes,
      ...(e.note ? { note: e.note } : {}),
    });
  }
  if (opts.selectivities !== undefined && e.searchFiltered !== undefined) {
    await e.setEf(filterEf(opts));
    const fq = queries.slice(0, FILTER_QUERIES);
    for (const sel of opts.selectivities) {
      const f = syntheticFilter(ds, sel, fq);
      const strategies = new Set<string>();
      const timed = await timedPasses(filteredSearch(e, f, strategies), fq);
      emit(filteredPoint(e, ds, opts, f, timed, strategies, { buildSeconds, rssMB: rssMB() }));
    }
  }
  const mem = e.memory?.();
  if (mem && Object.keys(mem).length > 0)
    process.stdout.write(`${MARK + JSON.stringify({ engine: e.name, memory: mem })}\n`);
}

function runChild(engine: string, opts: AnnBenchOptions): Promise<unknown[]> {
  const args = [fileURLToPath(new URL("./main.js", import.meta.url)), "ann", "--child", engine, "--data", opts.data!];
  if (opts.efs) args.push("--ef", opts.efs.join(","));
  if (opts.selectivities) args.push("--filter-selectivity", opts.selectivities.join(","));
  if (opts.queries) args.push("--queries", String(opts.queries));
  if (opts.interleave) args.push("--interleave");
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.on("error", reject);
    p.on("close", (code) => {
      const lines = out
        .split("\n")
        .filter((l) => l.startsWith(MARK))
        .map((l) => JSON.parse(l.slice(MARK.length)) as unknown);
      if (code !== 0) process.stderr.write(`ann: engine ${engine} exited with ${code}\n`);
      resolve(lines);
    });
  });
}

const fmt = (x: number | null, d = 0): string =>
  x === null || Number.isNaN(x)
    ? "-"
    : x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });

export async function runAnnBench(opts: AnnBenchOptions): Promise<void> {
  if (opts.data === undefined) throw new Error("ann needs --data DIR");
  if (opts.child !== undefined) return child(opts);
  const ds = loadAnnDataset(opts.data);
  let engines = opts.engines ?? DEFAULT_ENGINES;
  if (opts.engines === undefined && ds.metric === "cosine" && ds.dim >= 256)
    engines = [...engines.slice(0, 2), "quiver-binary", ...engines.slice(2)];
  for (const e of engines)
    if (!ENGINE_NAMES.includes(e)) throw new Error(`unknown engine ${e} (available: ${ENGINE_NAMES.join(", ")})`);
  if (!opts.json) {
    console.log(
      `ANN benchmark: ${ds.name}, ${ds.n} × ${ds.dim} ${ds.metric}, ${ds.queries.length} queries, recall@${K}; M=16 efConstruction=200; single thread`,
    );
    console.log(
      `queries: ${splitAnnQueries(ds, opts.queries ?? Infinity).description}; the operating point is picked on the tuning part, recall and qps are the scored part's${opts.interleave ? "" : ` (Orama in its own process: the first ${ORAMA_QUERIES} queries, split alike)`}`,
    );
  }
  const points: AnnPoint[] = [];
  const memories: Record<string, unknown> = {};
  // Engines run one after another so that they never share the two cores.
  for (const name of opts.interleave ? [engines.join(",")] : engines) {
    const lines = await runChild(name, opts);
    for (const l of lines as (AnnPoint & { memory?: unknown })[]) {
      if (l.memory !== undefined) {
        memories[l.engine] = l.memory;
        continue;
      }
      points.push(l);
      if (opts.json) {
        const { engine, dataset, params, recall, qps, buildSeconds, rssMB: rss, ...rest } = l;
        console.log(JSON.stringify({ engine, dataset, params, recall, qps, buildSeconds, rssMB: rss, ...rest }));
      }
    }
  }
  if (opts.json) return;
  printTables(points, memories);
}

function printTables(points: AnnPoint[], memories: Record<string, unknown>): void {
  const plain = points.filter((p) => p.params.selectivity === undefined);
  console.log("\nengine          ef  tune recall  recall@10        qps   build s   peak RSS MB");
  for (const p of plain) {
    console.log(
      `${p.engine.padEnd(14)} ${String(p.params.ef ?? "-").padStart(4)} ${fmt(p.tuneRecall ?? null, 4).padStart(11)} ${p.recall.toFixed(4).padStart(10)} ${fmt(p.qps).padStart(10)} ${p.buildSeconds.toFixed(1).padStart(9)} ${fmt(p.rssMB).padStart(13)}${p.note ? `   (${String(p.note)})` : ""}`,
    );
  }
  // The comparison the issue asks for: per engine, the fastest point whose recall on the tuning queries is
  // ≥ 0.95; its recall and qps are then reported on the scored queries, which took no part in the choice.
  const best = new Map<string, AnnPoint>();
  for (const p of plain) {
    if ((p.tuneRecall ?? 0) < 0.95) continue;
    const b = best.get(p.engine);
    if (b === undefined || p.qps > b.qps) best.set(p.engine, p);
  }
  const ref = best.get("hnswlib-node");
  console.log("\nat recall@10 ≥ 0.95 on the tuning queries (fastest such point per engine), scored queries' figures:");
  console.log("engine          ef    recall        qps   vs hnswlib-node   build s   peak RSS MB");
  for (const name of new Set(plain.map((p) => p.engine))) {
    const p = best.get(name);
    if (p === undefined) {
      const top = Math.max(...plain.filter((x) => x.engine === name).map((x) => x.tuneRecall ?? 0));
      console.log(`${name.padEnd(14)}  never reaches 0.95 on the tuning queries (best ${top.toFixed(4)})`);
      continue;
    }
    const ratio = ref ? `${(p.qps / ref.qps).toFixed(2)}×` : "-";
    console.log(
      `${name.padEnd(14)} ${String(p.params.ef ?? "-").padStart(4)} ${p.recall.toFixed(4).padStart(8)} ${fmt(p.qps).padStart(10)} ${ratio.padStart(17)} ${p.buildSeconds.toFixed(1).padStart(9)} ${fmt(p.rssMB).padStart(13)}`,
    );
  }
  const filtered = points.filter((p) => p.params.selectivity !== undefined);
  if (filtered.length > 0) {
    console.log("\nfiltered search (synthetic payload, one ef for every engine, scored queries, warmed, median pass):");
    console.log("engine          selectivity  matches  recall@10  hits min/mean/wanted        qps   plan");
    for (const p of filtered) {
      console.log(
        `${p.engine.padEnd(14)} ${String(p.params.selectivity).padStart(11)} ${fmt(p.matches as number).padStart(8)} ${p.recall.toFixed(4).padStart(10)} ${`${p.hitsMin}/${(p.hitsMean as number).toFixed(2)}/${p.wanted}`.padStart(21)} ${fmt(p.qps).padStart(10)}   ${(p.strategies as string[]).join(",")}`,
      );
    }
  }
  for (const [engine, m] of Object.entries(memories))
    console.log(`\n${engine} memory per vector: ${JSON.stringify(m)}`);
}
