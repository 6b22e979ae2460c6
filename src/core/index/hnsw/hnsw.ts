// HnswIndex: the approximate nearest-neighbour graph of one named vector, living in the vector slab's
// WebAssembly memory (regions beside the vectors) and driven by the WebAssembly module in ../../kernels/assembly/hnsw/.
// This class owns the regions, the level generator, quantizer training and the JS-facing API.
//
// Originals on disk (the slab keeps its f32 rows in a RowFile): only the codes are resident, so the
// graph is built and repaired on codes (pair estimates), the traversal is unchanged, and the ef
// survivors are re-ranked here on f32 rows read from the file. Until the int8 quantizer is trained
// there are no codes to build with, so inserts wait in `pending` and join the graph once it is
// (at QUANT_TRAIN_FIRST of them, or at the first read, whichever comes first).

import type { SlotBitmap } from "../slot-bitmap.js";
import { QuiverError } from "../../errors/errors.js";
import type { VectorSlab, SlabRegion } from "../../vectors/slab.js";
import {
  FILTER_ACORN,
  FILTER_NONE,
  FILTER_PLAIN,
  FLAG_ABSENT,
  FLAG_LIVE,
  FLAG_TOMB,
  H,
  HEADER_BYTES,
} from "../../kernels/boundary.generated.js";
import {
  QUANT_CODE,
  codeBytesFor,
  codeOffset,
  corrOffset,
  headerOffset,
  linksOffset,
  nodeStride,
  type Quantization,
} from "./layout.js";
import { instantiateHnsw, loadHnswModule, type HnswExports } from "./module.js";
import { trainInt8 } from "./quantizer.js";
import { nextState, stateToFloat } from "../../util/prng.js";
import { readHnsw, writeHnsw, type HnswSnapshot, type HnswSnapshotSource } from "./serialize.js";
import { SearchLanes } from "./lanes.js";
import type { SearchThreads } from "./parallel.js";
import { linkClaimed, newLinkQueue, PARALLEL_BUILD_MIN, pushLink } from "./parallel-build.js";

export type { Quantization };

export interface HnswOptions {
  /** Links per node on upper layers (level 0 keeps 2·m). Default 16. */
  m?: number;
  /** Beam width while inserting. Default 200. */
  efConstruction?: number;
  /** Default beam width of search(). Default 64. */
  efSearch?: number;
  /** Codes the traversal compares (re-ranked in f32): "int8" (default), "binary" (high-dim cosine) or "none". */
  quantization?: Quantization;
  /** Seed of the level generator (deterministic builds). */
  seed?: number;
}

/** Allowed slots: a bitmap or a predicate (materialised, O(capacity)). */
export type SlotFilter = SlotBitmap | { accept(slot: number): boolean };

export interface HnswSearchOptions {
  ef?: number;
  filter?: SlotFilter;
  /** How the graph honours a filter: "plain" (traverse all, keep matches) or "acorn" (two-hop through non-matches). */
  filterMode?: "plain" | "acorn";
}

/** What a search lane runs (searchLane's arguments after `hdr`), prepared by laneCall(). */
export interface LaneCall {
  hdr: number;
  lane: number;
  k: number;
  ef: number;
  filterMode: number;
}

export interface HnswHits {
  slots: number[];
  /** Public scores (higher = closer), best first. */
  scores: number[];
  /** Nodes scored during the search (cost, for plan explanations). */
  visited: number;
}

export interface HnswStats {
  count: number;
  tombstones: number;
  maxLevel: number;
  quantization: Quantization;
  /** Where the full-precision vectors live: the slab's memory, or its row file on disk. */
  originals: "memory" | "disk";
  /** Bytes per vector: f32 vector (slab), quantized code + correction the traversal reads, graph links. */
  bytesPerVector: { full: number; traversal: number; links: number };
  /** Bytes of the slab's memory held by the index's regions (links, codes, per-slot state, scratch). */
  indexBytes: number;
}

/**
 * Tombstones (deleted, not reused) past this share of the graph's nodes trigger consolidate(): a pass
 * over every list, so one per n/10 deletes, a constant amortised cost per delete. Below it the few links
 * that local repair leaves to tombstones only cost searches a visit each.
 */
const CONSOLIDATE_SHARE = 0.1;
const QUANT_TRAIN_FIRST = 256;
const QUANT_TRAIN_LAST = 65536;
const MAX_LEVEL = 31;
const align16 = (n: number): number => (n + 15) & ~15;

interface Regions {
  hdr: SlabRegion;
  nodes: SlabRegion;
  flags: SlabRegion;
  levels: SlabRegion;
  upidx: SlabRegion;
  visited: SlabRegion;
  cand: SlabRegion;
  bitmap: SlabRegion;
  pool: SlabRegion;
  scratch: SlabRegion;
  /** A parallel build's per-slot list locks (i32): sized with the lanes, empty without threads. */
  locks: SlabRegion;
}

export class HnswIndex {
  readonly slab: VectorSlab;
  readonly m: number;
  readonly m0: number;
  readonly efConstruction: number;
  efSearch: number;
  readonly quantization: Quantization;
  private readonly x: HnswExports;
  private readonly module: WebAssembly.Module;
  private readonly r: Regions;
  private readonly stride: number;
  private readonly codeBytes: number;
  private readonly upStride: number;
  private readonly linksOff: number;
  private cap = 0;
  private poolCap = 0;
  private pairCap = 0;
  private seen = -1;
  private buffer: ArrayBuffer | undefined;
  private hdr!: Int32Array;
  private rng: number;
  private nextTrain: number;
  /** True when the slab's rows are on disk (see the header comment). */
  private readonly disk: boolean;
  /** reserve()'s count of the levels the next `n` inserts draw from generator state `from`. */
  private draws = { from: -1, n: 0, rng: 0, blocks: 0 };
  /** Slots inserted while the int8 quantizer is untrained (originals on disk only). */
  private pending: number[] = [];
  /** The scratch of readers in other threads (lanes.ts); null until prepareLanes() asks for some. */
  private lanes: SearchLanes | null = null;

  /**
   * @example
   * const index = await HnswIndex.create(slab, { m: 16, efConstruction: 200, quantization: "int8" });
   * slab.set(7, vec); index.insert(7);
   * const { slots, scores } = index.search(query, 10, { ef: 64 });
   */
  static async create(slab: VectorSlab, options: HnswOptions = {}): Promise<HnswIndex> {
    return new HnswIndex(await loadHnswModule(), slab, options);
  }

  /** Rebuilds an index from serialize()'s bytes over a slab that already holds the same vectors. */
  static async deserialize(slab: VectorSlab, bytes: Uint8Array): Promise<HnswIndex> {
    return HnswIndex.fromBytes(await loadHnswModule(), slab, bytes);
  }

  /**
   * deserialize() with the module already compiled (the database compiles it once at open);
   * `checked`: the bytes were covered by a checksum already verified (see readHnsw).
   */
  static fromBytes(module: WebAssembly.Module, slab: VectorSlab, bytes: Uint8Array, checked = false): HnswIndex {
    const snap = readHnsw(bytes, checked);
    if (snap.dim !== slab.dim || snap.metric !== slab.metric) {
      throw new QuiverError(
        "CORRUPT",
        `HNSW data is for dim ${snap.dim} ${snap.metric}, the slab is dim ${slab.dim} ${slab.metric}`,
      );
    }
    if (snap.n > slab.capacity)
      throw new QuiverError("CORRUPT", `HNSW data has ${snap.n} slots, the slab holds ${slab.capacity}`);
    const index = new HnswIndex(module, slab, {
      m: snap.m,
      efConstruction: snap.efConstruction,
      efSearch: snap.efSearch,
      quantization: snap.quantization,
    });
    index.restore(snap);
    return index;
  }

  constructor(module: WebAssembly.Module, slab: VectorSlab, options: HnswOptions = {}) {
    const m = options.m ?? 16;
    const efc = options.efConstruction ?? 200;
    const quant = options.quantization ?? "int8";
    if (!Number.isInteger(m) || m < 2 || m > 128)
      throw new QuiverError("INVALID_ARGUMENT", `m must be an integer in [2, 128], got ${m}`);
    if (!Number.isInteger(efc) || efc < 1)
      throw new QuiverError("INVALID_ARGUMENT", `efConstruction must be a positive integer, got ${efc}`);
    if (!(quant in QUANT_CODE)) throw new QuiverError("INVALID_ARGUMENT", `unknown quantization ${String(quant)}`);
    if (!slab.rowsResident && quant === "none") {
      throw new QuiverError(
        "INVALID_ARGUMENT",
        'a graph over vectors kept on disk needs quantized codes: quantization "int8" or "binary"',
      );
    }
    this.disk = !slab.rowsResident;
    this.slab = slab;
    this.m = m;
    this.m0 = 2 * m;
    this.efConstruction = efc;
    this.efSearch = options.efSearch ?? 64;
    this.quantization = quant;
    this.codeBytes = codeBytesFor(quant, slab.dim);
    this.stride = nodeStride(this.m0, this.codeBytes);
    this.linksOff = linksOffset(this.codeBytes);
    this.upStride = 4 * (m + 1);
    this.rng = (options.seed ?? 0x5eed) >>> 0;
    this.nextTrain = quant === "int8" ? QUANT_TRAIN_FIRST : Infinity;
    this.module = module;
    this.x = instantiateHnsw(module, slab.wasmMemory);
    const taken: SlabRegion[] = [];
    const take = (bytes: number): SlabRegion => {
      const region = slab.allocRegion(bytes);
      taken.push(region);
      return region;
    };
    try {
      this.r = {
        hdr: take(HEADER_BYTES),
        nodes: take(16),
        flags: take(0),
        levels: take(0),
        upidx: take(0),
        visited: take(0),
        cand: take(0),
        bitmap: take(0),
        pool: take(0),
        scratch: take(0),
        locks: take(0),
      };
      this.initHeader(slab, quant, efc);
      this.ensureScratch(Math.max(efc, this.efSearch));
      this.declareSlotBytes();
    } catch (e) {
      // Memory ran out: give back what was taken, so the slab is as it was.
      for (const region of taken.reverse()) slab.freeRegion(region);
      throw e;
    }
  }

  private initHeader(slab: VectorSlab, quant: Quantization, efc: number): void {
    const m = this.m;
    const h = this.header();
    h[H.DIM] = slab.dim;
    h[H.METRIC] = slab.kernelMetricCode;
    h[H.M] = m;
    h[H.M0] = this.m0;
    h[H.STRIDE] = this.stride;
    h[H.CODEOFF] = codeOffset();
    h[H.CORROFF] = corrOffset(this.codeBytes);
    h[H.LINKSOFF] = this.linksOff;
    h[H.QUANT] = QUANT_CODE[quant];
    h[H.QREADY] = quant === "binary" ? 1 : 0;
    h[H.CODEBYTES] = this.codeBytes;
    h[H.UPSTRIDE] = this.upStride;
    h[H.ENTRY] = -1;
    h[H.EFC] = efc;
    h[H.EPOCH] = 1;
    h[H.DISK] = this.disk ? 1 : 0;
  }

  /** Live nodes in the graph (including inserts pending the quantizer). */
  get size(): number {
    return this.header()[H.COUNT] + this.pending.length;
  }

  /**
   * Makes room, before they are logged, for `inserts` more insert() calls over the slab's current
   * capacity: the per-slot arrays and the link pool for the levels those inserts will draw (the level
   * generator is deterministic, so they are known now). Afterwards those inserts allocate nothing.
   * Throws RESOURCE_EXHAUSTED when the memory cannot hold them; what was grown stays (it is only room).
   */
  reserve(inserts: number): void {
    if (this.slab.capacity > this.cap) this.growSlots(this.slab.capacity);
    const total = inserts + this.pending.length;
    // A write group reserves once per request with its running total: continue the last count of
    // draws instead of redrawing them all, while no insert has consumed the generator meanwhile.
    let d = this.draws;
    if (d.from !== this.rng || d.n > total) d = this.draws = { from: this.rng, n: 0, rng: this.rng, blocks: 0 };
    for (; d.n < total; d.n++) {
      const drawn = levelFrom(d.rng, this.m);
      d.rng = drawn.rng;
      d.blocks += drawn.level;
    }
    this.ensurePool(this.header()[H.POOLUSED] + d.blocks);
  }

  /** Adds slot (its vector already stored with slab.set); replaces it when it is already in the graph. */
  insert(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slab.capacity) {
      throw new QuiverError("INVALID_ARGUMENT", `slot ${slot} is outside the slab's capacity ${this.slab.capacity}`);
    }
    if (this.slab.capacity > this.cap) this.growSlots(this.slab.capacity);
    if (this.disk && this.header()[H.QREADY] === 0) {
      if (!this.pending.includes(slot)) this.pending.push(slot);
      if (this.pending.length >= QUANT_TRAIN_FIRST) this.settle();
      return;
    }
    // A replaced vector: unlinked around its old position first, then inserted at its new one.
    if (this.flagsView()[slot] === FLAG_LIVE) this.delete(slot);
    const level = this.randomLevel();
    this.ensurePool(this.header()[H.POOLUSED] + level);
    const hdr = this.sync();
    if (this.disk) this.slab.copyRowTo(slot, this.offsetAt(H.QUERY));
    this.x.insert(hdr, slot, level);
    if (this.size >= this.nextTrain) this.trainQuantizer();
  }

  /**
   * insert() of every slot in `slots` (each once), linked by `threads` and the calling thread together
   * when there are at least two threads, PARALLEL_BUILD_MIN slots and lanes ready (parallel-build.ts);
   * otherwise one by one, exactly as insert(). With originals on disk the slots waiting for the
   * quantizer are inserted one by one first, and the rest are built on codes. Levels are drawn in order and the
   * quantizer is retrained at the same sizes as one by one, so the graph differs from a one-thread
   * build only in the order concurrent links land. No search may run meanwhile (lanes are in use),
   * and nothing allocates: reserve() made the room. Rejects with the first thread's failure.
   */
  async insertMany(slots: Iterable<number>, threads: SearchThreads | null): Promise<void> {
    const unique = [...new Set(slots)];
    // Originals on disk: the first inserts wait for the quantizer (pending); once it is trained, the rest
    // are built on codes like any other.
    while (this.disk && this.header()[H.QREADY] === 0 && unique.length > 0) this.insert(unique.shift()!);
    if (!this.parallelBuildFits(unique.length, threads)) {
      for (const slot of unique) this.insert(slot);
      return;
    }
    for (const slot of unique) {
      if (!Number.isInteger(slot) || slot < 0 || slot >= this.cap) {
        throw new QuiverError("INVALID_ARGUMENT", `slot ${slot} is outside the graph's capacity ${this.cap}`);
      }
    }
    for (let at = 0; at < unique.length; ) {
      // One phase per quantizer training: the codes of a phase are encoded as its slots are staged.
      const room = Math.max(1, this.nextTrain - this.size);
      const phase = unique.slice(at, at + room);
      at += phase.length;
      const queue = newLinkQueue(phase.length);
      for (const slot of phase) {
        if (this.flagsView()[slot] === FLAG_LIVE) this.delete(slot);
        const level = this.randomLevel();
        this.ensurePool(this.header()[H.POOLUSED] + level);
        const hdr = this.sync();
        // Originals on disk: stage encodes the slot's codes from its f32 row, read into the query scratch.
        if (this.disk) this.slab.copyRowTo(slot, this.offsetAt(H.QUERY));
        const top = this.x.stage(hdr, slot, level);
        if (top >= 0) pushLink(queue, slot, top);
      }
      await this.linkQueued(queue, threads!);
      if (this.size >= this.nextTrain) this.trainQuantizer();
    }
  }

  /** True when insertMany of `n` slots can link in parallel without allocating (see insertMany). */
  private parallelBuildFits(n: number, threads: SearchThreads | null): threads is SearchThreads {
    return (
      threads !== null &&
      threads.size >= 2 &&
      n >= PARALLEL_BUILD_MIN &&
      this.pending.length === 0 &&
      this.slab.capacity <= this.cap &&
      this.lanes?.sized(threads.lanes, this.cap) === true &&
      this.r.locks.bytes >= 4 * this.cap
    );
  }

  /**
   * Links the staged slots of `queue` with threads 0 … size − 2 (lane i each) and this thread (the
   * header's scratch): as many threads as the database has, the calling one included.
   */
  private async linkQueued(queue: Int32Array, threads: SearchThreads): Promise<void> {
    const lanes = this.lanes!;
    // Staging may have moved regions (a pool that grew within its reservation): offsets rewritten.
    if (!lanes.ready(threads.lanes, this.cap)) lanes.writeBlocks();
    const hdr = this.sync();
    const memory = this.slab.wasmMemory;
    const helpers = Array.from({ length: threads.size - 1 }, (_, t) =>
      threads.link(t, memory, this.module, { hdr, lane: lanes.offset(t), queue }),
    );
    let failure: unknown = null;
    try {
      linkClaimed(this.x, { hdr, lane: 0, queue });
    } catch (e) {
      failure = e;
    }
    // Every helper is awaited before anything fails: none may still be writing the graph after.
    const settled = await Promise.allSettled(helpers);
    if (failure) throw failure;
    for (const s of settled) if (s.status === "rejected") throw s.reason;
  }

  /**
   * Removes slot from the results at once and repairs its neighbours' lists around it (two-hop
   * re-selection, the module's unlink): a cost of its neighbourhood, not of the graph. It stays a
   * traversable tombstone for the links that remain elsewhere until it is reused or consolidate()
   * runs, which happens when tombstones pass CONSOLIDATE_SHARE of the graph. Returns whether it was live.
   */
  delete(slot: number): boolean {
    const p = this.pending.indexOf(slot);
    if (p >= 0) {
      this.pending.splice(p, 1);
      return true;
    }
    if (!(slot >= 0 && slot < this.cap)) return false;
    const flags = this.flagsView();
    if (flags[slot] !== FLAG_LIVE) return false;
    flags[slot] = FLAG_TOMB;
    const h = this.header();
    h[H.COUNT]--;
    h[H.TOMBS]++;
    this.x.unlink(this.sync(), slot);
    if (h[H.TOMBS] > CONSOLIDATE_SHARE * (h[H.COUNT] + h[H.TOMBS])) this.consolidate();
    return true;
  }

  /** Repairs every list that points at a deleted slot and frees those slots. Returns lists rebuilt. */
  consolidate(): number {
    if (this.header()[H.TOMBS] === 0) return 0;
    return this.x.consolidate(this.sync());
  }

  /** True when slot is live in the graph. */
  has(slot: number): boolean {
    return (slot >= 0 && slot < this.cap && this.flagsView()[slot] === FLAG_LIVE) || this.pending.includes(slot);
  }

  /**
   * A view of the per-slot state, 1 = live (so it can serve as flatSearch's `live`); valid until the
   * next insert or growth.
   */
  liveView(): Uint8Array {
    this.settle();
    return this.flagsView();
  }

  /** The k best live slots for `query` (ef ≥ k), optionally only among allowed slots. */
  search(query: ArrayLike<number>, k: number, opts: HnswSearchOptions = {}): HnswHits {
    const ef = this.checkSearch(query, k, opts);
    if (k === 0 || this.cap === 0) return { slots: [], scores: [], visited: 0 };
    this.settle();
    this.ensureScratch(ef);
    const hdr = this.sync();
    this.writeQuery(query, this.offsetAt(H.QUERY));
    const mode = this.filterCode(opts, this.offsetAt(H.BITMAP));
    const found = this.x.search(hdr, k, ef, mode);
    return this.hitsAt(this.offsetAt(H.WORK), query, k, found, this.header()[H.VISITS]);
  }

  // ---- search lanes: readers in other threads (lanes.ts, parallel.ts) ---------------------------

  /** True when `n` lanes are ready for searchLane: sized for the graph, offsets current, nothing pending. */
  lanesReady(n: number): boolean {
    return (
      this.pending.length === 0 &&
      this.lanes !== null &&
      this.lanes.ready(n, this.cap) &&
      this.seen === this.slab.layoutVersion &&
      this.buffer === this.slab.wasmMemory.buffer
    );
  }

  /**
   * Makes `n` lanes ready (see lanesReady): settles pending inserts, sizes the lanes, writes the
   * header's and the lanes' offsets. A change of the graph: only while no lane is searching.
   */
  prepareLanes(n: number): void {
    this.settle();
    this.lanes ??= new SearchLanes(this.slab, this.codeBytes, (cap) => this.lanePairs(cap), this.m0);
    // The locks first: their region lies before the lanes', which a growth of it moves.
    if (this.r.locks.bytes < 4 * this.cap) this.slab.resizeRegion(this.r.locks, 4 * this.cap);
    if (!this.lanes.sized(n, this.cap)) this.lanes.resize(n, this.cap);
    else if (!this.lanes.ready(n, this.cap)) this.lanes.writeBlocks();
    this.declareSlotBytes();
    this.sync();
  }

  /**
   * Writes a query (and its filter) into lane i and returns what searchLane needs, or null when the
   * answer is empty without searching. Validates like search(). The lanes must be ready.
   */
  laneCall(i: number, query: ArrayLike<number>, k: number, opts: HnswSearchOptions = {}): LaneCall | null {
    const ef = this.checkSearch(query, k, opts);
    if (k === 0 || this.cap === 0) return null;
    const lanes = this.lanes!;
    const a = lanes.areas(i);
    this.writeQuery(query, a.query);
    return { hdr: this.r.hdr.offset, lane: lanes.offset(i), k, ef, filterMode: this.filterCode(opts, a.bitmap) };
  }

  /** Makes lane i usable again after a searchLane in it failed midway (see SearchLanes.clearVisited). */
  resetLane(i: number): void {
    this.lanes!.clearVisited(i);
  }

  /** The hits lane i's searchLane left (`found` is its return value): as search() returns them. */
  laneHits(i: number, query: ArrayLike<number>, k: number, found: number): HnswHits {
    const lanes = this.lanes!;
    return this.hitsAt(lanes.areas(i).work, query, k, found, lanes.visits(i));
  }

  /** Checks a query's dimension and k; returns the beam width, max(ef, k). */
  private checkSearch(query: ArrayLike<number>, k: number, opts: HnswSearchOptions): number {
    if (query.length !== this.slab.dim) {
      throw new QuiverError("DIMENSION_MISMATCH", `expected a vector of ${this.slab.dim} numbers, got ${query.length}`);
    }
    if (!Number.isInteger(k) || k < 0)
      throw new QuiverError("INVALID_ARGUMENT", `k must be a non-negative integer, got ${k}`);
    return Math.max(opts.ef ?? this.efSearch, k);
  }

  /**
   * The k best of the `found` (score, slot) pairs a search left at `work`, best first, as public
   * scores; with originals on disk they are in code order, and re-ranked on the f32 rows first.
   */
  private hitsAt(work: number, query: ArrayLike<number>, k: number, found: number, visited: number): HnswHits {
    if (this.disk) return this.rerank(query, k, work, found, visited);
    const n = Math.min(found, k);
    const buf = this.slab.wasmMemory.buffer;
    const f = new Float32Array(buf, work, 2 * n);
    const u = new Uint32Array(buf, work, 2 * n);
    const slots = new Array<number>(n);
    const scores = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      scores[i] = this.slab.finalScore(f[2 * i]);
      slots[i] = u[2 * i + 1];
    }
    return { slots, scores, visited };
  }

  /** Pairs a lane holds for `cap` slots: every node, or one expansion's batch (two hops for ACORN). */
  private lanePairs(cap: number): number {
    return Math.max(cap, (this.m0 + 1) * (this.m0 + 1)) + 2;
  }

  stats(): HnswStats {
    this.settle();
    const h = this.header();
    const regions = Object.values(this.r).reduce((s, r) => s + r.bytes, 0);
    return {
      count: h[H.COUNT],
      tombstones: h[H.TOMBS],
      maxLevel: h[H.ENTRY] < 0 ? -1 : h[H.MAXLEVEL],
      quantization: this.quantization,
      originals: this.disk ? "disk" : "memory",
      bytesPerVector: {
        full: this.slab.dim * 4,
        traversal: this.quantization === "none" ? this.slab.dim * 4 : this.codeBytes + 4,
        links: 4 + 4 * this.m0 + (h[H.COUNT] > 0 ? (h[H.POOLUSED] * this.upStride) / h[H.COUNT] : 0),
      },
      indexBytes: regions + (this.lanes?.bytes ?? 0),
    };
  }

  /** The graph as bytes (format in serialize.ts); pending deletes are consolidated first. */
  serialize(): Uint8Array {
    this.settle();
    this.consolidate();
    const n = this.slotsInUse();
    const buf = this.slab.wasmMemory.buffer;
    const u32 = new Uint32Array(buf);
    const upidx = new Uint32Array(buf, this.r.upidx.offset, this.cap);
    return writeHnsw(
      this.snapshotSource(n, this.flagsView(), new Uint8Array(buf, this.r.levels.offset, this.cap), (slot, layer) => {
        const at = this.linkListAt(slot, layer, upidx);
        return u32.subarray(at + 1, at + 1 + u32[at]);
      }),
    );
  }

  /**
   * Bytes freeze() would copy now, each region rounded up to 8: a caller can have that much memory
   * allocated and faulted in beforehand (freeze's `room`), so the copy is a memcpy only.
   */
  freezeBytes(): number {
    // Per slot: its upper-level index (4 bytes), node, flag and level; then the pool; 40 for the rounding.
    return this.slotsInUse() * (this.stride + 6) + this.header()[H.POOLUSED] * this.upStride + 40;
  }

  /**
   * The graph as it is now, copied out of the slab's memory (per-slot arrays, level-0 nodes, the
   * upper-level pool: one memcpy each), for a checkpoint to serialize later, in slices, while
   * inserts change the live graph. Pending deletes are consolidated first, as for serialize().
   * The copies go into `room` while it has space (see freezeBytes), else into new buffers: at 1M
   * vectors a new buffer's page faults cost 10 times the copy itself (240-650 against 24 ms).
   */
  freeze(room?: Uint8Array): HnswSnapshotSource {
    this.settle();
    this.consolidate();
    const n = this.slotsInUse();
    const buf = this.slab.wasmMemory.buffer;
    let used = 0;
    const copy = (region: SlabRegion, bytes: number): Uint8Array => {
      const from = new Uint8Array(buf, region.offset, bytes);
      if (!room || used + bytes > room.length) return from.slice();
      const to = room.subarray(used, used + bytes);
      to.set(from);
      used += (bytes + 7) & ~7;
      return to;
    };
    const words = (bytes: Uint8Array): Uint32Array =>
      new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
    const upidx = words(copy(this.r.upidx, 4 * n));
    // Nodes hold codes beside the level-0 links; copying the region whole is one memcpy, and cheaper
    // than picking the links out node by node.
    const nodes = words(copy(this.r.nodes, n * this.stride));
    const pool = words(copy(this.r.pool, this.header()[H.POOLUSED] * this.upStride));
    return this.snapshotSource(n, copy(this.r.flags, n), copy(this.r.levels, n), (slot, layer) => {
      const list = layer === 0 ? nodes : pool;
      const at =
        layer === 0 ? (slot * this.stride + this.linksOff) >>> 2 : ((upidx[slot] + layer - 2) * this.upStride) >>> 2;
      return list.subarray(at + 1, at + 1 + list[at]);
    });
  }

  /** Slots [0, n) cover every node in the graph. */
  private slotsInUse(): number {
    const flags = this.flagsView();
    let n = 0;
    for (let s = 0; s < this.cap; s++) if (flags[s] === FLAG_LIVE) n = s + 1;
    return n;
  }

  private snapshotSource(
    n: number,
    flags: Uint8Array,
    levels: Uint8Array,
    links: HnswSnapshotSource["links"],
  ): HnswSnapshotSource {
    const h = this.header();
    return {
      dim: this.slab.dim,
      metric: this.slab.metric,
      quantization: this.quantization,
      m: this.m,
      efConstruction: this.efConstruction,
      efSearch: this.efSearch,
      n,
      entry: h[H.ENTRY],
      maxLevel: h[H.MAXLEVEL],
      qReady: h[H.QREADY] === 1,
      scale: this.headerF32(H.SCALE),
      offset: this.headerF32(H.OFFSET),
      rng: this.rng,
      nextTrain: this.nextTrain,
      flags: flags.subarray(0, n),
      levels: levels.subarray(0, n),
      links,
    };
  }

  /** Releases the index's regions of the slab's memory. */
  dispose(): void {
    this.slab.declareSlotBytes(this, 0);
    this.lanes?.dispose();
    for (const r of Object.values(this.r)) this.slab.freeRegion(r);
  }

  // ---- internals -------------------------------------------------------------------------------

  private restore(s: HnswSnapshot): void {
    this.growSlots(this.slab.capacity);
    let blocks = 0;
    for (let i = 0; i < s.n; i++) if (s.flags[i] === FLAG_LIVE) blocks += s.levels[i];
    this.ensurePool(blocks);
    this.sync();
    const buf = this.slab.wasmMemory.buffer;
    const u32 = new Uint32Array(buf);
    const flags = new Uint8Array(buf, this.r.flags.offset, this.cap);
    const levels = new Uint8Array(buf, this.r.levels.offset, this.cap);
    const upidx = new Uint32Array(buf, this.r.upidx.offset, this.cap);
    let used = 0;
    let count = 0;
    let p = 0;
    for (let slot = 0; slot < s.n; slot++) {
      if (s.flags[slot] !== FLAG_LIVE) continue;
      count++;
      flags[slot] = FLAG_LIVE;
      levels[slot] = s.levels[slot];
      if (s.levels[slot] > 0) {
        upidx[slot] = used + 1;
        used += s.levels[slot];
      }
      for (let l = 0; l <= s.levels[slot]; l++) {
        const at = this.linkListAt(slot, l, upidx);
        const c = s.links[p];
        if (c > (l === 0 ? this.m0 : this.m))
          throw new QuiverError("CORRUPT", `HNSW slot ${slot} has ${c} links at level ${l}`);
        for (let i = 0; i <= c; i++) u32[at + i] = s.links[p + i];
        for (let i = 1; i <= c; i++)
          if (u32[at + i] >= s.n) throw new QuiverError("CORRUPT", `HNSW link to slot ${u32[at + i]} beyond ${s.n}`);
        p += c + 1;
      }
    }
    const h = this.header();
    h[H.POOLUSED] = used;
    h[H.COUNT] = count;
    h[H.ENTRY] = s.entry;
    h[H.MAXLEVEL] = s.maxLevel;
    h[H.QREADY] = s.qReady ? 1 : 0;
    this.setHeaderF32(H.SCALE, s.scale);
    this.setHeaderF32(H.OFFSET, s.offset);
    this.rng = s.rng;
    this.nextTrain = s.nextTrain;
    if (s.qReady && this.quantization !== "none") this.encodeAll();
    // A small graph built before training over resident vectors has no codes: with rows on disk, train now.
    else if (this.disk && count > 0) this.trainQuantizer();
  }

  /**
   * u32 index (in the slab's memory) of slot's link list at `layer`: a count, then the neighbours.
   * The JS mirror of the module's linksAt (kernels/assembly/hnsw/state.ts).
   */
  private linkListAt(slot: number, layer: number, upidx: Uint32Array): number {
    return layer === 0
      ? (this.r.nodes.offset + slot * this.stride + this.linksOff) >>> 2
      : (this.r.pool.offset + (upidx[slot] - 1 + layer - 1) * this.upStride) >>> 2;
  }

  /** Trains the quantizer on the pending inserts (originals on disk) and puts them in the graph. */
  private settle(): void {
    if (this.pending.length === 0) return;
    const slots = this.pending;
    this.pending = [];
    this.trainQuantizer(slots);
    for (const s of slots) this.insert(s);
  }

  /**
   * Re-scores the `found` code-ordered candidates at `work` on the f32 rows from the slab's row file and
   * keeps the k best: the same survivors and the same f32 scores as the in-memory re-ranking.
   */
  private rerank(query: ArrayLike<number>, k: number, work: number, found: number, visited: number): HnswHits {
    const u = new Uint32Array(this.slab.wasmMemory.buffer, work, 2 * found);
    const cands = new Uint32Array(found);
    for (let i = 0; i < found; i++) cands[i] = u[2 * i + 1];
    // Ascending slots: neighbouring rows are read together and the file is read forwards.
    cands.sort();
    const raw = new Float32Array(found);
    const batch = this.slab.batchLimit;
    for (let at = 0; at < found; at += batch) {
      const part = cands.subarray(at, Math.min(found, at + batch));
      raw.set(this.slab.scoreSlots(query, part, part.length), at);
    }
    const order = Array.from({ length: found }, (_, i) => i).sort((a, b) => raw[b] - raw[a] || cands[a] - cands[b]);
    const n = Math.min(k, found);
    const slots = new Array<number>(n);
    const scores = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      slots[i] = cands[order[i]];
      scores[i] = this.slab.finalScore(raw[order[i]]);
    }
    return { slots, scores, visited };
  }

  /** Re-encodes every node's codes from the f32 rows, streamed through the staging area when on disk. */
  private encodeAll(): void {
    const hdr = this.sync();
    if (!this.disk) {
      this.x.encodeAll(hdr);
      return;
    }
    const flags = this.flagsView();
    const batch = this.slab.batchLimit;
    for (let start = 0; start < this.cap; start += batch) {
      const n = Math.min(batch, this.cap - start);
      let used = false;
      for (let s = start; s < start + n && !used; s++) used = flags[s] !== FLAG_ABSENT;
      if (used) this.x.encodeRange(hdr, start, n, this.slab.stageRange(start, n));
    }
  }

  private randomLevel(): number {
    const drawn = levelFrom(this.rng, this.m);
    this.rng = drawn.rng;
    return drawn.level;
  }

  /** Fits the int8 quantizer to the live vectors (plus `extra` slots not yet in the graph) and re-encodes. */
  private trainQuantizer(extra: number[] = []): void {
    const flags = this.flagsView();
    const slots: number[] = [];
    for (let s = 0; s < this.cap; s++) if (flags[s] === FLAG_LIVE) slots.push(s);
    slots.push(...extra);
    const dim = this.slab.dim;
    const base = this.slab.vectorsOffset >>> 2;
    const f32 = new Float32Array(this.slab.wasmMemory.buffer);
    const row = this.disk
      ? (s: number) => this.slab.get(s)
      : (s: number) => f32.subarray(base + s * dim, base + (s + 1) * dim);
    const p = trainInt8(row, dim, slots);
    this.setHeaderF32(H.SCALE, p.scale);
    this.setHeaderF32(H.OFFSET, p.offset);
    this.header()[H.QREADY] = 1;
    this.encodeAll();
    // Retrain once the graph reaches the next size step above what this training saw.
    while (this.nextTrain <= slots.length)
      this.nextTrain = this.nextTrain >= QUANT_TRAIN_LAST ? Infinity : this.nextTrain * 4;
  }

  private growSlots(cap: number): void {
    const s = this.slab;
    const r = this.r;
    // The code loops read up to 15 bytes past the codes (inside the record, whose links follow); slack kept.
    s.resizeRegion(r.nodes, cap * this.stride + 16);
    s.resizeRegion(r.flags, cap);
    s.resizeRegion(r.levels, cap);
    s.resizeRegion(r.upidx, cap * 4);
    s.resizeRegion(r.visited, cap);
    s.resizeRegion(r.cand, (cap + 1) * 8);
    s.resizeRegion(r.bitmap, Math.ceil(cap / 8));
    this.cap = cap;
    this.header()[H.CAP] = cap;
    // Lanes follow the slots here, on the write path, so that a growth refused fails the write, not a read.
    if (this.lanes && this.lanes.count > 0) {
      s.resizeRegion(r.locks, 4 * cap);
      this.lanes.resize(this.lanes.count, cap);
    }
  }

  /**
   * Tells the slab what growSlots and the lanes take per slot (VectorSlab.declareSlotBytes), so that the
   * capacity it grows to is one these regions fit in: near the 4 GiB ceiling a capacity chosen for the
   * vectors alone let the graph's growth fail with memory to spare for a smaller one.
   */
  private declareSlotBytes(): void {
    // nodes, flags, levels, upidx, visited, cand and bitmap (growSlots); locks and lanes when there are lanes.
    let bytes = this.stride + 1 + 1 + 4 + 1 + 8 + 1 / 8;
    if (this.lanes && this.lanes.count > 0) bytes += 4 + this.lanes.count * this.lanes.slotBytes();
    this.slab.declareSlotBytes(this, bytes);
  }

  /** Room for `blocks` upper-layer link lists: doubling, or exactly `blocks` when doubling is refused. */
  private ensurePool(blocks: number): void {
    if (blocks <= this.poolCap) return;
    const want = Math.max(blocks, this.poolCap * 2, 64);
    const got = this.slab.resizeRegion(this.r.pool, want * this.upStride, blocks * this.upStride);
    this.poolCap = Math.floor(got / this.upStride);
    this.header()[H.POOLCAP] = this.poolCap;
  }

  /** Room for ef results and for the candidate lists of pruning and repair. */
  private ensureScratch(ef: number): void {
    const need = Math.max(ef, this.efConstruction, (this.m0 + 1) * (this.m0 + 1)) + 2;
    if (need <= this.pairCap) return;
    this.slab.resizeRegion(
      this.r.scratch,
      2 * need * 8 + align16(this.slab.dim * 4) + 2 * (align16(this.codeBytes) + 16) + align16(4 * (this.m0 + 2)),
    );
    // Only once the room exists: a refused growth leaves the old, still valid, scratch layout.
    this.pairCap = need;
    this.seen = -1;
  }

  /** Writes every region offset into the header when the layout changed; returns the header offset. */
  private sync(): number {
    const s = this.slab;
    if (s.layoutVersion === this.seen && this.buffer === s.wasmMemory.buffer) return this.r.hdr.offset;
    const h = this.header();
    const r = this.r;
    h[H.VEC] = s.vectorsOffset;
    h[H.NODES] = r.nodes.offset;
    h[H.FLAGS] = r.flags.offset;
    h[H.LEVELS] = r.levels.offset;
    h[H.UPIDX] = r.upidx.offset;
    h[H.VISITED] = r.visited.offset;
    h[H.CAND] = r.cand.offset;
    h[H.BITMAP] = r.bitmap.offset;
    h[H.POOL] = r.pool.offset;
    // Computed on numbers, not read back from the i32 header: offsets past 2 GiB read back negative.
    const work = r.scratch.offset + this.pairCap * 8;
    const query = work + this.pairCap * 8;
    const qcodes = query + align16(s.dim * 4);
    const sel = qcodes + align16(this.codeBytes) + 16;
    h[H.RES] = r.scratch.offset;
    h[H.WORK] = work;
    h[H.QUERY] = query;
    h[H.QCODES] = qcodes;
    h[H.SEL] = sel;
    h[H.PAD] = sel + align16(4 * (this.m0 + 2));
    h[H.LOCKS] = r.locks.offset;
    this.seen = s.layoutVersion;
    return r.hdr.offset;
  }

  private header(): Int32Array {
    const buf = this.slab.wasmMemory.buffer;
    if (this.buffer !== buf || this.hdr.byteOffset !== this.r.hdr.offset) {
      this.buffer = buf;
      this.hdr = new Int32Array(buf, this.r.hdr.offset, HEADER_BYTES / 4);
      this.seen = -1;
    }
    return this.hdr;
  }

  /** A byte offset the header holds (the i32 header stores it as is: see headerOffset). */
  private offsetAt(i: number): number {
    return headerOffset(this.header(), i);
  }

  private headerF32(i: number): number {
    return new Float32Array(this.header().buffer, this.r.hdr.offset, HEADER_BYTES / 4)[i];
  }

  private setHeaderF32(i: number, v: number): void {
    new Float32Array(this.header().buffer, this.r.hdr.offset, HEADER_BYTES / 4)[i] = v;
  }

  private flagsView(): Uint8Array {
    return new Uint8Array(this.slab.wasmMemory.buffer, this.r.flags.offset, this.cap);
  }

  private writeQuery(q: ArrayLike<number>, at: number): void {
    const dim = this.slab.dim;
    const f = new Float32Array(this.slab.wasmMemory.buffer, at, dim);
    let scale = 1;
    if (this.slab.metric === "cosine") {
      let norm = 0;
      for (let i = 0; i < dim; i++) norm += q[i] * q[i];
      scale = norm > 0 ? 1 / Math.sqrt(norm) : 1;
    }
    for (let i = 0; i < dim; i++) f[i] = q[i] * scale;
  }

  /** Writes the filter's bitmap at `at` (when there is one) and returns the module's FILTER_* code. */
  private filterCode(opts: HnswSearchOptions, at: number): number {
    if (opts.filter === undefined) return FILTER_NONE;
    this.writeBitmap(opts.filter, at);
    return opts.filterMode === "acorn" ? FILTER_ACORN : FILTER_PLAIN;
  }

  private writeBitmap(filter: SlotFilter, at: number): void {
    const bytes = Math.ceil(this.cap / 8);
    const dst = new Uint8Array(this.slab.wasmMemory.buffer, at, bytes);
    if (filter instanceof Uint8Array) {
      const n = Math.min(bytes, filter.length);
      dst.set(n === filter.length ? filter : filter.subarray(0, n));
      dst.fill(0, n);
      return;
    }
    dst.fill(0);
    const flags = this.flagsView();
    for (let s = 0; s < this.cap; s++) if (flags[s] === FLAG_LIVE && filter.accept(s)) dst[s >> 3] |= 1 << (s & 7);
  }
}

/**
 * One draw of a node's level from the generator state `rng` (mulberry32: small, seedable, and its
 * state fits in the serialized header): the next state and the level, geometric with ratio 1/m.
 */
function levelFrom(rng: number, m: number): { rng: number; level: number } {
  const next = nextState(rng);
  const u = stateToFloat(next);
  return { rng: next, level: Math.min(MAX_LEVEL, Math.floor(-Math.log(1 - u) / Math.log(m))) };
}
