// Server benchmark: queries per second and p50/p99 latency over HTTP on loopback, with autocannon
// as the load generator, Quiver's server against Chroma's local server (npm chromadb +
// chromadb-js-bindings-linux-x64-gnu 1.0.5) on the same data in the same run, runs interleaved,
// medians of --repeats. Recall@10 is measured through each server's API against the data's ground truth.
// Quiver runs twice: with its default index (exact below 10,000 records) and with the HNSW graph forced,
// at the smallest ef whose recall reaches Chroma's best on the same queries (equal recall).
// `npm run bench -- server [--data DIR] [--repeats N] [--json]`; QUIVER_BENCH_SECONDS, QUIVER_BENCH_CONNECTIONS.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { median } from "./median.js";

export interface ServerBenchOptions {
  data?: string;
  json?: boolean;
  repeats?: number;
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

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on("error", rej);
  });
}

async function waitFor(url: string, child: ChildProcess, what: string): Promise<void> {
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

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<any> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url}: ${res.status} ${text.slice(0, 400)}`);
  return text ? JSON.parse(text) : undefined;
}

interface Engine {
  name: string;
  /** The query endpoint, its headers, and the body of one query. */
  url: string;
  headers: Record<string, string>;
  body(q: Float32Array): string;
  /** Ids (base row numbers) of one query's top K, through the API. */
  search(q: Float32Array): Promise<number[]>;
  stop(): Promise<void>;
}

/**
 * A Quiver server over the data. `hnsw` forces the graph index (the default switches to it only past
 * 10,000 records) and `ef` is then the beam width every query asks for.
 */
async function startQuiver(d: Data, graph?: { ef: number }): Promise<Engine & { setEf(ef: number): void }> {
  const path = mkdtempSync(join(tmpdir(), "quiver-bench-"));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [join(ROOT, "dist/src/cli/main.js"), "serve", "--data", path, "--port", String(port), "--no-log"],
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
        vectors: {
          v: {
            dim: d.dim,
            metric: d.metric,
            ...(graph ? { index: { type: "hnsw", m: 16, efConstruction: 200 } } : {}),
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
  let ef = graph?.ef;
  const body = (q: Float32Array) =>
    JSON.stringify({ vector: Array.from(q), limit: K, withPayload: false, ...(ef ? { ef } : {}) });
  return {
    get name() {
      return graph ? `quiver (hnsw, ef ${ef})` : "quiver (default index)";
    },
    setEf(v: number) {
      ef = v;
    },
    url,
    headers: { ...auth, "content-type": "application/json" },
    body,
    async search(q) {
      const r = await post(url, JSON.parse(body(q)), auth);
      return (r.hits as { id: string }[]).map((h) => Number(h.id));
    },
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      rmSync(path, { recursive: true, force: true });
    },
  };
}

async function startChroma(d: Data, efSearch: number): Promise<Engine> {
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
  const coll = await post(`${base}${CHROMA}/collections`, {
    name: "bench",
    configuration: { hnsw: { space, ef_construction: 200, ef_search: efSearch, max_neighbors: 16 } },
  });
  const id = coll.id as string;
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
  return {
    name: `chroma 1.0.5 (hnsw, ef_search ${efSearch})`,
    url,
    headers: { "content-type": "application/json" },
    body,
    async search(q) {
      const r = await post(url, JSON.parse(body(q)));
      return (r.ids[0] as string[]).map(Number);
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

/** Recall@K, counting as correct any returned row at the K-th true distance or closer (ties). */
async function recall(e: Engine, d: Data, from: number, to: number): Promise<number> {
  let hit = 0;
  for (let i = from; i < to; i++) {
    const kth = d.gtDist[i * 100 + K - 1];
    const got = await e.search(d.queries[i]);
    for (const row of got.slice(0, K)) if (distance(d, row, d.queries[i]) <= kth * (1 + 1e-5) + 1e-6) hit++;
  }
  return hit / ((to - from) * K);
}

interface Run {
  qps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load_(e: Engine, d: Data, seconds: number, connections: number): Promise<Run> {
  const bodies = d.queries.map((q) => e.body(q));
  let next = 0;
  const result = await autocannon({
    url: e.url,
    method: "POST",
    headers: e.headers,
    connections,
    pipelining: 1,
    duration: seconds,
    requests: [{ method: "POST", setupRequest: (req: any) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
  });
  return {
    qps: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
  };
}

export async function runServerBench(opts: ServerBenchOptions): Promise<void> {
  const d = load(resolve(opts.data ?? DEFAULT_DATA));
  const repeats = opts.repeats ?? 3;
  const seconds = Number(process.env.QUIVER_BENCH_SECONDS ?? 10);
  const connections = Number(process.env.QUIVER_BENCH_CONNECTIONS ?? 16);
  // Every engine's recall is measured on the same queries (up to 1,000), and Quiver's graph beam width is
  // the smallest whose recall on them reaches Chroma's best: equal recall, as the ANN bench picks its points.
  const nRecall = Math.min(d.queries.length, 1000);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(
    `data: ${d.dir}: ${d.nBase} x ${d.dim} (${d.metric}), ${d.queries.length} queries; k=${K}; autocannon ${connections} connections x ${seconds} s, ${repeats} interleaved repeats`,
  );
  const engines: Engine[] = [];
  const rows: { engine: string; recall: number; qps: number; p50: number; p99: number; errors: number; runs: Run[] }[] =
    [];
  try {
    const recalls = new Map<Engine, number>();
    /** Chroma's best recall: the recall Quiver's graph must reach. */
    let target = 0;
    for (const ef of [100, 10]) {
      try {
        const e = await startChroma(d, ef);
        engines.push(e);
        recalls.set(e, await recall(e, d, 0, nRecall));
        target = Math.max(target, recalls.get(e)!);
        log(`${e.name}: recall@${K} ${recalls.get(e)!.toFixed(4)} over ${nRecall} queries`);
      } catch (e) {
        log(`chroma (ef_search ${ef}) could not run: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const quiver = await startQuiver(d);
    engines.unshift(quiver);
    recalls.set(quiver, await recall(quiver, d, 0, nRecall));
    log(`${quiver.name}: recall@${K} ${recalls.get(quiver)!.toFixed(4)} over ${nRecall} queries`);
    const graph = await startQuiver(d, { ef: 16 });
    for (const ef of [16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 256, 384]) {
      graph.setEf(ef);
      const r = await recall(graph, d, 0, nRecall);
      log(`  quiver (hnsw) at ef ${ef}: recall@${K} ${r.toFixed(4)} (chroma's best: ${target.toFixed(4)})`);
      recalls.set(graph, r);
      if (r >= target) break;
    }
    engines.splice(1, 0, graph);
    for (const e of engines) await load_(e, d, 2, connections); // warm-up
    const runs = new Map<Engine, Run[]>(engines.map((e) => [e, []]));
    for (let r = 0; r < repeats; r++) {
      for (const e of engines) {
        const run = await load_(e, d, seconds, connections);
        runs.get(e)!.push(run);
        log(
          `  repeat ${r + 1} ${e.name}: ${run.qps.toFixed(0)} q/s, p50 ${run.p50} ms, p99 ${run.p99} ms, errors ${run.errors}`,
        );
      }
    }
    for (const e of engines) {
      const rs = runs.get(e)!;
      rows.push({
        engine: e.name,
        recall: recalls.get(e)!,
        qps: median(rs.map((x) => x.qps)),
        p50: median(rs.map((x) => x.p50)),
        p99: median(rs.map((x) => x.p99)),
        errors: rs.reduce((a, x) => a + x.errors, 0),
        runs: rs,
      });
    }
  } finally {
    for (const e of engines) await e.stop().catch(() => undefined);
  }
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify(
        { data: d.dir, nBase: d.nBase, dim: d.dim, metric: d.metric, k: K, seconds, connections, repeats, rows },
        null,
        2,
      )}\n`,
    );
    return;
  }
  process.stdout.write(
    `\n| engine | recall@${K} | queries/s (median) | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|\n`,
  );
  for (const r of rows)
    process.stdout.write(
      `| ${r.engine} | ${r.recall.toFixed(4)} | ${r.qps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} |\n`,
    );
  for (const q of rows.filter((r) => r.engine.startsWith("quiver"))) {
    for (const c of rows.filter((r) => r.engine.startsWith("chroma"))) {
      process.stdout.write(
        `${q.engine} / ${c.engine}: ${(q.qps / c.qps).toFixed(2)}x queries/s at recall ${q.recall.toFixed(4)} vs ${c.recall.toFixed(4)}\n`,
      );
    }
  }
}
