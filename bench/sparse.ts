// Sparse vector benchmark on the shared IR collections (Cranfield, CISI, SciFact): each document's
// BM25 term weights stored as a sparse vector (TextIndex.bm25Weights), each query as its term counts.
// Checked first: for every query, the sparse top 10 through the public API equals Quiver's BM25 top 10
// (same ids, scores within 1e-5). Then single-thread queries/s (top 10) of three ways to the same
// answer, in the same process, passes interleaved in every repeat (medians): the BM25 path
// (TextIndex.search: query analysis + term-at-a-time scoring), the sparse index's search (which scans
// short lists and prunes long ones), MaxScore forced, and a plain exhaustive inverted-index scan. Core calls, so no path pays API overhead;
// the public API's figures follow. Memory: bytes per posting of the sparse index and of the BM25 index.

import { join } from "node:path";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { irDatabase, loadIrCollection } from "../src/cli/ir.js";
import { defaultTextPlugins } from "../src/index.js";
import { DEFAULT_BM25, TextIndex } from "../src/core/index/bm25/text-index.js";
import { SparseIndex } from "../src/core/index/sparse/sparse-index.js";
import { toSparseVector, type SparseVector } from "../src/core/index/sparse/sparse-vector.js";
import { bm25AsSparse, rankingDifference } from "../test/support/bm25-sparse.js";
import { median } from "./median.js";
import { seededRandom } from "../src/core/util/prng.js";

export interface SparseBenchOptions {
  data?: string;
  json?: boolean;
  repeats?: number;
}

const DEFAULT_DATA = "../shared/data/ir";
const COLLECTIONS = ["cranfield", "cisi", "scifact"];
const K = 10;
/** Each timed pass lasts at least this long. */
const MIN_TIMED_MS = 1000;

function encode(input: { indices: number[]; values: number[] }): SparseVector {
  const v = toSparseVector(input, "bench", Number.MAX_SAFE_INTEGER, []).vector;
  if (!v) throw new Error("invalid sparse vector");
  return v;
}

/** Queries/s of `run` over every query: an untimed warm-up pass, then passes for at least MIN_TIMED_MS. */
function throughput(queries: number, run: (i: number) => void): number {
  for (let i = 0; i < queries; i++) run(i);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < MIN_TIMED_MS || n === 0) {
    for (let i = 0; i < queries; i++) run(i);
    n += queries;
  }
  return n / ((performance.now() - t0) / 1000);
}

async function benchCollection(dir: string, repeats: number) {
  const data = loadIrCollection(dir);
  const texts = data.docs.map((d) => d.text);
  const spec = {};
  const encoded = bm25AsSparse(texts, "text", spec, DEFAULT_BM25, defaultTextPlugins);
  const queries = data.queries.map((q) => q.text);
  const sparseQueries = queries.map((q) => encode(encoded.query(q)));

  // Exactness through the public API, on every query.
  const db = await irDatabase();
  const textColl = await db.createCollection("bm25", { vectors: {}, text: { text: spec } });
  const sparseColl = await db.createCollection("sparse", { vectors: { bm25: { kind: "sparse" } } });
  await textColl.upsert(data.docs.map((d) => ({ id: d.id, payload: { text: d.text } })));
  await sparseColl.upsert(data.docs.map((d, i) => ({ id: d.id, vectors: { bm25: encoded.docs[i] } })));
  let same = 0;
  const differences: string[] = [];
  for (let i = 0; i < queries.length; i++) {
    const want = await textColl.query({ text: queries[i], limit: K, withPayload: false });
    const got = await sparseColl.query({ vector: { bm25: encoded.query(queries[i]) }, limit: K, withPayload: false });
    const diff = rankingDifference(want.hits, got.hits, 1e-5);
    if (diff === null) same++;
    else differences.push(`${data.queries[i].id}: ${diff}`);
  }

  // The three core paths over the same documents.
  const text = new TextIndex({ text: spec }, DEFAULT_BM25, defaultTextPlugins);
  const sparse = new SparseIndex();
  texts.forEach((t, slot) => {
    text.add(slot, { text: t });
    sparse.add(slot, encode(encoded.docs[slot]));
  });
  const highWater = texts.length;
  const paths: Record<string, (i: number) => void> = {
    "bm25 (TextIndex.search)": (i) => text.search(queries[i], K, { highWater }),
    "sparse search (SparseIndex.search)": (i) => sparse.search(sparseQueries[i], K),
    "sparse MaxScore (SparseIndex.maxScore)": (i) => sparse.maxScore(sparseQueries[i], K),
    "sparse exhaustive scan (SparseIndex.scan)": (i) => sparse.scan(sparseQueries[i], K),
    "api: query({ text })": () => {},
    "api: query({ vector: { bm25 } })": () => {},
  };
  const apiPaths: Record<string, (i: number) => Promise<unknown>> = {
    "api: query({ text })": (i) => textColl.query({ text: queries[i], limit: K, withPayload: false }),
    "api: query({ vector: { bm25 } })": (i) =>
      sparseColl.query({ vector: { bm25: encoded.query(queries[i]) }, limit: K, withPayload: false }),
  };
  const samples = new Map<string, number[]>(Object.keys(paths).map((p) => [p, []]));
  const names = Object.keys(paths);
  for (let r = 0; r < repeats; r++) {
    // Interleaved, and the order rotated every repeat, so no path always runs first.
    const order = names.map((_, j) => names[(j + r) % names.length]);
    for (const name of order) {
      if (apiPaths[name]) samples.get(name)!.push(await asyncThroughput(queries.length, apiPaths[name]));
      else samples.get(name)!.push(throughput(queries.length, paths[name]));
    }
  }
  const qps = Object.fromEntries([...samples].map(([name, xs]) => [name, Math.round(median(xs))]));
  const bm25Postings = text.fields[0].index.postings.reduce((s, p) => s + p.length, 0);
  await db.close();
  return {
    collection: data.name,
    docs: texts.length,
    queries: queries.length,
    sameTop10: same,
    differences: differences.slice(0, 5),
    qps,
    ...workPerQuery(sparse, sparseQueries),
    memory: {
      ...sparseMemory(sparse),
      bm25Postings,
      bm25BytesPerPosting: +(text.memoryBytes() / bm25Postings).toFixed(1),
    },
  };
}

/** Per query, on average: postings in its lists, postings MaxScore read, documents it scored in full. */
function workPerQuery(sparse: SparseIndex, queries: SparseVector[]) {
  let postings = 0;
  let read = 0;
  let scored = 0;
  for (const q of queries) {
    const r = sparse.maxScore(q, K);
    postings += r.postings;
    read += r.read;
    scored += r.scored;
  }
  const per = (x: number) => Math.round(x / queries.length);
  return { perQuery: { postings: per(postings), read: per(read), maxScoreScored: per(scored) } };
}

function sparseMemory(sparse: SparseIndex) {
  return {
    sparsePostings: sparse.postingCount,
    sparseBytesPerPosting: +(sparse.memoryBytes() / sparse.postingCount).toFixed(1),
  };
}

async function asyncThroughput(queries: number, run: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < queries; i++) await run(i);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < MIN_TIMED_MS || n === 0) {
    for (let i = 0; i < queries; i++) await run(i);
    n += queries;
  }
  return n / ((performance.now() - t0) / 1000);
}

/**
 * A learned-sparse-like collection larger than the IR sets, where lists are long: `n` vectors of
 * about 40 indices drawn from a Zipf(1) vocabulary of 30,000 (common indices in most vectors), with
 * weights that grow with an index's rarity (as SPLADE's do), and 200 queries of about 20 indices
 * drawn the same way. Exactness here is MaxScore's top 10 against the exhaustive scan's.
 */
function syntheticBench(n: number, repeats: number) {
  const r = seededRandom(18);
  const vocab = 30_000;
  // Zipf(1) by inverse transform over the harmonic numbers.
  const cdf = new Float64Array(vocab);
  for (let i = 0, s = 0; i < vocab; i++) cdf[i] = s += 1 / (i + 1);
  const draw = () => {
    const x = r() * cdf[vocab - 1];
    let lo = 0;
    let hi = vocab - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const vector = (terms: number): SparseVector => {
    const m = new Map<number, number>();
    while (m.size < terms) {
      const i = draw();
      m.set(i, (0.2 + r()) * Math.log(2 + i / 50));
    }
    return encode({ indices: [...m.keys()], values: [...m.values()] });
  };
  const sparse = new SparseIndex();
  for (let slot = 0; slot < n; slot++) sparse.add(slot, vector(20 + Math.floor(r() * 40)));
  const queries = Array.from({ length: 200 }, () => vector(10 + Math.floor(r() * 20)));
  let same = 0;
  for (const q of queries) {
    const a = sparse.maxScore(q, K);
    const b = sparse.scan(q, K);
    if (JSON.stringify([a.slots, a.scores]) === JSON.stringify([b.slots, b.scores])) same++;
  }
  const paths: Record<string, (i: number) => void> = {
    "sparse search (SparseIndex.search)": (i) => sparse.search(queries[i], K),
    "sparse MaxScore (SparseIndex.maxScore)": (i) => sparse.maxScore(queries[i], K),
    "sparse exhaustive scan (SparseIndex.scan)": (i) => sparse.scan(queries[i], K),
  };
  const samples = new Map<string, number[]>(Object.keys(paths).map((p) => [p, []]));
  const names = Object.keys(paths);
  for (let rep = 0; rep < repeats; rep++)
    for (const name of names.map((_, j) => names[(j + rep) % names.length]))
      samples.get(name)!.push(throughput(queries.length, paths[name]));
  return {
    collection: `synthetic learned-sparse, ${n} vectors`,
    docs: n,
    queries: queries.length,
    sameTop10AsScan: same,
    qps: Object.fromEntries([...samples].map(([name, xs]) => [name, Math.round(median(xs))])),
    ...workPerQuery(sparse, queries),
    memory: sparseMemory(sparse),
  };
}

export async function runSparseBench(opts: SparseBenchOptions): Promise<void> {
  const root = opts.data ?? DEFAULT_DATA;
  const repeats = opts.repeats ?? 5;
  const load = [loadavg()[0].toFixed(1)];
  const results = [];
  for (const name of COLLECTIONS) {
    const r = await benchCollection(join(root, name), repeats);
    results.push(r);
    if (!opts.json) {
      process.stdout.write(
        `\n${r.collection}: ${r.docs} docs, ${r.queries} queries; sparse top 10 = BM25 top 10 on ${r.sameTop10}/${r.queries}\n`,
      );
      for (const d of r.differences) process.stdout.write(`  differs: ${d}\n`);
      for (const [path, q] of Object.entries(r.qps)) process.stdout.write(`  ${path.padEnd(42)} ${q} queries/s\n`);
      process.stdout.write(
        `  per query: ${r.perQuery.postings} postings in its lists, ${r.perQuery.read} read by MaxScore, ${r.perQuery.maxScoreScored} documents scored in full\n`,
      );
      process.stdout.write(
        `  memory: sparse ${r.memory.sparsePostings} postings, ${r.memory.sparseBytesPerPosting} B/posting (lists + forward store); BM25 ${r.memory.bm25Postings} postings, ${r.memory.bm25BytesPerPosting} B/posting\n`,
      );
    }
  }
  const synthetic = syntheticBench(200_000, repeats);
  if (!opts.json) {
    const s = synthetic;
    process.stdout.write(
      `\n${s.collection}: ${s.queries} queries; MaxScore top 10 = scan top 10 on ${s.sameTop10AsScan}/${s.queries}\n`,
    );
    for (const [path, q] of Object.entries(s.qps)) process.stdout.write(`  ${path.padEnd(42)} ${q} queries/s\n`);
    process.stdout.write(
      `  per query: ${s.perQuery.postings} postings in its lists, ${s.perQuery.read} read by MaxScore, ${s.perQuery.maxScoreScored} documents scored in full\n`,
    );
    process.stdout.write(
      `  memory: ${s.memory.sparsePostings} postings, ${s.memory.sparseBytesPerPosting} B/posting (lists + forward store)\n`,
    );
  }
  load.push(loadavg()[0].toFixed(1));
  if (opts.json) process.stdout.write(`${JSON.stringify({ repeats, loadavg: load, results, synthetic }, null, 1)}\n`);
  else process.stdout.write(`\nmedians of ${repeats} interleaved repeats; load average ${load.join(" -> ")}\n`);
}
