// HNSW search profile: `npm run bench -- hnsw-profile --data DIR [--part time,count,micro,calls] [--ef 48,64]
// [--queries N] [--passes N]`. Builds Quiver's graph and hnswlib-node's once (M = 16, efC = 200), caches
// both under .tmp/hnsw-profile/, then measures search only, so a change to the search loops costs seconds
// to measure instead of two 90 s builds. Parts:
//   time   both engines alternating every 50 queries, timed in CPU and wall time; recall@10, Quiver's visits/query
//   count  one JS replica of hnswlib's search run over both graphs: distances, hops, heap pushes per query
//   micro  the HNSW module's own loops (int8 score, f32 dot, visited tags, pair heap) over real visit lists
//   calls  fixed cost of one search call (JS <-> wasm / native), measured on a 10-vector index

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { loadKernelFactory } from "../src/core/kernels/load.js";
import { VectorSlab } from "../src/core/vectors/slab.js";
import { HnswIndex } from "../src/core/index/hnsw/hnsw.js";
import { loadHnswModule, type HnswExports } from "../src/core/index/hnsw/module.js";
import { H } from "../src/core/kernels/boundary.generated.js";
import { readHnsw } from "../src/core/index/hnsw/serialize.js";
import { K, loadAnnDataset, recallOf, type AnnDataset } from "./ann-data.js";
import { EF_CONSTRUCTION, M } from "./ann-engines.js";

export interface HnswProfileOptions {
  data?: string;
  efs?: number[];
  queries?: number;
  passes?: number;
  parts?: string[];
}

interface HnswlibNode {
  initIndex(max: number, m: number, efc: number, seed: number): void;
  addPoint(p: number[], label: number): void;
  setEf(ef: number): void;
  searchKnn(q: number[], k: number): { neighbors: number[] };
  readIndexSync(file: string): void;
  writeIndexSync(file: string): void;
}
type HnswlibCtor = new (space: string, dim: number) => HnswlibNode;

const require = createRequire(import.meta.url);
/** The repository root: run from it (as `npm run bench` does). */
const root = resolve(".");
const cacheDir = join(root, ".tmp", "hnsw-profile");
const log = (s: string): void => void process.stderr.write(`${s}\n`);

// ---- the two engines, built once and cached -------------------------------------------------------

async function quiverIndex(ds: AnnDataset): Promise<{ index: HnswIndex; bytes: Uint8Array }> {
  const slab = new VectorSlab(await loadKernelFactory(), ds.dim, ds.metric);
  slab.ensureCapacity(ds.n);
  for (let i = 0; i < ds.n; i++) slab.set(i, ds.base.subarray(i * ds.dim, (i + 1) * ds.dim));
  const file = join(cacheDir, `${ds.name}.quiver.qhnw`);
  if (existsSync(file)) {
    const bytes = new Uint8Array(readFileSync(file));
    return { index: HnswIndex.fromBytes(await loadHnswModule(), slab, bytes), bytes };
  }
  log(`building Quiver's graph of ${ds.name} (cached in ${file})`);
  const index = await HnswIndex.create(slab, { m: M, efConstruction: EF_CONSTRUCTION });
  for (let i = 0; i < ds.n; i++) index.insert(i);
  const bytes = index.serialize();
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(file, bytes);
  return { index, bytes };
}

function hnswlibIndex(ds: AnnDataset): { index: HnswlibNode; file: string } {
  const { HierarchicalNSW } = require("hnswlib-node") as { HierarchicalNSW: HnswlibCtor };
  const index = new HierarchicalNSW(ds.metric === "l2" ? "l2" : "cosine", ds.dim);
  const file = join(cacheDir, `${ds.name}.hnswlib.bin`);
  if (existsSync(file)) {
    index.readIndexSync(file);
    return { index, file };
  }
  log(`building hnswlib-node's graph of ${ds.name} (cached in ${file})`);
  index.initIndex(ds.n, M, EF_CONSTRUCTION, 100);
  for (let i = 0; i < ds.n; i++) index.addPoint(Array.from(ds.base.subarray(i * ds.dim, (i + 1) * ds.dim)), i);
  mkdirSync(cacheDir, { recursive: true });
  index.writeIndexSync(file);
  return { index, file };
}

/** The raw wasm exports behind an HnswIndex (bench only: times the wasm call apart from the JS wrapper). */
const rawOf = (index: HnswIndex): { x: HnswExports; hdr: () => number } => {
  const i = index as unknown as { x: HnswExports; sync(): number };
  return { x: i.x, hdr: () => i.sync() };
};

function headerOf(index: HnswIndex): Int32Array {
  return (index as unknown as { header(): Int32Array }).header();
}

// ---- part "time" ----------------------------------------------------------------------------------

/**
 * Both engines answer the same chunk of CHUNK queries in turn (order alternating), chunk after chunk,
 * `passes` times over the queries. Each chunk is timed in CPU time of this process (user + system) as
 * well as wall time: on a shared machine the process waits for a core, and CPU time leaves the wait out.
 */
function timeSearches(
  queries: Float32Array[],
  truth: Set<number>[],
  quiver: HnswIndex,
  lib: HnswlibNode,
  efs: number[],
  passes: number,
): void {
  const CHUNK = 50;
  const arrays = queries.map((q) => Array.from(q));
  const hdr = headerOf(quiver);
  console.log(
    `\ntime: ${queries.length} queries × ${passes} passes, engines alternating every ${CHUNK} queries; load ${loadavg()}`,
  );
  console.log(
    "  ef  quiver recall  q/s cpu  (wall)  visits/q  hnswlib recall  q/s cpu  (wall)   ratio cpu (wall; median of chunks)",
  );
  for (const ef of efs) {
    lib.setEf(ef);
    const resQ: number[][] = new Array(queries.length);
    const resL: number[][] = new Array(queries.length);
    let visits = 0;
    const runQ = (from: number, to: number): void => {
      for (let i = from; i < to; i++) {
        resQ[i] = quiver.search(queries[i], K, { ef }).slots;
        visits += hdr[H.VISITS];
      }
    };
    const runL = (from: number, to: number): void => {
      for (let i = from; i < to; i++) resL[i] = lib.searchKnn(arrays[i], K).neighbors;
    };
    runQ(0, Math.min(100, queries.length));
    runL(0, Math.min(100, queries.length));
    visits = 0;
    const cpu = [0, 0];
    const wall = [0, 0];
    const ratios: number[] = [];
    let turn = 0;
    for (let p = 0; p < passes; p++) {
      for (let from = 0; from < queries.length; from += CHUNK) {
        const to = Math.min(queries.length, from + CHUNK);
        const c = [0, 0];
        for (const e of turn++ % 2 === 0 ? [0, 1] : [1, 0]) {
          const u0 = process.cpuUsage();
          const t0 = performance.now();
          if (e === 0) runQ(from, to);
          else runL(from, to);
          const t = performance.now() - t0;
          const u = process.cpuUsage(u0);
          c[e] = (u.user + u.system) / 1000;
          cpu[e] += c[e];
          wall[e] += t;
        }
        ratios.push(c[1] / c[0]);
      }
    }
    const n = queries.length * passes;
    const qq = (n * 1000) / cpu[0];
    const ql = (n * 1000) / cpu[1];
    const med = ratios.sort((a, b) => a - b)[Math.floor(ratios.length / 2)];
    console.log(
      `${String(ef).padStart(4)} ${recallOf(resQ, truth).toFixed(4).padStart(13)} ${qq.toFixed(0).padStart(8)} ${(`(${((n * 1000) / wall[0]).toFixed(0)})`).padStart(7)} ` +
        `${(visits / n).toFixed(0).padStart(9)} ${recallOf(resL, truth).toFixed(4).padStart(15)} ${ql.toFixed(0).padStart(8)} ${(`(${((n * 1000) / wall[1]).toFixed(0)})`).padStart(7)} ` +
        `${(qq / ql).toFixed(3).padStart(8)}x (${(wall[1] / wall[0]).toFixed(3)}x; ${med.toFixed(3)}x)   µs/q cpu ${((1000 * cpu[0]) / n).toFixed(1)} vs ${((1000 * cpu[1]) / n).toFixed(1)}`,
    );
  }
}

// ---- part "count": a JS replica of hnswlib's searchKnn over either graph ----------------------------

interface Graph {
  name: string;
  entry: number;
  maxLevel: number;
  /** Neighbours of slot at layer (a view). */
  links(slot: number, layer: number): Uint32Array;
  /** Unit vectors (cosine) or raw vectors, slot-major. */
  vecs: Float32Array;
  dim: number;
}

function quiverGraph(ds: AnnDataset, bytes: Uint8Array, vecs: Float32Array): Graph {
  const s = readHnsw(bytes);
  const at: number[][] = [];
  let p = 0;
  for (let slot = 0; slot < s.n; slot++) {
    const offs: number[] = [];
    if (s.flags[slot] === 1) {
      for (let l = 0; l <= s.levels[slot]; l++) {
        offs.push(p);
        p += s.links[p] + 1;
      }
    }
    at.push(offs);
  }
  return {
    name: "quiver graph",
    entry: s.entry,
    maxLevel: s.maxLevel,
    vecs,
    dim: ds.dim,
    links: (slot, l) => {
      const o = at[slot][l];
      return s.links.subarray(o + 1, o + 1 + s.links[o]);
    },
  };
}

function hnswlibGraph(ds: AnnDataset, file: string): Graph {
  const b = readFileSync(file);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = 0;
  const u64 = (): number => {
    const v = Number(dv.getBigUint64(p, true));
    p += 8;
    return v;
  };
  const u32 = (): number => {
    const v = dv.getUint32(p, true);
    p += 4;
    return v;
  };
  u64(); // offsetLevel0
  u64(); // max_elements
  const count = u64();
  const sizePer = u64();
  const labelOff = u64();
  const dataOff = u64();
  const maxLevel = dv.getInt32(p, true);
  p += 4;
  const entry = u32();
  const maxM = u64();
  u64(); // maxM0
  u64(); // M
  p += 8; // mult (f64)
  u64(); // ef_construction
  const level0 = p;
  const copy = new Uint8Array(b.subarray(level0, level0 + count * sizePer));
  p += count * sizePer;
  const l0 = new Uint32Array(copy.buffer);
  const upper: (Uint32Array | undefined)[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const size = u32();
    if (size > 0) upper[i] = new Uint32Array(new Uint8Array(b.subarray(p, p + size)).buffer);
    p += size;
  }
  // hnswlib's internal ids are insertion order; the label maps back to the row (the vectors' slot).
  const vecs = new Float32Array(count * ds.dim);
  const labels = new Uint32Array(count);
  const f = new Float32Array(copy.buffer);
  for (let i = 0; i < count; i++) {
    vecs.set(f.subarray((i * sizePer + dataOff) / 4, (i * sizePer + dataOff) / 4 + ds.dim), i * ds.dim);
    labels[i] = dv.getUint32(level0 + i * sizePer + labelOff, true);
  }
  const upStride = maxM + 1;
  return {
    name: "hnswlib graph",
    entry,
    maxLevel,
    vecs,
    dim: ds.dim,
    links: (slot, l) => {
      if (l === 0) {
        const o = (slot * sizePer) / 4;
        return l0.subarray(o + 1, o + 1 + (l0[o] & 0xffff));
      }
      const u = upper[slot]!;
      const o = (l - 1) * upStride;
      return u.subarray(o + 1, o + 1 + (u[o] & 0xffff));
    },
  };
}

interface Counts {
  upperDistances: number;
  distances: number;
  hops: number;
  scanned: number;
  candPushes: number;
  resPushes: number;
  resPops: number;
  /** Slots whose distance was computed, in order (only collected when asked). */
  order?: number[];
}

/** Zeroed counts; `order` set when the visit order should be collected. */
function newCounts(order?: number[]): Counts {
  return { upperDistances: 0, distances: 0, hops: 0, scanned: 0, candPushes: 0, resPushes: 0, resPops: 0, order };
}

/** hnswlib's searchKnn (greedy descent, then searchBaseLayerST), counting its work; returns the top k. */
function replica(g: Graph, q: Float32Array, ef: number, k: number, c: Counts): number[] {
  const dim = g.dim;
  const v = g.vecs;
  const dist = (s: number): number => {
    let d = 0;
    const o = s * dim;
    for (let i = 0; i < dim; i++) d += q[i] * v[o + i];
    return 1 - d;
  };
  let cur = g.entry;
  let curD = dist(cur);
  c.upperDistances++;
  for (let l = g.maxLevel; l > 0; l--) {
    let changed = true;
    while (changed) {
      changed = false;
      for (const n of g.links(cur, l)) {
        const d = dist(n);
        c.upperDistances++;
        if (d < curD) {
          curD = d;
          cur = n;
          changed = true;
        }
      }
    }
  }
  const visited = new Set<number>([cur]);
  const cand = new PairHeap(); // min-heap on distance
  const top = new PairHeap(true); // max-heap on distance
  cand.push(curD, cur);
  top.push(curD, cur);
  c.distances++;
  c.candPushes++;
  c.resPushes++;
  let lower = curD;
  while (cand.size > 0) {
    if (cand.topKey() > lower && top.size === ef) break;
    const cs = cand.pop();
    c.hops++;
    for (const n of g.links(cs, 0)) {
      c.scanned++;
      if (visited.has(n)) continue;
      visited.add(n);
      const d = dist(n);
      c.distances++;
      c.order?.push(n);
      if (top.size < ef || lower > d) {
        cand.push(d, n);
        c.candPushes++;
        top.push(d, n);
        c.resPushes++;
        if (top.size > ef) {
          top.pop();
          c.resPops++;
        }
        lower = top.topKey();
      }
    }
  }
  const out: number[] = [];
  while (top.size > 0) out.push(top.pop());
  return out.reverse().slice(0, k);
}

class PairHeap {
  private keys: number[] = [];
  private vals: number[] = [];
  constructor(private readonly max = false) {}
  get size(): number {
    return this.keys.length;
  }
  topKey(): number {
    return this.keys[0];
  }
  private less(a: number, b: number): boolean {
    return this.max ? this.keys[a] > this.keys[b] : this.keys[a] < this.keys[b];
  }
  private swap(a: number, b: number): void {
    [this.keys[a], this.keys[b]] = [this.keys[b], this.keys[a]];
    [this.vals[a], this.vals[b]] = [this.vals[b], this.vals[a]];
  }
  push(k: number, v: number): void {
    this.keys.push(k);
    this.vals.push(v);
    let i = this.keys.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): number {
    const v = this.vals[0];
    const lk = this.keys.pop()!;
    const lv = this.vals.pop()!;
    if (this.keys.length > 0) {
      this.keys[0] = lk;
      this.vals[0] = lv;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.keys.length && this.less(l, m)) m = l;
        if (r < this.keys.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return v;
  }
}

function unitVectors(ds: AnnDataset): Float32Array {
  const out = new Float32Array(ds.base.length);
  for (let i = 0; i < ds.n; i++) {
    let n = 0;
    for (let j = 0; j < ds.dim; j++) n += ds.base[i * ds.dim + j] ** 2;
    const s = ds.metric === "cosine" && n > 0 ? 1 / Math.sqrt(n) : 1;
    for (let j = 0; j < ds.dim; j++) out[i * ds.dim + j] = ds.base[i * ds.dim + j] * s;
  }
  return out;
}

const unit = (q: Float32Array): Float32Array => {
  let n = 0;
  for (const x of q) n += x * x;
  return q.map((x) => x / Math.sqrt(n));
};

function degreeStats(g: Graph, n: number): number {
  let sum = 0;
  for (let s = 0; s < n; s++) sum += g.links(s, 0).length;
  return sum / n;
}

function countWork(
  ds: AnnDataset,
  graphs: Graph[],
  queries: Float32Array[],
  truth: Set<number>[],
  efs: number[],
): void {
  console.log(`\ncount: JS replica of hnswlib's searchKnn (f32 distances) over each graph, ${queries.length} queries`);
  for (const g of graphs)
    console.log(`  ${g.name}: entry level ${g.maxLevel}, mean level-0 degree ${degreeStats(g, ds.n).toFixed(2)}`);
  console.log("  graph            ef  recall  upper-d  layer0-d   hops  scanned  cand-push  res-push  res-pop");
  for (const ef of efs) {
    for (const g of graphs) {
      const c = newCounts();
      const res = queries.map((q) => {
        const r = replica(g, unit(q), ef, K, c);
        // hnswlib's internal id i holds row i here (built in row order), Quiver's slot s is row s.
        return r;
      });
      const per = (x: number): string => (x / queries.length).toFixed(1);
      console.log(
        `  ${g.name.padEnd(15)} ${String(ef).padStart(3)} ${recallOf(res, truth).toFixed(4)} ${per(c.upperDistances).padStart(8)} ` +
          `${per(c.distances).padStart(9)} ${per(c.hops).padStart(6)} ${per(c.scanned).padStart(8)} ${per(c.candPushes).padStart(10)} ` +
          `${per(c.resPushes).padStart(9)} ${per(c.resPops).padStart(8)}`,
      );
    }
  }
}

// ---- part "micro": the module's loops timed over real visit lists -------------------------------------

async function micro(ds: AnnDataset, index: HnswIndex, g: Graph, queries: Float32Array[]): Promise<void> {
  const asc = (await import("assemblyscript/asc" as string)) as {
    main(
      argv: string[],
      api: Record<string, unknown>,
    ): Promise<{ error: Error | null; stderr: { toString(): string } }>;
  };
  let binary: Uint8Array<ArrayBuffer> | undefined;
  const { error, stderr } = await asc.main(
    [
      "bench/assembly/hnsw-probe.ts",
      "--baseDir",
      root,
      "--outFile",
      "probe.wasm",
      "--enable",
      "simd",
      "-O3",
      "--runtime",
      "stub",
      "--importMemory",
      "--noExportMemory",
      "--noAssert",
    ],
    {
      readFile: (name: string, baseDir: string) => {
        const p = join(baseDir, name);
        return existsSync(p) ? readFileSync(p, "utf8") : null;
      },
      writeFile: (name: string, contents: Uint8Array) => {
        if (name.endsWith(".wasm")) binary = new Uint8Array(contents);
      },
      listFiles: () => [],
    },
  );
  if (error || !binary) throw new Error(`probe build failed: ${stderr.toString()}`);
  const slab = index.slab;
  // Real visit order: the slots whose distance the replica computes on Quiver's graph at ef 64.
  const c = newCounts([]);
  const nq = Math.min(200, queries.length);
  for (let i = 0; i < nq; i++) replica(g, unit(queries[i]), 64, K, c);
  const order = Uint32Array.from(c.order!);
  const hot = new Uint32Array(order.length).map((_, i) => order[i % 64]);
  const region = slab.allocRegion(order.length * 4 * 2 + index.slab.capacity * 2 + 65536);
  const x = new WebAssembly.Instance(new WebAssembly.Module(binary), { env: { memory: slab.wasmMemory } })
    .exports as unknown as {
    i8Scores(
      q: number,
      nodes: number,
      stride: number,
      codeOff: number,
      corrOff: number,
      codeRead: number,
      slots: number,
      n: number,
      reps: number,
    ): number;
    f32Scores(q: number, vecs: number, dim: number, slots: number, n: number, reps: number): number;
    visitTags(tags: number, slots: number, n: number, reps: number): number;
    heapCycle(base: number, n: number, reps: number): number;
  };
  index.search(queries[0], K); // leaves the query (f32) and, with codes, the query's codes in scratch
  const h = headerOf(index);
  const buf = slab.wasmMemory.buffer;
  const coldAt = region.offset;
  const hotAt = coldAt + order.length * 4;
  const tagsAt = hotAt + order.length * 4;
  const heapAt = tagsAt + ((index.slab.capacity * 2 + 63) & ~63);
  new Uint32Array(buf, coldAt, order.length).set(order);
  new Uint32Array(buf, hotAt, order.length).set(hot);
  const n = order.length;
  const codeRead = (h[H.CODEBYTES] + 15) & ~15;
  const corrOff = h[H.CORROFF];
  const time = (f: () => void, calls: number): number => {
    f();
    const ts: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      f();
      ts.push(performance.now() - t0);
    }
    return (ts.sort((a, b) => a - b)[2] * 1e6) / calls;
  };
  console.log(
    `\nmicro: ${n} distance computations (the replica's visit order over Quiver's graph, ${nq} queries at ef 64); load ${loadavg()}`,
  );
  console.log("  ns per call            cold (visit order)   hot (64 slots)");
  const i8 = (slots: number): number =>
    time(() => x.i8Scores(h[H.QCODES], h[H.NODES], h[H.STRIDE], h[H.CODEOFF], corrOff, codeRead, slots, n, 1), n);
  const f32 = (slots: number): number =>
    time(() => x.f32Scores(h[H.QUERY], slab.vectorsOffset, ds.dim, slots, n, 1), n);
  const vt = (slots: number): number => time(() => x.visitTags(tagsAt, slots, n, 1), n);
  console.log(`  int8 score (codes)     ${i8(coldAt).toFixed(2).padStart(18)} ${i8(hotAt).toFixed(2).padStart(16)}`);
  console.log(`  f32 dot (slab)         ${f32(coldAt).toFixed(2).padStart(18)} ${f32(hotAt).toFixed(2).padStart(16)}`);
  console.log(`  visited tag (u8)       ${vt(coldAt).toFixed(2).padStart(18)} ${vt(hotAt).toFixed(2).padStart(16)}`);
  for (const size of [64, 512]) {
    const reps = 2000;
    const ns = time(() => x.heapCycle(heapAt, size, reps), reps * size);
    console.log(`  heap push+pop, ${size} pairs: ${ns.toFixed(2)} ns per pair`);
  }
  console.log(
    `  (stride ${h[H.STRIDE]} B per node, nodes at ${h[H.NODES]} (mod 64: ${h[H.NODES] % 64}), codes at +${h[H.CODEOFF]}, ${codeRead} B read; f32 vector ${ds.dim * 4} B)`,
  );
}

// ---- part "calls": the fixed cost of one search call ---------------------------------------------------

async function calls(ds: AnnDataset, queries: Float32Array[], quiver: HnswIndex): Promise<void> {
  const { HierarchicalNSW } = require("hnswlib-node") as { HierarchicalNSW: HnswlibCtor };
  // Indexes of k vectors: the search is trivial, what remains is the cost of the call itself.
  const slab = new VectorSlab(await loadKernelFactory(), ds.dim, ds.metric);
  slab.ensureCapacity(K);
  const one = await HnswIndex.create(slab, { m: M, efConstruction: EF_CONSTRUCTION });
  const lib = new HierarchicalNSW(ds.metric === "l2" ? "l2" : "cosine", ds.dim);
  lib.initIndex(K, M, EF_CONSTRUCTION, 100);
  for (let i = 0; i < K; i++) {
    slab.set(i, ds.base.subarray(i * ds.dim, (i + 1) * ds.dim));
    one.insert(i);
    lib.addPoint(Array.from(ds.base.subarray(i * ds.dim, (i + 1) * ds.dim)), i);
  }
  const arrays = queries.map((q) => Array.from(q));
  const time = (f: (i: number) => void): number => {
    for (let i = 0; i < queries.length; i++) f(i);
    const ts: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      for (let i = 0; i < queries.length; i++) f(i);
      ts.push(performance.now() - t0);
    }
    return (ts.sort((a, b) => a - b)[2] * 1e3) / queries.length;
  };
  console.log(`\ncalls: µs per call, ${queries.length} queries; load ${loadavg()}`);
  console.log(`  Quiver search() on a 10-vector index:          ${time((i) => one.search(queries[i], K)).toFixed(2)}`);
  const rawOne = rawOf(one);
  const hdrOne = rawOne.hdr();
  console.log(
    `    of which the wasm call (query in place):      ${time(() => rawOne.x.search(hdrOne, K, 64, 0)).toFixed(2)}`,
  );
  console.log(
    `  hnswlib-node searchKnn() on a 10-vector index: ${time((i) => lib.searchKnn(arrays[i], K)).toFixed(2)}`,
  );
  // The JS wrapper around the wasm call on the real index: search() minus the raw export with the query in place.
  const raw = rawOf(quiver);
  for (const ef of [64]) {
    const full = time((i) => quiver.search(queries[i], K, { ef }));
    quiver.search(queries[0], K, { ef });
    const hdr = raw.hdr();
    const wasm = time(() => raw.x.search(hdr, K, ef, 0));
    console.log(
      `  Quiver at ef ${ef}: search() ${full.toFixed(2)}, the wasm call alone (one query repeated) ${wasm.toFixed(2)}`,
    );
  }
}

function loadavg(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

export async function runHnswProfile(opts: HnswProfileOptions): Promise<void> {
  if (opts.data === undefined) throw new Error("hnsw-profile needs --data DIR");
  const ds = loadAnnDataset(opts.data);
  const parts = opts.parts ?? ["time"];
  const nq = Math.min(opts.queries ?? ds.queries.length, ds.queries.length);
  const queries = ds.queries.slice(0, nq);
  const truth = ds.truth.slice(0, nq);
  const efs = opts.efs ?? [64];
  const t0 = performance.now();
  const { index: quiver, bytes } = await quiverIndex(ds);
  const { index: lib, file } = hnswlibIndex(ds);
  log(`loaded both graphs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(
    `hnsw-profile: ${ds.name}, ${ds.n} × ${ds.dim} ${ds.metric}, M=${M} efC=${EF_CONSTRUCTION}, k=${K}; ${new Date().toISOString()}`,
  );
  if (parts.includes("time")) timeSearches(queries, truth, quiver, lib, efs, opts.passes ?? 5);
  if (parts.includes("count") || parts.includes("micro")) {
    const vecs = unitVectors(ds);
    const qg = quiverGraph(ds, bytes, vecs);
    if (parts.includes("count")) countWork(ds, [qg, hnswlibGraph(ds, file)], queries, truth, efs);
    if (parts.includes("micro")) await micro(ds, quiver, qg, queries);
  }
  if (parts.includes("calls")) await calls(ds, queries, quiver);
}
