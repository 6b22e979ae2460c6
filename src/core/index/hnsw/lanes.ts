// Search lanes: the scratch of one HNSW index for readers in other threads. A lane is one region of the
// slab's (shared) memory holding everything a search writes (visited epochs, candidate and result heaps,
// work list, query and its codes, filter bitmap), so N threads search one graph at once, each in its own
// lane, while the header, the node records and the vectors are only read (searchLane in the module).
//
// A lane holds one search at a time, run by whichever thread takes it (src/core/index/hnsw/parallel.ts
// hands lanes out; there are a few more lanes than threads, so a search can wait queued for a thread).
// A lane is sized for the slab's capacity rather than for one query's ef (its heaps hold up to every
// node), so nothing a query asks for can make it grow: lanes change only when the graph's slots do, on the
// write path, never while a reader searches. The price is about 25 bytes per vector per lane.
//
// Lane region layout (byte offsets from the region's start; the block's fields are hnswLane in
// src/core/kernels/boundary.json):
//   [0, LANE_BYTES)   the lane block: offsets of the areas below, the visited epoch, the last search's visits
//   query             dim × f32
//   qcodes            the query's codes, zero-padded to whole 16-byte blocks
//   res, work, cand   (pairs + 1) × 8 each: (f32 score, u32 slot) heaps and the result list
//   visited           capacity × u8 epochs
//   bitmap            ⌈capacity / 8⌉ bytes
//   sel               (m0 + 2) × u32: the neighbour selection of a parallel build's link (see hnsw.ts insertMany)
//   pad               one node's codes zero-padded to 16-byte blocks: a parallel build's pair estimates with
//                     originals on disk (the module copies a node's codes there before comparing it)

import { L, LANE_BYTES } from "../../kernels/boundary.generated.js";
import type { SlabRegion, VectorSlab } from "../../vectors/slab.js";

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

interface LaneAreas {
  query: number;
  qcodes: number;
  res: number;
  work: number;
  cand: number;
  visited: number;
  bitmap: number;
  sel: number;
  pad: number;
  end: number;
}

export class SearchLanes {
  private readonly regions: SlabRegion[] = [];
  private cap = -1;
  private seen = -1;
  private buffer: ArrayBuffer | undefined;

  /**
   * @param pairsFor the (score, slot) pairs a search may hold for a capacity: every node, plus the
   * neighbour batch of one expansion (two hops for ACORN), which the index knows.
   * @param m0 the graph's level-0 links: a parallel build's selection scratch holds that many.
   */
  constructor(
    private readonly slab: VectorSlab,
    private readonly codeBytes: number,
    private readonly pairsFor: (cap: number) => number,
    private readonly m0: number,
  ) {}

  get count(): number {
    return this.regions.length;
  }

  /** Bytes of the slab's memory the lanes hold. */
  get bytes(): number {
    return this.regions.reduce((s, r) => s + r.bytes, 0);
  }

  /**
   * Bytes one lane takes per slot of capacity (its heaps, visited epochs and bitmap grow with it): what
   * the index declares to the slab (VectorSlab.declareSlotBytes) for each lane.
   */
  slotBytes(): number {
    const big = 1 << 20;
    return (this.layout(0, 2 * big).end - this.layout(0, big).end) / big;
  }

  /** Byte offset of lane i's block, the `lane` argument of searchLane. */
  offset(i: number): number {
    return this.regions[i].offset;
  }

  /** Byte offsets of lane i's areas. */
  areas(i: number): LaneAreas {
    return this.layout(this.regions[i].offset, this.cap);
  }

  /** True when there are `n` lanes sized for `cap` slots. */
  sized(n: number, cap: number): boolean {
    return this.regions.length === n && this.cap === cap;
  }

  /** True when sized(n, cap) and their blocks hold the current offsets. */
  ready(n: number, cap: number): boolean {
    return this.sized(n, cap) && this.seen === this.slab.layoutVersion && this.buffer === this.slab.wasmMemory.buffer;
  }

  /**
   * Makes `n` lanes sized for `cap` slots (more are allocated, extra ones freed) and writes their blocks.
   * Only on the write path: it may move regions of the slab. Throws RESOURCE_EXHAUSTED when memory is refused.
   */
  resize(n: number, cap: number): void {
    while (this.regions.length > n) this.slab.freeRegion(this.regions.pop()!);
    while (this.regions.length < n) this.regions.push(this.slab.allocRegion(0));
    const bytes = this.layout(0, cap).end;
    for (const r of this.regions) this.slab.resizeRegion(r, bytes);
    this.cap = cap;
    this.writeBlocks();
  }

  /** Rewrites every block after the slab's layout changed (regions moved). */
  writeBlocks(): void {
    const buf = this.slab.wasmMemory.buffer;
    for (let i = 0; i < this.regions.length; i++) {
      const a = this.layout(this.regions[i].offset, this.cap);
      const block = new Int32Array(buf, this.regions[i].offset, LANE_BYTES / 4);
      block[L.VISITED] = a.visited;
      block[L.CAND] = a.cand;
      block[L.RES] = a.res;
      block[L.WORK] = a.work;
      block[L.QUERY] = a.query;
      block[L.QCODES] = a.qcodes;
      block[L.BITMAP] = a.bitmap;
      block[L.SEL] = a.sel;
      block[L.PAD] = a.pad;
      // A moved region's epochs no longer sit where its block says: start over from a cleared array.
      this.clearVisited(i);
    }
    this.seen = this.slab.layoutVersion;
    this.buffer = buf;
  }

  /**
   * Starts lane i's visited marks over (epoch 0, marks cleared). A search writes its epoch back to the
   * block only when it ends, so one cut short (its thread killed, a trap) leaves marks of an epoch the
   * next search would reuse, and that search would skip every node they mark: a lane whose search did
   * not end is cleared before its next one. Only by the holder of the lane.
   */
  clearVisited(i: number): void {
    const buf = this.slab.wasmMemory.buffer;
    const a = this.layout(this.regions[i].offset, this.cap);
    new Int32Array(buf, this.regions[i].offset, LANE_BYTES / 4)[L.EPOCH] = 0;
    new Uint8Array(buf, a.visited, this.cap).fill(0);
  }

  /** Nodes scored by lane i's last search. */
  visits(i: number): number {
    return new Int32Array(this.slab.wasmMemory.buffer, this.regions[i].offset, LANE_BYTES / 4)[L.VISITS];
  }

  dispose(): void {
    for (const r of this.regions) this.slab.freeRegion(r);
    this.regions.length = 0;
  }

  private layout(base: number, cap: number): LaneAreas {
    const pairBytes = (this.pairsFor(cap) + 1) * 8;
    const query = base + LANE_BYTES;
    const qcodes = query + align16(this.slab.dim * 4);
    const res = qcodes + align16(this.codeBytes) + 16;
    const work = res + pairBytes;
    const cand = work + pairBytes;
    const visited = cand + pairBytes;
    const bitmap = visited + align16(cap);
    const sel = bitmap + align16(Math.ceil(cap / 8));
    const pad = sel + align16(4 * (this.m0 + 2));
    const end = pad + align16(this.codeBytes) + 16 - base;
    return { query, qcodes, res, work, cand, visited, bitmap, sel, pad, end };
  }
}
