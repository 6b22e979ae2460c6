// Exact (brute-force) k-nearest search over a vector slab: the oracle for approximate indexes and the
// plan of choice when a filter leaves few candidates. Scans with the slab's kernels in bounded chunks.

import { QuiverError } from "../../errors/errors.js";
import { DEADLINE_STRIDE, type Deadline } from "../../util/deadline.js";
import type { SlotBitmap } from "../slot-bitmap.js";
import type { VectorSlab } from "../../vectors/slab.js";
import { TopK } from "./topk.js";

export interface FlatSearchOptions {
  /** Slots [0, count) exist in the slab. */
  count: number;
  /** live[slot] = 1 when the slot holds a live vector; others are skipped. */
  live: Uint8Array;
  /** Restricts the search to these slots (already filtered); non-live or out-of-range ones are skipped. */
  candidates?: Uint32Array;
  /** Restricts the search to the slots set in this bitmap (a filter's match set), read in place. */
  allowed?: SlotBitmap;
  /**
   * Restricts the search to the live slots this predicate accepts, tested in one pass over [0, count)
   * as the scan goes: no list of matches is built, only the top k are kept.
   */
  accept?: (slot: number) => boolean;
  /** Checked between chunks: a scan that runs out of time stops with TIMEOUT. */
  deadline?: Deadline;
}

export interface FlatSearchResult {
  slots: number[];
  /** Public scores (higher = closer), best first. */
  scores: number[];
  /** Live slots scored: the filter's matches when one was given. */
  scored: number;
}

/** Slots scored per kernel call: large enough to amortise the call, small enough to keep scratch in cache. */
const CHUNK = 16384;

/**
 * The k live slots closest to `query`, best first; ties go to the lower slot.
 *
 * @example
 * const { slots, scores } = flatSearch(slab, q, 10, { count: n, live });
 */
export function flatSearch(
  slab: VectorSlab,
  query: Float32Array,
  k: number,
  opts: FlatSearchOptions,
): FlatSearchResult {
  if (!Number.isInteger(k) || k < 0)
    throw new QuiverError("INVALID_ARGUMENT", `k must be a non-negative integer, got ${k}`);
  const count = Math.min(opts.count, slab.capacity);
  const live = opts.live;
  const top = new TopK(k);
  if (k === 0 || count <= 0) return { ...top.drain(), scored: 0 };
  // Rows on disk are streamed through a staging area of batchLimit rows; resident, it is the capacity.
  const chunk = Math.min(CHUNK, slab.batchLimit);
  let scored = 0;

  if (opts.candidates === undefined && opts.allowed === undefined && opts.accept === undefined) {
    for (let start = 0; start < count; start += chunk) {
      opts.deadline?.check();
      const n = Math.min(chunk, count - start);
      const scores = slab.scoreRange(query, start, n);
      // Reading the threshold once per slot avoids a call for the vast majority that cannot enter.
      let threshold = top.threshold;
      for (let i = 0; i < n; i++) {
        const s = scores[i];
        if (live[start + i] !== 1) continue;
        scored++;
        if (s >= threshold && top.push(s, start + i)) threshold = top.threshold;
      }
    }
  } else {
    const next = candidateChunks(opts, count, chunk);
    for (let part = next(); part.length > 0; part = next()) {
      opts.deadline?.check();
      scored += part.length;
      const scores = slab.scoreSlots(query, part, part.length);
      let threshold = top.threshold;
      for (let i = 0; i < part.length; i++) {
        const s = scores[i];
        if (s >= threshold && top.push(s, part[i])) threshold = top.threshold;
      }
    }
  }

  const result = top.drain();
  for (let i = 0; i < result.scores.length; i++) result.scores[i] = slab.finalScore(result.scores[i]);
  return { ...result, scored };
}

/**
 * The live, in-range slots of the restriction, handed out a chunk at a time (empty when done): a list
 * is compacted once, a bitmap is walked byte by byte and a predicate slot by slot into one reused
 * buffer, so neither is ever turned into a full list.
 */
function candidateChunks(opts: FlatSearchOptions, count: number, chunk: number): () => Uint32Array {
  const live = opts.live;
  if (opts.candidates !== undefined) {
    const cands = compactCandidates(opts.candidates, count, live);
    let start = 0;
    return () => {
      const part = cands.subarray(start, Math.min(start + chunk, cands.length));
      start += part.length;
      return part;
    };
  }
  const buf = new Uint32Array(chunk);
  if (opts.allowed !== undefined) {
    const bits = opts.allowed;
    const bytes = Math.min(bits.length, Math.ceil(count / 8));
    let b = 0;
    let pending = bytes > 0 ? bits[0] : 0;
    return () => {
      let n = 0;
      while (b < bytes && n < chunk) {
        // A sparse set is mostly zero bytes: eight slots skipped per test.
        while (pending !== 0 && n < chunk) {
          const s = (b << 3) | (31 - Math.clz32(pending & -pending));
          pending &= pending - 1;
          if (s < count && live[s] === 1) buf[n++] = s;
        }
        if (pending === 0 && ++b < bytes) pending = bits[b];
      }
      return buf.subarray(0, n);
    };
  }
  const accept = opts.accept!;
  let s = 0;
  return () => {
    let n = 0;
    for (; s < count && n < chunk; s++) {
      // A selective predicate can test the whole collection before the chunk fills (DEADLINE_STRIDE is a power of 2).
      if ((s & (DEADLINE_STRIDE - 1)) === 0) opts.deadline?.check();
      if (live[s] === 1 && accept(s)) buf[n++] = s;
    }
    return buf.subarray(0, n);
  };
}

/** Drops out-of-range and non-live candidates before scoring, so the kernels never see them. */
function compactCandidates(candidates: Uint32Array, count: number, live: Uint8Array): Uint32Array {
  let n = 0;
  for (let i = 0; i < candidates.length; i++) {
    const s = candidates[i];
    if (s < count && live[s] === 1) n++;
  }
  if (n === candidates.length) return candidates;
  const out = new Uint32Array(n);
  n = 0;
  for (let i = 0; i < candidates.length; i++) {
    const s = candidates[i];
    if (s < count && live[s] === 1) out[n++] = s;
  }
  return out;
}
