// The HNSW module's view of one index: the header fields (declared in src/core/kernels/boundary.json) cached in
// globals by bind(), plus the small accessors every hot loop uses (links of a node, visited tags, filter bits).

import {
  H_DIM, H_METRIC, H_M, H_M0, H_CAP, H_VEC, H_NODES, H_STRIDE, H_CODEOFF, H_QUANT, H_CODEBYTES, H_FLAGS,
  H_LEVELS, H_UPIDX, H_POOL, H_UPSTRIDE, H_VISITED, H_EPOCH, H_CAND, H_RES, H_WORK, H_QUERY, H_QCODES, H_BITMAP,
  H_SEL, H_SCALE, H_OFFSET, H_DISK, H_PAD, H_LINKSOFF, H_CORROFF, H_LOCKS, H_GLOCK, METRIC_L2, QUANT_BINARY,
  L_VISITED, L_EPOCH, L_CAND, L_RES, L_WORK, L_QUERY, L_QCODES, L_BITMAP, L_SEL, L_PAD,
} from "../boundary.generated";

/** Distance modes: f32 on the slab's vectors, or one of the quantized codes stored in the node records. */
export const MODE_F32_DOT = 0;
export const MODE_F32_L2 = 1;
export const MODE_I8 = 2;
export const MODE_BIN = 3;

export let gHdr: usize = 0;
export let gDim: i32 = 0;
export let gVecStride: usize = 0;
export let gMetric: i32 = 0;
export let gM: i32 = 0;
export let gM0: i32 = 0;
export let gVec: usize = 0;
export let gNodes: usize = 0;
export let gStride: usize = 0;
export let gCodeOff: usize = 0;
export let gCorrOff: usize = 0;
/** Offset of the level-0 list inside a node record. */
export let gLinksOff: usize = 0;
export let gCodeBytes: i32 = 0;
/** Bytes the code loops read: gCodeBytes rounded up to whole 16-byte blocks. */
export let gCodeRead: i32 = 0;
export let gFlags: usize = 0;
export let gLevels: usize = 0;
export let gUpIdx: usize = 0;
export let gPool: usize = 0;
export let gUpStride: usize = 0;
export let gVisited: usize = 0;
export let gEpoch: u32 = 0;
export let gCand: usize = 0;
export let gRes: usize = 0;
export let gWork: usize = 0;
export let gQuery: usize = 0;
export let gQcodes: usize = 0;
export let gBitmap: usize = 0;
export let gSel: usize = 0;
export let gScale: f32 = 0;
/** The factor of the code product in a quantized score (see quant.ts). */
export let gFactor: f32 = 0;
export let gOffset: f32 = 0;
export let gMode: i32 = 0;
export let gDisk: bool = false;
export let gPad: usize = 0;

@inline
export function hdrI(i: i32): i32 {
  return load<i32>(gHdr + (<usize>i << 2));
}

@inline
export function setHdrI(i: i32, v: i32): void {
  store<i32>(gHdr + (<usize>i << 2), v);
}

/** Caches the header in globals; every exported entry point calls it first (regions may have moved). */
export function bind(hdr: usize): void {
  gHdr = hdr;
  gDim = hdrI(H_DIM);
  gVecStride = <usize>gDim << 2;
  gMetric = hdrI(H_METRIC);
  gM = hdrI(H_M);
  gM0 = hdrI(H_M0);
  gVec = <usize>hdrI(H_VEC);
  gNodes = <usize>hdrI(H_NODES);
  gStride = <usize>hdrI(H_STRIDE);
  gCodeOff = <usize>hdrI(H_CODEOFF);
  gCorrOff = <usize>hdrI(H_CORROFF);
  gLinksOff = <usize>hdrI(H_LINKSOFF);
  gCodeBytes = hdrI(H_CODEBYTES);
  gCodeRead = (gCodeBytes + 15) & ~15;
  gFlags = <usize>hdrI(H_FLAGS);
  gLevels = <usize>hdrI(H_LEVELS);
  gUpIdx = <usize>hdrI(H_UPIDX);
  gPool = <usize>hdrI(H_POOL);
  gUpStride = <usize>hdrI(H_UPSTRIDE);
  gVisited = <usize>hdrI(H_VISITED);
  gEpoch = <u32>hdrI(H_EPOCH);
  gCand = <usize>hdrI(H_CAND);
  gRes = <usize>hdrI(H_RES);
  gWork = <usize>hdrI(H_WORK);
  gQuery = <usize>hdrI(H_QUERY);
  gQcodes = <usize>hdrI(H_QCODES);
  gBitmap = <usize>hdrI(H_BITMAP);
  gSel = <usize>hdrI(H_SEL);
  gScale = load<f32>(hdr + (<usize>H_SCALE << 2));
  gFactor = hdrI(H_QUANT) == QUANT_BINARY ? 2 : (gMetric == METRIC_L2 ? 2 : 1) * gScale * gScale;
  gOffset = load<f32>(hdr + (<usize>H_OFFSET << 2));
  gDisk = hdrI(H_DISK) != 0;
  gPad = <usize>hdrI(H_PAD);
}

/**
 * bind() for the entries that score stored nodes against each other (insert, repair): with originals on
 * disk they copy codes to the pad, whose tail must be zero; the scratch it lives in moves and is reused,
 * so it is cleared per call. Searches never use it (and a lane search must not write the shared header).
 */
export function bindWriter(hdr: usize): void {
  bind(hdr);
  clearPadTail();
}

/** Zeroes the pad past one node's codes (originals on disk: pairCodes reads whole 16-byte blocks there). */
export function clearPadTail(): void {
  if (gDisk) memory.fill(gPad + <usize>gCodeBytes, 0, <usize>(gCodeRead - gCodeBytes));
}

/** Writes back what the module changed in globals. */
export function unbind(): void {
  setHdrI(H_EPOCH, <i32>gEpoch);
}

@inline
function laneI(lane: usize, i: i32): i32 {
  return load<i32>(lane + (<usize>i << 2));
}

/**
 * Points the search scratch at a lane instead of the header's (see hnswLane in boundary.json): a reader
 * thread then writes only its lane, and reads the header and the graph, which no writer changes while
 * it searches (the database's read gate).
 */
export function bindLane(lane: usize): void {
  gVisited = <usize>laneI(lane, L_VISITED);
  gEpoch = <u32>laneI(lane, L_EPOCH);
  gCand = <usize>laneI(lane, L_CAND);
  gRes = <usize>laneI(lane, L_RES);
  gWork = <usize>laneI(lane, L_WORK);
  gQuery = <usize>laneI(lane, L_QUERY);
  gQcodes = <usize>laneI(lane, L_QCODES);
  gBitmap = <usize>laneI(lane, L_BITMAP);
  gSel = <usize>laneI(lane, L_SEL);
  gPad = <usize>laneI(lane, L_PAD);
}

/** The lane's unbind(): its epoch, written back to the lane. */
export function unbindLane(lane: usize): void {
  store<i32>(lane + (<usize>L_EPOCH << 2), <i32>gEpoch);
}

// ---- locks of a parallel build (link() from several threads; only the threads build has atomics) ----

/** Set by link() for its call: lists are then written under their slot's lock. */
export let gLocking: bool = false;
/** Offset of the per-slot locks (i32 each, H_LOCKS), read by link(). */
export let gLocks: usize = 0;

export function setLocking(on: bool): void {
  gLocking = on;
  gLocks = <usize>hdrI(H_LOCKS);
}

/**
 * Futex-style locks (Drepper's "Futexes are tricky", mutex 2): 0 free, 1 held, 2 held with waiters. A
 * short spin first, since a list is held for one re-selection (tens of distances); then the thread
 * sleeps in atomic.wait, so that a holder the OS preempted (more threads than cores, a loaded machine)
 * is not spun against for a whole time slice. Blocking is allowed where link() runs: worker threads
 * and Node's main thread. Without the threads feature (the module over an ordinary memory, which no
 * other thread can share) they compile to nothing.
 */
@inline
function acquire(p: usize): void {
  if (ASC_FEATURE_THREADS) {
    let c = atomic.cmpxchg<i32>(p, 0, 1);
    for (let i = 0; c != 0 && i < 100; i++) c = atomic.cmpxchg<i32>(p, 0, 1);
    if (c == 0) return;
    if (c != 2) c = atomic.xchg<i32>(p, 2);
    while (c != 0) {
      atomic.wait<i32>(p, 2, -1);
      c = atomic.xchg<i32>(p, 2);
    }
  }
}

@inline
function release(p: usize): void {
  if (ASC_FEATURE_THREADS) {
    if (atomic.xchg<i32>(p, 0) == 2) atomic.notify(p, 1);
  }
}

/** Takes slot's link-list lock (an i32 of the H_LOCKS region) when building in parallel. */
@inline
export function lockNode(slot: u32): void {
  if (gLocking) acquire(gLocks + (<usize>slot << 2));
}

@inline
export function unlockNode(slot: u32): void {
  if (gLocking) release(gLocks + (<usize>slot << 2));
}

/** Takes the lock of the entry point and top level (the header's GLOCK word). */
@inline
export function lockEntry(): void {
  if (gLocking) acquire(gHdr + (<usize>H_GLOCK << 2));
}

@inline
export function unlockEntry(): void {
  if (gLocking) release(gHdr + (<usize>H_GLOCK << 2));
}

/**
 * Publishes a list's count after its slots were written: readers in other threads follow links
 * without locks, so they must never see a count whose slots are not there yet.
 */
@inline
export function storeCount(list: usize, n: u32): void {
  if (ASC_FEATURE_THREADS) atomic.store<u32>(list, n);
  else store<u32>(list, n);
}

export function setMode(mode: i32): void {
  gMode = mode;
}

/** Links of `slot` at `layer`: a u32 count followed by the neighbour slots. */
@inline
export function linksAt(slot: u32, layer: i32): usize {
  if (layer == 0) return gNodes + <usize>slot * gStride + gLinksOff;
  return gPool + (<usize>load<u32>(gUpIdx + (<usize>slot << 2)) - 1 + <usize>(layer - 1)) * gUpStride;
}

@inline
export function nodeAt(slot: u32): usize {
  return gNodes + <usize>slot * gStride;
}

@inline
export function vecAt(slot: u32): usize {
  return gVec + <usize>slot * gVecStride;
}

@inline
export function flagOf(slot: u32): u8 {
  return load<u8>(gFlags + <usize>slot);
}

@inline
export function levelOf(slot: u32): i32 {
  return <i32>load<u8>(gLevels + <usize>slot);
}

/**
 * Visited tags are u8 epochs: a new search bumps the epoch instead of clearing the array, which is
 * cleared once every 255 searches. u8 rather than u16 halves the array (100 KB for 100k slots), so more
 * of it stays in cache: measured +6% queries per second on GloVe 100k at ef 64.
 */
export function newEpoch(): void {
  gEpoch++;
  if (gEpoch > 0xff) {
    memory.fill(gVisited, 0, <usize>hdrI(H_CAP));
    gEpoch = 1;
  }
}

/** Marks `slot` visited; returns true when it already was. */
@inline
export function testAndVisit(slot: u32): bool {
  const p = gVisited + <usize>slot;
  if (<u32>load<u8>(p) == gEpoch) return true;
  store<u8>(p, <u8>gEpoch);
  return false;
}

@inline
export function bitOf(slot: u32): bool {
  return (load<u8>(gBitmap + <usize>(slot >> 3)) & (<u8>1 << <u8>(slot & 7))) != 0;
}
