/**
 * The sample from which z-score fusion estimates a vector source's score distribution (its mean
 * and deviation over the collection), chosen by record id so that it is the same records whether
 * the collection is on one node or split over shards. A record's level is the number of trailing
 * zero bits of a hash of its id (half the records have level 0, a quarter level 1, ...); the
 * sample is every record of level L or more (that has the source's vector), for the smallest L
 * that keeps those records within SAMPLE (every record of a small collection). A shard of a cluster reports its sample's sums per
 * level (fusion-parts.ts, LevelStats); summed over the shards they pick the L one node would pick
 * (no shard's own L can be above it) and give the same statistics.
 */
import type { CollectionState } from "./collection-state.js";

export const SAMPLE = 1024;

/** Level of an id: trailing zeros of an FNV-1a hash with a seed of its own (unrelated to the shard hash). */
export function levelOf(id: string): number {
  let h = 0x9e3779b9;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h === 0 ? 32 : 31 - Math.clz32(h & -h);
}

/** Slots ordered by level, highest first, free slots last (`order`); `end[l]`: records of level l or more. */
interface Levels {
  version: number;
  ids: (string | undefined)[];
  level: Uint8Array;
  order: Uint32Array;
  end: Int32Array;
}
const cache = new WeakMap<CollectionState, Levels>();

export function levels(state: CollectionState): Levels {
  let c = cache.get(state);
  if (c?.version === state.version) return c;
  const n = state.highWater;
  const ids = state.slotIds.slice(0, n);
  // Bucket 32 - level, free slots in bucket 33; only slots whose id changed are hashed again.
  const bucket = ids.map((id, s) => (id === undefined ? 33 : c?.ids[s] === id ? c.level[s] : 32 - levelOf(id)));
  const start = new Int32Array(35);
  for (const b of bucket) start[b + 1]++;
  for (let i = 1; i < 35; i++) start[i] += start[i - 1];
  const end = Int32Array.from({ length: 33 }, (_, l) => start[33 - l]);
  const order = new Uint32Array(n);
  bucket.forEach((b, s) => {
    order[start[b]++] = s;
  });
  c = { version: state.version, ids, level: Uint8Array.from(bucket), order, end };
  cache.set(state, c);
  return c;
}

/**
 * The sample: the live slots (`live(slot)`) among the records of level `from` or more, for the
 * smallest `from` that keeps those records within SAMPLE.
 */
export function sampled(state: CollectionState, live: (slot: number) => boolean): { from: number; slots: Uint32Array } {
  const { order, end } = levels(state);
  let from = 0;
  while (end[from] > SAMPLE) from++;
  return { from, slots: order.subarray(0, end[from]).filter(live) };
}

/** Mean and standard deviation of scores (0 and 1 when there are none). */
export function moments(scores: ArrayLike<number>): { mean: number; std: number } {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < scores.length; i++) {
    sum += scores[i];
    sumSq += scores[i] * scores[i];
  }
  const mean = sum / scores.length;
  return scores.length
    ? { mean, std: Math.sqrt(Math.max(0, sumSq / scores.length - mean * mean)) }
    : { mean: 0, std: 1 };
}
