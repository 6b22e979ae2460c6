/**
 * The sample from which z-score fusion estimates a vector source's score distribution (its mean
 * and deviation over the collection), chosen by record id so that it is the same records whether
 * the collection is on one node or split over shards. A record's level is the number of trailing
 * zero bits of a hash of its id (half the records have level 0, a quarter level 1, ...); the
 * sample is every live record of level L or more, for the smallest L that keeps it within SAMPLE
 * records (every record of a small collection). Each shard reports, for every level from its own
 * L up, the count, sum and sum of squares of the scores (LevelStats): summed over the shards they
 * pick the L one node would pick (no shard's own L can be above it) and give the same statistics.
 */
import { flatSearch } from "../core/index/flat/flat-search.js";
import type { SparseVector } from "../core/index/sparse/sparse-vector.js";
import type { Deadline } from "../core/util/deadline.js";
import type { CollectionState } from "./collection-state.js";

export const SAMPLE = 1024;

/** Per level `from + i`: count, sum and sum of squares of the scores of live records of that level or more. */
export interface LevelStats {
  from: number;
  n: number[];
  sum: number[];
  sumSq: number[];
}

/** Level of an id: trailing zeros of an FNV-1a hash with a seed of its own (unrelated to the shard hash). */
function levelOf(id: string): number {
  let h = 0x9e3779b9;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h === 0 ? 32 : 31 - Math.clz32(h & -h);
}

/** Slots ordered by level, highest first (`order`), and where each level's block ends (`end[l]`). */
interface Levels {
  version: number;
  ids: (string | undefined)[];
  level: Uint8Array;
  order: Uint32Array;
  end: Int32Array;
}
const cache = new WeakMap<CollectionState, Levels>();

function levels(state: CollectionState): Levels {
  let c = cache.get(state);
  if (c?.version === state.version) return c;
  const n = state.highWater;
  const level = new Uint8Array(n);
  // Only slots whose id changed since the last call are hashed again.
  for (let s = 0; s < n; s++) {
    const id = state.slotIds[s];
    level[s] = id === undefined ? 0 : c && c.ids[s] === id ? c.level[s] : levelOf(id);
  }
  const counts = new Int32Array(34);
  for (let s = 0; s < n; s++) counts[32 - level[s] + 1]++;
  for (let i = 1; i < 34; i++) counts[i] += counts[i - 1];
  const end = Int32Array.from({ length: 33 }, (_, l) => counts[32 - l + 1]);
  const order = new Uint32Array(n);
  for (let s = 0; s < n; s++) order[counts[32 - level[s]]++] = s;
  c = { version: state.version, ids: state.slotIds.slice(0, n), level, order, end };
  cache.set(state, c);
  return c;
}

/** This collection's LevelStats of `score` over its live slots (`live(slot)`), scoring at most about SAMPLE of them. */
export function levelStats(
  state: CollectionState,
  live: (slot: number) => boolean,
  score: (slots: Uint32Array) => { slots: ArrayLike<number>; scores: ArrayLike<number> },
): LevelStats {
  const { order, end, level } = levels(state);
  const picked: number[] = [];
  let from = 0;
  for (let l = 32, i = 0; l >= 0 && from === 0; l--) {
    for (; i < end[l]; i++) {
      if (!live(order[i])) continue;
      if (picked.length === SAMPLE) {
        from = l + 1;
        break;
      }
      picked.push(order[i]);
    }
  }
  const size = 33 - from;
  const out: LevelStats = {
    from,
    n: new Array(size).fill(0),
    sum: new Array(size).fill(0),
    sumSq: new Array(size).fill(0),
  };
  const { slots, scores } = score(Uint32Array.from(picked.filter((s) => level[s] >= from)));
  // Each level's sums are its own, then plus every higher level's.
  for (let i = 0; i < slots.length; i++) {
    const at = level[slots[i]] - from;
    out.n[at]++;
    out.sum[at] += scores[i];
    out.sumSq[at] += scores[i] * scores[i];
  }
  for (let at = size - 2; at >= 0; at--) {
    out.n[at] += out.n[at + 1];
    out.sum[at] += out.sum[at + 1];
    out.sumSq[at] += out.sumSq[at + 1];
  }
  return out;
}

/** Mean and deviation of the sample of shards' LevelStats summed (one shard: its own). */
export function sampleMoments(parts: readonly LevelStats[]): { mean: number; std: number } {
  const from = Math.max(0, ...parts.map((p) => p.from));
  for (let l = from; l <= 32; l++) {
    let n = 0;
    let sum = 0;
    let sumSq = 0;
    for (const p of parts) {
      n += p.n[l - p.from];
      sum += p.sum[l - p.from];
      sumSq += p.sumSq[l - p.from];
    }
    if (n > SAMPLE && l < 32) continue;
    if (n === 0) return { mean: 0, std: 1 };
    const mean = sum / n;
    return { mean, std: Math.sqrt(Math.max(0, sumSq / n - mean * mean)) };
  }
  return { mean: 0, std: 1 };
}

/** The vector's LevelStats for a query (sample-stats.ts): a shard's part of z-score fusion's statistics. */
export function vectorLevels(
  state: CollectionState,
  name: string,
  query: Float32Array,
  deadline?: Deadline,
): LevelStats {
  const named = state.vectors.get(name)!;
  return levelStats(
    state,
    (s) => named.live[s] === 1,
    (candidates) =>
      flatSearch(named.slab, query, candidates.length, {
        count: state.highWater,
        live: named.live,
        candidates,
        deadline,
      }),
  );
}

/** The sparse vector's LevelStats for a query (zeros included). */
export function sparseLevels(state: CollectionState, name: string, query: SparseVector): LevelStats {
  const index = state.sparse.get(name)!;
  return levelStats(
    state,
    (s) => index.get(s) !== undefined,
    (slots) => ({ slots, scores: Array.from(slots, (s) => index.score(s, query) as number) }),
  );
}
