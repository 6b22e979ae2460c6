// Micro-benchmark probes for `npm run bench -- hnsw-profile --part micro`: the HNSW module's own inlined
// loops (int8 code dot, f32 dot, epoch visited tags, the pair heap) run over a list of slots in the
// slab's memory, so their cost per call can be timed apart from the graph walk. Compiled by the bench.

import { dotImpl } from "../../src/core/kernels/assembly/distance";
import { dotI8 } from "../../src/core/kernels/assembly/hnsw/quant";
import { heapPush, heapPop } from "../../src/core/kernels/assembly/hnsw/heap";

/** Σ over the slots of the int8 score as the search computes it (correction + factor · code dot). */
export function i8Scores(q: usize, nodes: usize, stride: usize, codeOff: usize, corrOff: usize, codeRead: i32,
  slots: usize, n: i32, reps: i32): f32 {
  let acc: f32 = 0;
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < n; i++) {
      const node = nodes + <usize>load<u32>(slots + (<usize>i << 2)) * stride;
      acc += load<f32>(node + corrOff) + 0.001 * <f32>dotI8(q, node + codeOff, codeRead);
    }
  }
  return acc;
}

/** Σ over the slots of the f32 dot product with the query (the re-ranking and f32-traversal distance). */
export function f32Scores(q: usize, vecs: usize, dim: i32, slots: usize, n: i32, reps: i32): f32 {
  let acc: f32 = 0;
  const vstride = <usize>dim << 2;
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < n; i++) acc += dotImpl(q, vecs + <usize>load<u32>(slots + (<usize>i << 2)) * vstride, dim);
  }
  return acc;
}

/** The epoch test-and-set of every slot, a new epoch per repetition (u8 tags, as state.ts). */
export function visitTags(tags: usize, slots: usize, n: i32, reps: i32): i32 {
  let hits = 0;
  for (let r = 0; r < reps; r++) {
    const epoch = <u8>(r + 1);
    for (let i = 0; i < n; i++) {
      const p = tags + <usize>load<u32>(slots + (<usize>i << 2));
      if (load<u8>(p) == epoch) hits++;
      else store<u8>(p, epoch);
    }
  }
  return hits;
}

/** n pushes of pseudo-random scores onto a pair heap at base, then n pops. */
export function heapCycle(base: usize, n: i32, reps: i32): i32 {
  let seed: u32 = 12345;
  let left = 0;
  for (let r = 0; r < reps; r++) {
    let k = 0;
    for (let i = 0; i < n; i++) {
      seed = seed * 1664525 + 1013904223;
      k = heapPush(base, k, <f32>(seed >> 8) / 16777216.0, <u32>i);
    }
    while (k > 0) k = heapPop(base, k);
    left += k;
  }
  return left;
}
