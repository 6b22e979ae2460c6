// VectorSlab: the storage of one named vector of one collection, in one WebAssembly.Memory that the
// distance kernels read directly. Slots are dense internal u32 ids; the slab knows nothing of user ids.
//
// Memory layout (byte offsets; every region starts 16-byte aligned):
//   [0, 65536)                 reserved for the kernel module (page 0)
//   queryOff                   query scratch: dim × f32
//   vectorsOff                 vectors: capacity × dim × f32, slot-major (slot s at vectorsOff + s·dim·4)
//   slotsOff                   slot-list scratch: capacity × u32
//   scoresOff                  scores scratch: capacity × f32
//   regions                    regions allocated by indexes living beside the vectors (allocRegion),
//                              in allocation order, each 64-byte aligned (one cache line)
// The scratch regions hold nothing between calls, so growing the capacity simply recomputes their
// offsets past the (larger) vector region; vectors never move. Regions keep their contents but may
// move when the capacity or an earlier region grows: read `region.offset` again after any change
// (`layoutVersion` counts them).
//
// With a RowFile (originals on disk), the f32 rows live in that file at slot·dim·4 instead, and the
// vector region is a fixed staging area of `batchLimit` rows: scans stream rows through it into the
// same kernels, so exact search stays exact while resident memory no longer grows with the rows.
// The scratch regions are then `batchLimit` long too, and regions never move on capacity growth.
//
// Growth: every byte of this memory is obtained through growMemory, which asks the optional GrowHook
// first (tests inject failures there; an embedder can cap memory) and reports a refusal or a host
// failure as RESOURCE_EXHAUSTED naming the slab. Capacity grows by 1.5x; when that is refused, by 1.25x,
// then 1.125x, then to exactly the slots asked for, so all of the 4 GiB can be used (doubling failed
// with half of it still free). Indexes beside the vectors declare the bytes their regions take per slot
// (declareSlotBytes), and a growth reserves those too: the capacity chosen is one their regions fit in,
// and growing them to it allocates nothing more.

import { QuiverError } from "../errors/errors.js";
import {
  METRIC_DOT,
  METRIC_L2,
  RESERVED_BYTES,
  type KernelFactory,
  type KernelMetric,
  type Kernels,
} from "../kernels/kernels.js";

import type { Metric } from "../schema/schema.js";
export type { Metric };

const PAGE = 65536;
/**
 * wasm32 addresses 4 GiB at most. An ordinary memory declares no `maximum`, so engines need not reserve it
 * up front; a shared one must declare one (it never moves), and declares all of it: the engine reserves
 * that address space (virtual, not resident) and the slab still grows page by page within it.
 */
const MAX_PAGES = 65536;
const MIN_CAPACITY = 16;
/** Capacity growth factors, tried in order until the memory for one is granted (then exact). */
const GROWTH = [1.5, 1.25, 1.125];
/** Room kept beyond the declared per-slot bytes: each region rounds its size up to 64 bytes. */
const REGION_SLACK = 4096;
/** Bytes of f32 rows staged per read when rows live in a RowFile: a few hundred KiB, cache-friendly. */
const STAGE_BYTES = 256 * 1024;

// Arithmetic, not bitwise: sizes can pass 2^31 (a request for more than 4 GiB must be seen as
// such by growMemory), and `& ~15` would wrap them to a small size.
const align16 = (n: number): number => Math.ceil(n / 16) * 16;
const align64 = (n: number): number => Math.ceil(n / 64) * 64;

/** A block of a slab's memory owned by an index (see allocRegion); `offset` changes when the layout does. */
export interface SlabRegion {
  readonly offset: number;
  readonly bytes: number;
}

/**
 * A synchronous positional file holding a slab's f32 rows when they are not resident (see
 * Directory.openScratch). Synchronous because search is; it reads from the OS page cache. A derived
 * cache: never synced, rebuilt at each open from the durable records.
 */
export interface RowFile {
  /** Fills `into` with the bytes at `pos`; bytes past the end of what was written read as zero. */
  read(pos: number, into: Uint8Array): void;
  write(pos: number, data: Uint8Array): void;
  /** Releases (and deletes) the file. */
  close(): void;
}

/**
 * Asked before a slab's memory grows from `fromBytes` to `toBytes` (`label` names the slab, e.g.
 * "docs.text"); returning false refuses the growth, which then fails with RESOURCE_EXHAUSTED as if the
 * host had refused it. Used by tests to fail allocations on demand, and to cap memory per slab.
 */
export type GrowHook = (toBytes: number, fromBytes: number, label: string) => boolean;

export interface SlabOptions {
  /** Names the slab in errors (the database uses "collection.vector"). */
  label?: string;
  growHook?: GrowHook;
}

interface MutableRegion {
  offset: number;
  bytes: number;
}

export class VectorSlab {
  readonly dim: number;
  readonly metric: Metric;
  readonly kernels: Kernels;
  private readonly memory: WebAssembly.Memory;
  private readonly kernelMetric: KernelMetric;
  private readonly queryOff: number;
  private readonly vectorsOff: number;
  private cap = 0;
  private slotsOff = 0;
  private scoresOff = 0;
  private buffer: ArrayBuffer;
  private f32: Float32Array;
  private readonly regions: MutableRegion[] = [];
  private version = 0;
  /**
   * Bytes at or past this offset were never written: memory grows zeroed, so a region handed out
   * there needs no fill (opening a large graph would otherwise write its whole link region twice).
   */
  private touchedEnd = 0;
  /** The rows' file when they are not resident (null: rows live in the vector region). */
  private readonly rows: RowFile | null;
  /** Rows the staging area holds (disk rows only). */
  private readonly stageRows: number;
  /** One row, normalised before it is written to the row file. */
  private readonly rowBuf: Float32Array;
  /** End of the highest row written to the row file (its size). */
  private rowsEnd = 0;
  private readonly label: string;
  private readonly growHook: GrowHook | undefined;
  /** Bytes per slot declared by each index living beside the vectors (declareSlotBytes). */
  private readonly slotBytesBy = new Map<object, number>();

  /**
   * @example
   * const slab = new VectorSlab(await loadKernelFactory(), 384, "cosine");
   * slab.ensureCapacity(1000);
   * slab.set(0, embedding);
   * // Rows kept in a file instead of memory (exact scans stream them):
   * const lean = new VectorSlab(factory, 384, "cosine", dir.openScratch("rows.qscratch"));
   */
  constructor(
    factory: KernelFactory,
    dim: number,
    metric: Metric,
    rows: RowFile | null = null,
    options: SlabOptions = {},
  ) {
    if (!Number.isInteger(dim) || dim < 1 || dim > 65536) {
      throw new QuiverError("INVALID_ARGUMENT", `dim must be an integer in [1, 65536], got ${dim}`);
    }
    if (metric !== "cosine" && metric !== "dot" && metric !== "l2") {
      throw new QuiverError("INVALID_ARGUMENT", `unknown metric ${String(metric)}`);
    }
    this.dim = dim;
    this.metric = metric;
    this.kernelMetric = metric === "l2" ? METRIC_L2 : METRIC_DOT;
    this.queryOff = RESERVED_BYTES;
    this.vectorsOff = this.queryOff + align16(dim * 4);
    this.rows = rows;
    this.label = options.label ?? "vector slab";
    this.growHook = options.growHook;
    this.stageRows = rows ? Math.max(16, Math.floor(STAGE_BYTES / (dim * 4))) : 0;
    this.rowBuf = new Float32Array(rows ? dim : 0);
    try {
      const initial = Math.ceil(this.vectorsOff / PAGE);
      // A factory over shared memories (threads: readers in worker threads search this memory).
      this.memory = new WebAssembly.Memory(
        factory.shared ? { initial, maximum: MAX_PAGES, shared: true } : { initial },
      );
    } catch (cause) {
      throw new QuiverError("RESOURCE_EXHAUSTED", "out of memory: could not allocate a vector slab", { cause });
    }
    this.buffer = this.memory.buffer;
    this.f32 = new Float32Array(this.buffer);
    this.kernels = factory.bind(this.memory);
    this.layout(0);
    if (rows) this.growMemory(this.regionsStart(0), "the staging area");
  }

  /** Whether the f32 rows are in this memory (true) or in a RowFile (false). */
  get rowsResident(): boolean {
    return this.rows === null;
  }

  /**
   * Most slots one scoreRange / scoreSlots call accepts: the capacity when rows are resident, the
   * staging area's rows when they are on disk.
   */
  get batchLimit(): number {
    return this.rows ? this.stageRows : this.cap;
  }

  /** Number of slots the slab can hold without growing. */
  get capacity(): number {
    return this.cap;
  }

  /**
   * Grows so that slots [0, n) exist: by the first of the GROWTH factors whose memory (the declared
   * per-slot bytes of the indexes included) is granted, else to exactly n. Existing vectors and regions
   * are kept. Throws RESOURCE_EXHAUSTED (nothing changed) when n does not fit.
   */
  ensureCapacity(n: number): void {
    if (n <= this.cap) return;
    const what = `${n} vectors of dim ${this.dim}`;
    let cap = n;
    for (const factor of GROWTH) {
      const step = Math.max(Math.ceil(this.cap * factor), MIN_CAPACITY);
      if (step <= n) break;
      try {
        this.growMemory(this.reservedEnd(step), what);
        cap = step;
        break;
      } catch {
        // Refused: a smaller step, and at last exactly n (whose refusal is the error reported).
      }
    }
    if (cap === n) this.growMemory(this.reservedEnd(n), what);
    const delta = this.regionsStart(cap) - this.regionsStart(this.cap);
    this.layout(cap);
    if (delta === 0) return; // rows on disk: nothing after the staging area moves
    // Every region moves up by the same amount; moving the last one first never overwrites a source.
    const bytes = new Uint8Array(this.memory.buffer);
    for (let i = this.regions.length - 1; i >= 0; i--) {
      const r = this.regions[i];
      bytes.copyWithin(r.offset + delta, r.offset, r.offset + r.bytes);
      r.offset += delta;
    }
    this.markTouched();
    this.version++;
  }

  /**
   * Declares that `owner` (an index beside the vectors) sizes its regions at `bytesPerSlot` × capacity
   * (plus a constant): ensureCapacity then reserves that memory with the slots, so a capacity is only
   * chosen when the owner's regions fit in it too. 0 withdraws the declaration (the owner is disposed).
   */
  declareSlotBytes(owner: object, bytesPerSlot: number): void {
    if (bytesPerSlot > 0) this.slotBytesBy.set(owner, bytesPerSlot);
    else this.slotBytesBy.delete(owner);
  }

  /** The memory the kernels (and any index living beside the vectors) read. */
  get wasmMemory(): WebAssembly.Memory {
    return this.memory;
  }

  /**
   * Byte offset of slot 0's vector; slot s is at vectorsOffset + s · dim · 4 (never moves). With rows
   * on disk, the staging area instead (see stageRange).
   */
  get vectorsOffset(): number {
    return this.vectorsOff;
  }

  /** The kernels' metric code (METRIC_DOT for cosine and dot, METRIC_L2 for l2). */
  get kernelMetricCode(): KernelMetric {
    return this.kernelMetric;
  }

  /** Incremented whenever a region may have moved (capacity growth, region resize or free). */
  get layoutVersion(): number {
    return this.version;
  }

  /**
   * Reserves `bytes` (zeroed, 64-byte aligned) of this slab's memory for an index that must sit in the
   * same WebAssembly.Memory as the vectors. The region's contents survive growth, but its offset may
   * change: re-read `region.offset` whenever `layoutVersion` changed.
   *
   * @example
   * const links = slab.allocRegion(capacity * 132);
   * new Uint32Array(slab.wasmMemory.buffer, links.offset, 33);
   */
  allocRegion(bytes: number): SlabRegion {
    const size = align64(Math.max(0, Math.ceil(bytes)));
    const last = this.regions[this.regions.length - 1];
    const offset = last === undefined ? this.regionsStart(this.cap) : last.offset + last.bytes;
    this.growMemory(offset + size, `a region of ${size} bytes`);
    const r: MutableRegion = { offset, bytes: size };
    this.zero(new Uint8Array(this.memory.buffer), offset, offset + size);
    this.regions.push(r);
    this.markTouched();
    return r;
  }

  /**
   * Resizes a region, keeping its first min(old, new) bytes; new bytes are zero. Later regions move.
   * When growing to `bytes` is refused, grows to `atLeast` instead (a geometric caller's exact need);
   * returns the size obtained. Throws RESOURCE_EXHAUSTED, with nothing changed, when neither fits.
   */
  resizeRegion(region: SlabRegion, bytes: number, atLeast: number = bytes): number {
    const i = this.regions.indexOf(region as MutableRegion);
    if (i < 0) throw new QuiverError("INVALID_ARGUMENT", "resizeRegion: not a region of this slab");
    const r = this.regions[i];
    let size = align64(Math.max(0, Math.ceil(bytes)));
    const delta0 = size - r.bytes;
    if (delta0 === 0) return size;
    if (delta0 > 0) {
      try {
        this.growMemory(this.endFor(this.cap, this.regionBytes() + delta0), `a region of ${size} bytes`);
      } catch (e) {
        const least = align64(Math.max(0, Math.ceil(atLeast)));
        if (least >= size) throw e;
        size = Math.max(least, r.bytes);
        this.growMemory(this.endFor(this.cap, this.regionBytes() + size - r.bytes), `a region of ${size} bytes`);
      }
    }
    const delta = size - r.bytes;
    if (delta === 0) return size;
    const mem = new Uint8Array(this.memory.buffer);
    this.shiftAfter(i, delta, mem);
    if (delta > 0) this.zero(mem, r.offset + r.bytes, r.offset + size);
    r.bytes = size;
    this.markTouched();
    this.version++;
    return size;
  }

  /** Releases a region; later regions move down. */
  freeRegion(region: SlabRegion): void {
    const i = this.regions.indexOf(region as MutableRegion);
    if (i < 0) return;
    const r = this.regions[i];
    this.shiftAfter(i, -r.bytes, new Uint8Array(this.memory.buffer));
    this.regions.splice(i, 1);
    r.bytes = 0;
    this.version++;
  }

  /** Stores `vec` at `slot` (cosine: its L2-normalised form). Callers guarantee finite, non-zero input. */
  set(slot: number, vec: ArrayLike<number>): void {
    this.checkSlot(slot);
    this.checkDim(vec);
    if (!this.rows) {
      this.write(this.vectorsOff + slot * this.dim * 4, vec);
      return;
    }
    this.normalise(vec, this.rowBuf, 0);
    this.rows.write(slot * this.dim * 4, new Uint8Array(this.rowBuf.buffer));
    this.rowsEnd = Math.max(this.rowsEnd, (slot + 1) * this.dim * 4);
  }

  /**
   * Stores `count` rows held contiguously in `rows` at slots [slot, slot + count): one block copy
   * when resident and not cosine (how an open loads a segment's column), else row by row as `set`.
   */
  setRows(slot: number, rows: Float32Array, count: number): void {
    const dim = this.dim;
    if (this.rows || this.metric === "cosine")
      for (let i = 0; i < count; i++) this.set(slot + i, rows.subarray(i * dim, (i + 1) * dim));
    else if (count > 0) {
      // The checks `set` makes, once: the last slot exists and the last row is whole.
      this.checkSlot(slot + count - 1);
      this.checkDim(rows.subarray((count - 1) * dim, count * dim));
      this.view().set(rows.subarray(0, count * dim), (this.vectorsOff >>> 2) + slot * dim);
    }
  }

  /** A copy of the stored vector (for cosine, the normalised one). */
  get(slot: number): Float32Array {
    this.checkSlot(slot);
    if (this.rows) {
      const out = new Float32Array(this.dim);
      this.rows.read(slot * this.dim * 4, new Uint8Array(out.buffer));
      return out;
    }
    const at = (this.vectorsOff >>> 2) + slot * this.dim;
    return this.view().slice(at, at + this.dim);
  }

  /**
   * Byte offset where rows [start, start + count) sit contiguously in memory: in place when resident,
   * read into the staging area (count ≤ batchLimit) when on disk. Valid until the next slab call.
   */
  stageRange(start: number, count: number): number {
    if (!(start >= 0 && count >= 0 && start + count <= this.cap && count <= this.batchLimit)) {
      throw new QuiverError(
        "INVALID_ARGUMENT",
        `range [${start}, ${start + count}) is outside capacity ${this.cap} or batch ${this.batchLimit}`,
      );
    }
    if (!this.rows) return this.vectorsOff + start * this.dim * 4;
    this.rows.read(start * this.dim * 4, new Uint8Array(this.memory.buffer, this.vectorsOff, count * this.dim * 4));
    return this.vectorsOff;
  }

  /** Copies slot's stored (normalised) row to byte offset `at` of this memory (an index's scratch). */
  copyRowTo(slot: number, at: number): void {
    this.checkSlot(slot);
    const bytes = this.dim * 4;
    if (this.rows) this.rows.read(slot * bytes, new Uint8Array(this.memory.buffer, at, bytes));
    else
      new Uint8Array(this.memory.buffer).copyWithin(
        at,
        this.vectorsOff + slot * bytes,
        this.vectorsOff + (slot + 1) * bytes,
      );
  }

  /**
   * Raw scores of slots [start, start + count) against `query`. Returns a view of the scores scratch,
   * valid until the next scoring call or growth; convert with finalScore() for the public score.
   */
  scoreRange(query: ArrayLike<number>, start: number, count: number): Float32Array {
    if (!(start >= 0 && count >= 0 && start + count <= this.cap)) {
      throw new QuiverError("INVALID_ARGUMENT", `range [${start}, ${start + count}) is outside capacity ${this.cap}`);
    }
    this.checkDim(query);
    this.write(this.queryOff, query);
    if (this.rows) {
      // Streamed: one read of the contiguous rows into the staging area, then the same kernel.
      const base = this.stageRange(start, count);
      this.kernels.scoreRange(this.kernelMetric, this.queryOff, base, this.dim, 0, count, this.scoresOff);
    } else {
      this.kernels.scoreRange(
        this.kernelMetric,
        this.queryOff,
        this.vectorsOff,
        this.dim,
        start,
        count,
        this.scoresOff,
      );
    }
    return new Float32Array(this.memory.buffer, this.scoresOff, count);
  }

  /** Raw scores of slots[0..count) against `query` (a view of the scores scratch, like scoreRange). */
  scoreSlots(query: ArrayLike<number>, slots: Uint32Array, count: number = slots.length): Float32Array {
    if (!(count >= 0 && count <= slots.length && count <= this.batchLimit)) {
      throw new QuiverError("INVALID_ARGUMENT", `count ${count} exceeds the slot list or batch ${this.batchLimit}`);
    }
    for (let i = 0; i < count; i++) {
      // An out-of-range slot would read another region (or trap), so it is refused up front.
      if (slots[i] >= this.cap)
        throw new QuiverError("INVALID_ARGUMENT", `slot ${slots[i]} is outside capacity ${this.cap}`);
    }
    this.checkDim(query);
    this.write(this.queryOff, query);
    if (this.rows) {
      this.stageSlots(slots, count);
      this.kernels.scoreRange(this.kernelMetric, this.queryOff, this.vectorsOff, this.dim, 0, count, this.scoresOff);
      return new Float32Array(this.memory.buffer, this.scoresOff, count);
    }
    new Uint32Array(this.memory.buffer, this.slotsOff, count).set(
      count === slots.length ? slots : slots.subarray(0, count),
    );
    this.kernels.scoreSlots(
      this.kernelMetric,
      this.queryOff,
      this.vectorsOff,
      this.dim,
      this.slotsOff,
      count,
      this.scoresOff,
    );
    return new Float32Array(this.memory.buffer, this.scoresOff, count);
  }

  /** Raw kernel score → public score: l2 becomes the negated Euclidean distance; others are unchanged. */
  finalScore(raw: number): number {
    return this.metric === "l2" ? -Math.sqrt(Math.max(0, -raw)) : raw;
  }

  /** Bytes of memory held by this slab (including page 0 and scratch). */
  bytesUsed(): number {
    return this.memory.buffer.byteLength;
  }

  /** Size of the row file (up to the highest slot written), 0 when rows are resident. */
  rowFileBytes(): number {
    return this.rowsEnd;
  }

  /** Closes (and so deletes) the row file, if any; the slab must not be used afterwards. */
  dispose(): void {
    this.rows?.close();
  }

  /** Reads the rows of slots[0..count) into staging rows 0..count-1, one read per run of consecutive slots. */
  private stageSlots(slots: Uint32Array, count: number): void {
    const rows = this.rows!;
    const bytes = this.dim * 4;
    const buf = this.memory.buffer;
    for (let i = 0; i < count; ) {
      const first = slots[i];
      let n = 1;
      while (i + n < count && slots[i + n] === first + n) n++;
      rows.read(first * bytes, new Uint8Array(buf, this.vectorsOff + i * bytes, n * bytes));
      i += n;
    }
  }

  /** Rows the vector region holds: every slot's when resident, the staging area's otherwise. */
  private rowsFor(cap: number): number {
    return this.rows ? this.stageRows : cap;
  }

  private layout(cap: number): void {
    this.cap = cap;
    const rows = this.rowsFor(cap);
    this.slotsOff = this.vectorsOff + align16(rows * this.dim * 4);
    this.scoresOff = this.slotsOff + align16(rows * 4);
  }

  private regionsStart(cap: number): number {
    const rows = this.rowsFor(cap);
    return align64(this.vectorsOff + align16(rows * this.dim * 4) + 2 * align16(rows * 4));
  }

  private regionBytes(): number {
    let n = 0;
    for (const r of this.regions) n += r.bytes;
    return n;
  }

  private endFor(cap: number, regionBytes: number): number {
    return this.regionsStart(cap) + regionBytes;
  }

  /** End of memory for `cap` slots with the declared regions grown to it (see declareSlotBytes). */
  private reservedEnd(cap: number): number {
    let perSlot = 0;
    for (const b of this.slotBytesBy.values()) perSlot += b;
    const grown = perSlot > 0 ? Math.ceil(perSlot * (cap - this.cap)) + REGION_SLACK : 0;
    return this.endFor(cap, this.regionBytes() + grown);
  }

  /** Zeroes mem[from, to), skipping the part that was never written (see touchedEnd). */
  private zero(mem: Uint8Array, from: number, to: number): void {
    const end = Math.min(to, this.touchedEnd);
    if (end > from) mem.fill(0, from, end);
  }

  /** Records that everything up to the end of the last region may now hold written bytes. */
  private markTouched(): void {
    this.touchedEnd = Math.max(this.touchedEnd, this.endFor(this.cap, this.regionBytes()));
  }

  /** Moves the regions after index i by delta bytes (memmove order chosen so no source is overwritten). */
  private shiftAfter(i: number, delta: number, mem: Uint8Array): void {
    const move = (r: MutableRegion): void => {
      mem.copyWithin(r.offset + delta, r.offset, r.offset + r.bytes);
      r.offset += delta;
    };
    if (delta > 0) for (let j = this.regions.length - 1; j > i; j--) move(this.regions[j]);
    else for (let j = i + 1; j < this.regions.length; j++) move(this.regions[j]);
  }

  /**
   * The one place this memory grows (see the header): past 4 GiB, refused by the hook, or refused by
   * the host, it throws RESOURCE_EXHAUSTED saying which slab, what for and how many bytes it needed.
   */
  private growMemory(end: number, what: string): void {
    const needPages = Math.ceil(end / PAGE);
    const have = this.memory.buffer.byteLength;
    if (needPages <= have / PAGE) return;
    const need = needPages * PAGE;
    const refused = (why: string, cause?: unknown): QuiverError =>
      new QuiverError(
        "RESOURCE_EXHAUSTED",
        `${this.label}: ${what} need ${need} bytes of WebAssembly memory (it has ${have}); ${why}`,
        cause === undefined ? undefined : { cause },
      );
    if (needPages > MAX_PAGES) throw refused("one vector's memory holds at most 4 GiB (see docs/vectors.md)");
    if (this.growHook && !this.growHook(need, have, this.label)) throw refused("the memory limit refused it");
    try {
      this.memory.grow(needPages - have / PAGE);
    } catch (cause) {
      throw refused("the runtime could not grow the memory", cause);
    }
  }

  private view(): Float32Array {
    if (this.memory.buffer !== this.buffer) {
      this.buffer = this.memory.buffer;
      this.f32 = new Float32Array(this.buffer);
    }
    return this.f32;
  }

  /** Writes `vec` as f32 at byte offset `at`, normalising it first for cosine. */
  private write(at: number, vec: ArrayLike<number>): void {
    this.normalise(vec, this.view(), at >>> 2);
  }

  /** f[base..base+dim) = vec, L2-normalised for cosine. */
  private normalise(vec: ArrayLike<number>, f: Float32Array, base: number): void {
    const dim = this.dim;
    if (this.metric !== "cosine" && vec instanceof Float32Array) {
      f.set(vec, base); // a block copy: how segments load their contiguous rows
      return;
    }
    let scale = 1;
    if (this.metric === "cosine") {
      let norm = 0;
      for (let i = 0; i < dim; i++) norm += vec[i] * vec[i];
      // Summed in f64 so that large or tiny components do not overflow or lose the norm.
      scale = norm > 0 ? 1 / Math.sqrt(norm) : 1;
    }
    for (let i = 0; i < dim; i++) f[base + i] = vec[i] * scale;
  }

  private checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.cap) {
      throw new QuiverError("INVALID_ARGUMENT", `slot ${slot} is outside capacity ${this.cap}`);
    }
  }

  private checkDim(vec: ArrayLike<number>): void {
    if (vec.length !== this.dim) {
      throw new QuiverError("DIMENSION_MISMATCH", `expected a vector of ${this.dim} numbers, got ${vec.length}`);
    }
  }
}
