// Exact (brute-force) k-nearest search over a vector slab: the oracle for approximate indexes and the
// plan of choice when a filter leaves few candidates. Scans with the slab's kernels in bounded chunks.

import { QuiverError } from "../../errors/errors.js";
import type { Deadline } from "../../util/deadline.js";
import type { VectorSlab } from "../../vectors/slab.js";
import { TopK } from "./topk.js";

export interface FlatSearchOptions {
  /** Slots [0, count) exist in the slab. */
  count: number;
  /** live[slot] = 1 when the slot holds a live vector; others are skipped. */
  live: Uint8Array;
  /** Restricts the search to these slots (already filtered); non-live or out-of-range ones are skipped. */
  candidates?: Uint32Array;
  /** Checked between chunks: a scan that runs out of time stops with TIMEOUT. */
  deadline?: Deadline;
}

export interface FlatSearchResult {
  slots: number[];
  /** Public scores (higher = closer), best first. */
  scores: number[];
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
  if (k === 0 || count <= 0) return top.drain();
  // Rows on disk are streamed through a staging area of batchLimit rows; resident, it is the capacity.
  const chunk = Math.min(CHUNK, slab.batchLimit);

  if (opts.candidates === undefined) {
    for (let start = 0; start < count; start += chunk) {
      opts.deadline?.check();
      const n = Math.min(chunk, count - start);
      const scores = slab.scoreRange(query, start, n);
      // Reading the threshold once per slot avoids a call for the vast majority that cannot enter.
      let threshold = top.threshold;
      for (let i = 0; i < n; i++) {
        const s = scores[i];
        if (s >= threshold && live[start + i] === 1 && top.push(s, start + i)) threshold = top.threshold;
      }
    }
  } else {
    const cands = compactCandidates(opts.candidates, count, live);
    for (let start = 0; start < cands.length; start += chunk) {
      opts.deadline?.check();
      const part = cands.subarray(start, Math.min(start + chunk, cands.length));
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
  return result;
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
