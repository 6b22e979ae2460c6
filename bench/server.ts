// Server benchmark: queries per second and p50/p99 latency over HTTP on loopback, with autocannon
// as the load generator, Quiver's server against Chroma's local server (npm chromadb +
// chromadb-js-bindings-linux-x64-gnu 1.0.5) on the same data in the same run, runs interleaved,
// medians of --repeats. Recall@10 is measured through each server's API against the data's ground truth.
// Quiver runs with its default index (exact below 10,000 records, untuned) and with the HNSW graph forced.
// Both graphs (M 16, efConstruction 200) are tuned alike: for each target recall, the smallest ef (Quiver)
// or ef_search (Chroma) reaching it on the tuning queries; recall and load are then measured on the scored
// queries, which took no part in the choice (split.ts).
// The default-index server is also queried through its Qdrant- and Chroma-compatible routes (the same
// collection and queries, docs/compat-*.md): their queries/s against Quiver's own route is the translation's cost.
// Each run also reads the server process's CPU time from /proc (proc-cpu.ts): CPU µs per query, all
// threads and the main (HTTP) thread, the figure a loaded machine moves least.
// `npm run bench -- server [--data DIR] [--repeats N] [--json] [--part compat]`; QUIVER_BENCH_SECONDS,
// QUIVER_BENCH_CONNECTIONS. `--part compat` runs only the three routes of the default-index server.
// QUIVER_BENCH_BASELINE=<dir>: also runs the graph server of another build (<dir>/dist, e.g. a copy made
// before a change) at the same tuned ef, interleaved with the rest: before and after in one run.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { median } from "./median.js";
import { describeSplit, splitQueries } from "./split.js";
import { smallestEf, type Tuned } from "./tune.js";
import { EF_CONSTRUCTION, M } from "./ann-engines.js";
import { mainThreadCpuUs, processTreeCpuUs } from "./proc-cpu.js";

export interface ServerBenchOptions {
  data?: string;
  json?: boolean;
  repeats?: number;
  /** Only the default-index server through its own route and the Qdrant- and Chroma-compatible ones. */
  compatOnly?: boolean;
}

const DEFAULT_DATA = "../shared/data/sift-128-euclidean-ngt5k";
const K = 10;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ADMIN = "bench-admin-key-0123456789abcdef";
const CHROMA = "/api/v2/tenants/default_tenant/databases/default_database";

interface Data {
  dir: string;
  dim: number;
  metric: "l2" | "cosine";
  base: Float32Array;
  nBase: number;
  queries: Float32Array[];
  gt: Int32Array;
  gtDist: Float32Array;
}

function f32(p: string): Float32Array {
  const b = readFileSync(p);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function load(dir: string): Data {
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as {
    dim: number;
    nBase: number;
    nQuery: number;
    metric: string;
  };
  const q = f32(join(dir, "query.f32"));
  const g = readFileSync(join(dir, "gt.i32"));
  return {
    dir,
    dim: meta.dim,
    metric: meta.metric === "cosine" || meta.metric === "angular" ? "cosine" : "l2",
    base: f32(join(dir, "base.f32")),
    nBase: meta.nBase,
    queries: Array.from({ length: meta.nQuery }, (_, i) => q.slice(i * meta.dim, (i + 1) * meta.dim)),
    gt: new Int32Array(g.buffer.slice(g.byteOffset, g.byteOffset + g.byteLength)),
    gtDist: f32(join(dir, "gt_dist.f32")),
  };
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on("error", rej);
  });
}

export async function waitFor(url: string, child: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up at ${url}`);
}

/** POSTs `body` as JSON; resolves to the parsed reply, of the shape `T` the caller expects (undefined if empty). */
async function post<T = unknown>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url}: ${res.status} ${text.slice(0, 400)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** One measured configuration: a server and the settings its queries run with. */
interface Engine {
  name: string;
  /** The query endpoint, its headers, and the body of one query. */
  url: string;
  headers: Record<string, string>;
  body(q: Float32Array): string;
  /** Ids (base row numbers) of one query's top K, through the API. */
  search(q: Float32Array): Promise<number[]>;
  /** The server's process id, whose CPU time each run reads. */
  pid: number;
}

interface Server {
  stop(): Promise<void>;
}

/**
 * A Quiver server over the data. `graph` forces the HNSW index (the default switches to it only past 10,000
 * records); `at(ef)` is then a configuration whose queries ask for that beam width. `threads`: the server's
 * --threads (absent: its default, one per core; 0: graph searches on the thread that serves HTTP).
 * `root`: the build to run (default this one's).
 */
async function startQuiver(
  d: Data,
  graph: boolean,
  threads?: number,
  root = ROOT,
): Promise<Server & { at(ef?: number): Engine; compat(api: "qdrant" | "chroma"): Engine }> {
  const path = mkdtempSync(join(tmpdir(), "quiver-bench-"));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(root, "dist/src/cli/main.js"),
      "serve",
      "--data",
      path,
      "--port",
      String(port),
      "--no-log",
      ...(threads === undefined ? [] : ["--threads", String(threads)]),
    ],
    {
      env: { ...process.env, QUIVER_ADMIN_KEY: ADMIN },
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/healthz`, child, "quiver serve");
  const auth = { authorization: `Bearer ${ADMIN}` };
  const put = await fetch(`${base}/v1/collections/bench`, {
    method: "PUT",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({
      schema: {
        // Named as the Chroma-compatible API names its vector, so all three APIs query this collection.
        vectors: {
          embedding: {
            dim: d.dim,
            metric: d.metric,
            ...(graph ? { index: { type: "hnsw", m: M, efConstruction: EF_CONSTRUCTION } } : {}),
          },
        },
      },
    }),
  });
  if (!put.ok) throw new Error(await put.text());
  for (let i = 0; i < d.nBase; i += 1000) {
    const records = [];
    for (let j = i; j < Math.min(d.nBase, i + 1000); j++)
      records.push({ id: String(j), vector: Array.from(d.base.subarray(j * d.dim, (j + 1) * d.dim)) });
    await post(`${base}/v1/collections/bench/upsert`, { records }, auth);
  }
  const url = `${base}/v1/collections/bench/query`;
  return {
    at(ef) {
      const body = (q: Float32Array) =>
        JSON.stringify({ vector: Array.from(q), limit: K, withPayload: false, ...(ef ? { ef } : {}) });
      return {
        name: `${root === ROOT ? "quiver" : "quiver baseline"} ${
          graph ? `(hnsw, ef ${ef}${threads === undefined ? "" : `, threads ${threads}`})` : "(default index)"
        }`,
        pid: child.pid!,
        url,
        headers: { ...auth, "content-type": "application/json" },
        body,
        async search(q) {
          const r = await post<{ hits: { id: string }[] }>(url, JSON.parse(body(q)), auth);
          return r.hits.map((h) => Number(h.id));
        },
      };
    },
    compat(api) {
      const qdrant = api === "qdrant";
      const compatUrl = qdrant ? `${base}/collections/bench/points/query` : `${base}${CHROMA}/collections/bench/query`;
      const headers: Record<string, string> = qdrant ? { "api-key": ADMIN } : { "x-chroma-token": ADMIN };
      const body = (q: Float32Array) =>
        JSON.stringify(
          qdrant
            ? { query: Array.from(q), limit: K }
            : { query_embeddings: [Array.from(q)], n_results: K, include: ["distances"] },
        );
      return {
        name: `quiver via the ${qdrant ? "Qdrant" : "Chroma"}-compatible API (default index)`,
        pid: child.pid!,
        url: compatUrl,
        headers: { ...headers, "content-type": "application/json" },
        body,
        async search(q) {
          if (qdrant) {
            const r = await post<{ result: { points: { id: number }[] } }>(compatUrl, JSON.parse(body(q)), headers);
            return r.result.points.map((p) => Number(p.id));
          }
          const r = await post<{ ids: string[][] }>(compatUrl, JSON.parse(body(q)), headers);
          return r.ids[0].map(Number);
        },
      };
    },
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/**
 * Chroma's local server. Its `ef_search` is fixed when a collection is created (a later `modify` of it was
 * accepted but did not change the results of the running server in our check), so `at(ef)` builds one
 * collection per ef_search, with Chroma's documented HNSW parameters set to the graph Quiver builds.
 */
async function startChroma(d: Data): Promise<Server & { at(ef: number): Promise<Engine> }> {
  const cli = join(ROOT, "node_modules/chromadb/dist/cli.mjs");
  if (!existsSync(cli)) throw new Error("npm chromadb is not installed");
  const path = mkdtempSync(join(tmpdir(), "chroma-bench-"));
  const port = await freePort();
  const child = spawn(process.execPath, [cli, "run", "--path", path, "--port", String(port)], {
    stdio: ["ignore", "ignore", "ignore"],
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/api/v2/heartbeat`, child, "chroma run");
  const space = d.metric === "cosine" ? "cosine" : "l2";
  const built = new Map<number, Engine>();
  return {
    async at(efSearch) {
      const known = built.get(efSearch);
      if (known) return known;
      const coll = await post<{ id: string }>(`${base}${CHROMA}/collections`, {
        name: `bench-ef-${efSearch}`,
        configuration: {
          hnsw: { space, ef_construction: EF_CONSTRUCTION, ef_search: efSearch, max_neighbors: M },
        },
      });
      const id = coll.id;
      for (let i = 0; i < d.nBase; i += 1000) {
        const ids: string[] = [];
        const embeddings: number[][] = [];
        for (let j = i; j < Math.min(d.nBase, i + 1000); j++) {
          ids.push(String(j));
          embeddings.push(Array.from(d.base.subarray(j * d.dim, (j + 1) * d.dim)));
        }
        await post(`${base}${CHROMA}/collections/${id}/add`, { ids, embeddings });
      }
      const url = `${base}${CHROMA}/collections/${id}/query`;
      const body = (q: Float32Array) =>
        JSON.stringify({ query_embeddings: [Array.from(q)], n_results: K, include: ["distances"] });
      const engine: Engine = {
        name: `chroma 1.0.5 (hnsw, ef_search ${efSearch})`,
        pid: child.pid!,
        url,
        headers: { "content-type": "application/json" },
        body,
        async search(q) {
          const r = await post<{ ids: string[][] }>(url, JSON.parse(body(q)));
          return r.ids[0].map(Number);
        },
      };
      built.set(efSearch, engine);
      return engine;
    },
    async stop() {
      child.kill("SIGINT");
      await new Promise((r) => child.once("exit", r));
      rmSync(path, { recursive: true, force: true });
    },
  };
}

function distance(d: Data, row: number, q: Float32Array): number {
  let dot = 0,
    nb = 0,
    nq = 0,
    l2 = 0;
  for (let i = 0; i < d.dim; i++) {
    const b = d.base[row * d.dim + i];
    dot += b * q[i];
    nb += b * b;
    nq += q[i] * q[i];
    l2 += (b - q[i]) ** 2;
  }
  return d.metric === "cosine" ? 1 - dot / Math.sqrt(nb * nq) : Math.sqrt(l2);
}

/** Recall@K over the given query rows, counting as correct any returned row at the K-th true distance or closer (ties). */
async function recall(e: Engine, d: Data, rows: number[]): Promise<number> {
  let hit = 0;
  for (const i of rows) {
    const kth = d.gtDist[i * 100 + K - 1];
    const got = await e.search(d.queries[i]);
    for (const row of got.slice(0, K)) if (distance(d, row, d.queries[i]) <= kth * (1 + 1e-5) + 1e-6) hit++;
  }
  return hit / (rows.length * K);
}

/** The recall@10 levels at which the engines are compared, each engine tuned to reach them. */
const TARGETS = [0.95, 0.99];

/** Caches one engine's recall on the tuning rows per ef, and logs each. */
function tuningRecall(
  label: string,
  engineAt: (ef: number) => Engine | Promise<Engine>,
  d: Data,
  tuneRows: number[],
  log: (s: string) => void,
): (ef: number) => Promise<number> {
  const seen = new Map<number, number>();
  return async (ef) => {
    let r = seen.get(ef);
    if (r === undefined) {
      r = await recall(await engineAt(ef), d, tuneRows);
      seen.set(ef, r);
      log(`  tuning ${label} at ef ${ef}: recall@${K} ${r.toFixed(4)} on ${tuneRows.length} tuning queries`);
    }
    return r;
  };
}

interface Run {
  qps: number;
  p50: number;
  p99: number;
  errors: number;
  /** The server's CPU µs per answered query: every thread, and its main thread alone. */
  cpuUs: number;
  mainUs: number;
}

/** One autocannon run cycling through the scored queries only. */
async function load_(e: Engine, d: Data, rows: number[], seconds: number, connections: number): Promise<Run> {
  const bodies = rows.map((i) => e.body(d.queries[i]));
  let next = 0;
  const cpu0 = processTreeCpuUs(e.pid);
  const main0 = mainThreadCpuUs(e.pid);
  const result = await autocannon({
    url: e.url,
    method: "POST",
    headers: e.headers,
    connections,
    pipelining: 1,
    duration: seconds,
    requests: [{ method: "POST", setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
  });
  const answered = Math.max(1, result.requests.total);
  return {
    qps: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
    cpuUs: (processTreeCpuUs(e.pid) - cpu0) / answered,
    mainUs: (mainThreadCpuUs(e.pid) - main0) / answered,
  };
}

interface Measured {
  engine: Engine;
  /** The recall level this configuration was tuned for (none for Quiver's untuned default). */
  target?: number;
  tuned?: Tuned;
}

export async function runServerBench(opts: ServerBenchOptions): Promise<void> {
  const d = load(resolve(opts.data ?? DEFAULT_DATA));
  const repeats = opts.repeats ?? 3;
  const seconds = Number(process.env.QUIVER_BENCH_SECONDS ?? 10);
  const connections = Number(process.env.QUIVER_BENCH_CONNECTIONS ?? 16);
  // Up to 1,000 queries, split: each engine's ef is tuned on one part, recall and load are measured on the other.
  const split = splitQueries(Array.from({ length: Math.min(d.queries.length, 1000) }, (_, i) => i));
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(
    `data: ${d.dir}: ${d.nBase} x ${d.dim} (${d.metric}); ${describeSplit(split)}; k=${K}; autocannon ${connections} connections x ${seconds} s, ${repeats} interleaved repeats`,
  );
  const servers: Server[] = [];
  const measured: Measured[] = [];
  const rows: {
    engine: string;
    target: number | null;
    tuneRecall: number | null;
    reached: boolean;
    recall: number;
    qps: number;
    p50: number;
    p99: number;
    errors: number;
    cpuUs: number;
    mainUs: number;
    runs: Run[];
  }[] = [];
  const recalls = new Map<Engine, number>();
  try {
    const quiver = await startQuiver(d, false);
    servers.push(quiver);
    measured.push({ engine: quiver.at() }, { engine: quiver.compat("qdrant") }, { engine: quiver.compat("chroma") });
    if (!opts.compatOnly) {
      const graph = await startQuiver(d, true);
      servers.push(graph);
      const graphRecall = tuningRecall("quiver (hnsw)", (ef) => graph.at(ef), d, split.tune, log);
      // The same graph searched on the thread that serves HTTP: what the search threads add.
      const oneThread = await startQuiver(d, true, 0);
      servers.push(oneThread);
      const baselineRoot = process.env.QUIVER_BENCH_BASELINE;
      const baseline = baselineRoot ? await startQuiver(d, true, undefined, resolve(baselineRoot)) : null;
      if (baseline) servers.push(baseline);
      let chroma: Awaited<ReturnType<typeof startChroma>> | null = null;
      try {
        chroma = await startChroma(d);
        servers.push(chroma);
      } catch (e) {
        log(`chroma could not run: ${e instanceof Error ? e.message : String(e)}`);
      }
      const chromaRecall = chroma ? tuningRecall("chroma", (ef) => chroma.at(ef), d, split.tune, log) : null;
      for (const target of TARGETS) {
        const q = await smallestEf(target, graphRecall);
        measured.push({ engine: graph.at(q.ef), target, tuned: q }, { engine: oneThread.at(q.ef), target, tuned: q });
        if (baseline) measured.push({ engine: baseline.at(q.ef), target, tuned: q });
        if (chroma && chromaRecall) {
          const c = await smallestEf(target, chromaRecall);
          measured.push({ engine: await chroma.at(c.ef), target, tuned: c });
        }
      }
    }
    for (const m of measured) {
      recalls.set(m.engine, await recall(m.engine, d, split.scored));
      log(
        `${m.engine.name}: recall@${K} ${recalls.get(m.engine)!.toFixed(4)} on ${split.scored.length} scored queries`,
      );
    }
    for (const m of measured) await load_(m.engine, d, split.scored, 2, connections); // warm-up
    const runs = new Map<Measured, Run[]>(measured.map((m) => [m, []]));
    for (let r = 0; r < repeats; r++) {
      for (const m of measured) {
        const run = await load_(m.engine, d, split.scored, seconds, connections);
        runs.get(m)!.push(run);
        log(
          `  repeat ${r + 1} ${m.engine.name}: ${run.qps.toFixed(0)} q/s, p50 ${run.p50} ms, p99 ${run.p99} ms, CPU ${run.cpuUs.toFixed(0)} µs/query (main thread ${run.mainUs.toFixed(0)}), errors ${run.errors}`,
        );
      }
    }
    for (const m of measured) {
      const rs = runs.get(m)!;
      rows.push({
        engine: m.engine.name,
        target: m.target ?? null,
        tuneRecall: m.tuned?.tuneRecall ?? null,
        reached: m.tuned?.reached ?? true,
        recall: recalls.get(m.engine)!,
        qps: median(rs.map((x) => x.qps)),
        p50: median(rs.map((x) => x.p50)),
        p99: median(rs.map((x) => x.p99)),
        errors: rs.reduce((a, x) => a + x.errors, 0),
        cpuUs: median(rs.map((x) => x.cpuUs)),
        mainUs: median(rs.map((x) => x.mainUs)),
        runs: rs,
      });
    }
  } finally {
    for (const s of servers) await s.stop().catch(() => undefined);
  }
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          data: d.dir,
          nBase: d.nBase,
          dim: d.dim,
          metric: d.metric,
          k: K,
          seconds,
          connections,
          repeats,
          tuneQueries: split.tune.length,
          scoredQueries: split.scored.length,
          rows,
        },
        null,
        2,
      )}\n`,
    );
    return;
  }
  process.stdout.write(
    `\n| engine | tuned for | tuning recall@${K} | scored recall@${K} | queries/s (median) | CPU µs/query | main thread µs/query | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|---|---|---|---|\n`,
  );
  const fmt = (x: number | null) => (x === null ? "-" : x.toFixed(4));
  for (const r of rows)
    process.stdout.write(
      `| ${r.engine} | ${r.target === null ? "-" : `recall ${r.target}${r.reached ? "" : " (not reached)"}`} | ${fmt(r.tuneRecall)} | ${r.recall.toFixed(4)} | ${r.qps.toFixed(0)} | ${r.cpuUs.toFixed(0)} | ${r.mainUs.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} |\n`,
    );
  // The ratios to read: each target's tuned Quiver graph against that target's tuned Chroma; then Quiver's
  // untuned default against each, with both recalls shown.
  for (const target of TARGETS) {
    const pair = rows.filter((r) => r.target === target);
    const c = pair.find((r) => r.engine.startsWith("chroma"));
    // This build's graph server, and the baseline build's when there is one.
    for (const q of pair.filter((r) => r.engine.startsWith("quiver (") || r.engine.startsWith("quiver baseline (")))
      if (c && !q.engine.includes("threads"))
        process.stdout.write(
          `tuned for recall ${target}: ${q.engine} / ${c.engine}: ${(q.qps / c.qps).toFixed(2)}x queries/s, ${(c.cpuUs / q.cpuUs).toFixed(2)}x less CPU per query (${q.cpuUs.toFixed(0)} vs ${c.cpuUs.toFixed(0)} µs), at scored recall ${q.recall.toFixed(4)} vs ${c.recall.toFixed(4)}\n`,
        );
  }
  const def = rows.find((r) => r.target === null && !r.engine.includes("compatible"));
  // The translation's cost: the same server, collection and queries through each foreign API.
  for (const c of rows.filter((r) => r.engine.includes("compatible")))
    if (def)
      process.stdout.write(
        `${c.engine} / ${def.engine}: ${(c.qps / def.qps).toFixed(2)}x queries/s, p50 ${c.p50} vs ${def.p50} ms, recall ${c.recall.toFixed(4)} vs ${def.recall.toFixed(4)}
`,
      );
  for (const c of rows.filter((r) => r.engine.startsWith("chroma")))
    if (def)
      process.stdout.write(
        `${def.engine} / ${c.engine}: ${(def.qps / c.qps).toFixed(2)}x queries/s at scored recall ${def.recall.toFixed(4)} vs ${c.recall.toFixed(4)}\n`,
      );
}
