/**
 * The index of one named sparse vector: every record's vector by slot (the forward store, for
 * reads, re-scoring and fusion) and an inverted index, sparse index -> postings (document, weight).
 * Search is by dot product and exact: MaxScore (Turtle & Flood 1995), term-at-a-time, stops
 * reading lists once the ones left cannot lift an unseen document into the top k (`maxScore`);
 * `scan` is the plain exhaustive term-at-a-time scan, which `search` picks for queries whose lists
 * are short, and which MaxScore is measured (bench/sparse.ts) and checked (test/sparse) against.
 *
 * Documents get numbers (`doc`) never reused while postings may mention them, as in the text
 * index's FieldIndex: a slot is reused after a delete and must not inherit the old postings. A
 * delete marks the document dead (`slotOf[doc] = -1`); a list is compacted once half of it is
 * dead, and numbers are reassigned once dead documents outnumber live ones (amortised O(1) per
 * posting). A list's bounds (largest and smallest weight) cover its dead entries too: still
 * bounds, just looser, until the list is compacted.
 *
 * Scores are computed in float64 in ascending index order, the order of `sparseDot` (the scan
 * adds the lists in that order too), so the pruned search, the scan and a brute force return the
 * very same numbers.
 */
import { QuiverError } from "../../errors/errors.js";
import type { Deadline } from "../../util/deadline.js";
import { TopK } from "../flat/topk.js";
import { hasSlot, type SlotBitmap } from "../slot-bitmap.js";
import { sparseDot, type SparseVector } from "./sparse-vector.js";
import { keepPostings } from "../postings.js";

interface Postings {
  docs: Uint32Array;
  values: Float32Array;
  length: number;
  /** Entries whose document is dead. */
  dead: number;
  /** Largest and smallest weight in the list (upper bounds of q·w for q > 0 and q < 0). */
  max: number;
  min: number;
}

export interface SparseSearchOptions {
  /** The slots that may be returned (a filter), or every live one. */
  accept?: SlotBitmap;
  /** Checked before each list is read. */
  deadline?: Deadline;
}

export interface SparseSearchResult {
  slots: number[];
  scores: number[];
  /** Postings in the query's lists (what an exhaustive scan reads). */
  postings: number;
  /** Postings read (MaxScore skips the lists that cannot change the top k). */
  read: number;
  /** Documents scored in full from the forward store (the scan: documents accumulated). */
  scored: number;
}

/**
 * Queries whose lists hold at most this many postings are scanned exhaustively: on the IR
 * collections (up to ~15,000 postings per query) the scan was 1.6 to 2.2x MaxScore (bench/RESULTS.md).
 */
export const SCAN_BELOW = 32_768;

export class SparseIndex {
  private readonly lists = new Map<number, Postings>();
  /** rows[slot] = the vector of the record at `slot`, if it has one. */
  private rows: (SparseVector | undefined)[] = [];
  private slotOf: Int32Array = new Int32Array(64).fill(-1);
  private docOf: Int32Array = new Int32Array(64).fill(-1);
  private nextDoc = 0;
  /** Live records with this vector, and the postings they hold. */
  count = 0;
  postingCount = 0;
  // The scan's accumulator, reused across searches: stamp[slot] === epoch marks a touched slot.
  private acc = new Float64Array(0);
  private stamp = new Uint32Array(0);
  private epoch = 0;

  get(slot: number): SparseVector | undefined {
    return this.rows[slot];
  }

  /** Indexes `v` for `slot`, which must hold no vector. */
  add(slot: number, v: SparseVector): void {
    if (this.rows[slot]) throw new QuiverError("INTERNAL", `sparse slot ${slot} is taken`);
    if (slot >= this.docOf.length) this.docOf = grow(this.docOf, slot + 1);
    if (this.nextDoc >= this.slotOf.length) this.slotOf = grow(this.slotOf, this.nextDoc + 1);
    const doc = this.nextDoc++;
    for (let i = 0; i < v.indices.length; i++) {
      let p = this.lists.get(v.indices[i]);
      if (!p) {
        p = {
          docs: new Uint32Array(4),
          values: new Float32Array(4),
          length: 0,
          dead: 0,
          max: -Infinity,
          min: Infinity,
        };
        this.lists.set(v.indices[i], p);
      }
      if (p.length === p.docs.length) {
        const docs = new Uint32Array(p.length * 2);
        docs.set(p.docs);
        const values = new Float32Array(p.length * 2);
        values.set(p.values);
        p.docs = docs;
        p.values = values;
      }
      const w = v.values[i];
      p.docs[p.length] = doc;
      p.values[p.length++] = w;
      if (w > p.max) p.max = w;
      if (w < p.min) p.min = w;
    }
    this.rows[slot] = v;
    this.slotOf[doc] = slot;
    this.docOf[slot] = doc;
    this.count++;
    this.postingCount += v.indices.length;
  }

  /** Removes the vector of `slot`, if it has one. */
  remove(slot: number): void {
    const v = this.rows[slot];
    if (!v) return;
    const doc = this.docOf[slot];
    this.rows[slot] = undefined;
    this.docOf[slot] = -1;
    this.slotOf[doc] = -1;
    this.count--;
    this.postingCount -= v.indices.length;
    for (const index of v.indices) {
      const p = this.lists.get(index)!;
      p.dead++;
      if (p.dead === p.length) this.lists.delete(index);
      else if (p.dead >= 8 && p.dead * 2 >= p.length) this.compact(p);
    }
    if (this.nextDoc > 1024 && this.nextDoc > 2 * this.count) this.renumber();
  }

  /** The dot product of the vector at `slot` with `query` (undefined when the slot has none). */
  score(slot: number, query: SparseVector): number | undefined {
    const row = this.rows[slot];
    return row ? sparseDot(row, query) : undefined;
  }

  /**
   * The exact top k by dot product among documents sharing a non-zero-weighted index with `query`:
   * an exhaustive scan when the query's lists hold at most SCAN_BELOW postings (a fraction of a
   * millisecond of reading, where MaxScore's bookkeeping costs more than it saves: bench/sparse.ts),
   * else MaxScore. Both return the same hits with the same scores.
   */
  search(query: SparseVector, k: number, opts: SparseSearchOptions = {}): SparseSearchResult {
    let postings = 0;
    for (let i = 0; i < query.indices.length && postings <= SCAN_BELOW; i++) {
      const list = this.lists.get(query.indices[i]);
      if (list && query.values[i] !== 0) postings += list.length;
    }
    return postings <= SCAN_BELOW ? this.scan(query, k, opts) : this.maxScore(query, k, opts);
  }

  /**
   * MaxScore, term-at-a-time: the lists are accumulated in descending order of their bound (the
   * most a list can add to a score: query weight × its largest weight, or smallest for a negative
   * query weight, never below 0). Every so often the k best partial sums are scored exactly, and
   * the lowest of those exact scores is a threshold the final k-th score cannot fall below. Once
   * the bounds of the lists not yet read sum to less than it, no document they alone hold can
   * enter the top k: the remaining (long, low-weight) lists are skipped, and only the documents
   * already touched whose partial sum plus that remainder can reach the threshold are scored in
   * full, from the forward store; unless scoring those would cost more than reading the rest
   * (short lists, long vectors: small collections), and then reading goes on, each list shrinking
   * the remainder and so the candidates.
   */
  maxScore(query: SparseVector, k: number, opts: SparseSearchOptions = {}): SparseSearchResult {
    const lists: { list: Postings; q: number; bound: number }[] = [];
    let postings = 0;
    let unread = 0;
    let slack = 0;
    let remaining = 0;
    for (let i = 0; i < query.indices.length; i++) {
      const list = this.lists.get(query.indices[i]);
      const q = query.values[i];
      if (!list || q === 0) continue;
      postings += list.length - list.dead;
      unread += list.length;
      const bound = Math.max(0, q > 0 ? q * list.max : q * list.min);
      lists.push({ list, q, bound });
      remaining += bound;
      slack += Math.abs(q) * Math.max(Math.abs(list.max), Math.abs(list.min));
    }
    // Partial sums add in another order than the exact score, so a document is dropped only when
    // it misses the threshold by more than any rounding could explain.
    slack *= 1e-9;
    lists.sort((a, b) => b.bound - a.bound);
    const { acc, stamp, epoch } = this.accumulator();
    const touched: number[] = [];
    let threshold = -Infinity;
    let read = 0;
    let sinceEstimate = 0;
    let scored = 0;
    // What scoring one candidate in full costs, in postings-read equivalents: a merge of two rows,
    // whose steps (compare, branch) cost about twice an accumulated posting (measured, bench/sparse.ts).
    const perCandidate = 2 * (this.postingCount / Math.max(1, this.count) + query.indices.length);
    let candidates = Infinity;
    for (const { list, q, bound } of lists) {
      // The lists left cannot lift an unseen document into the top k: stop reading them when
      // scoring the touched documents that could still make it costs less than reading on.
      if (remaining + slack < threshold && candidates * perCandidate < unread) break;
      opts.deadline?.check();
      for (let j = 0; j < list.length; j++) {
        const slot = this.slotOf[list.docs[j]];
        if (slot < 0 || (opts.accept && !hasSlot(opts.accept, slot))) continue;
        if (stamp[slot] !== epoch) {
          stamp[slot] = epoch;
          acc[slot] = 0;
          touched.push(slot);
        }
        acc[slot] += q * list.values[j];
      }
      read += list.length;
      unread -= list.length;
      remaining -= bound;
      sinceEstimate += list.length;
      // Estimating costs a pass over the touched documents: done once as many postings were read.
      if (touched.length >= k && sinceEstimate >= touched.length) {
        threshold = Math.max(threshold, this.exactKth(touched, acc, query, k));
        scored += k;
        sinceEstimate = 0;
        candidates = 0;
        for (const slot of touched) if (acc[slot] + remaining + slack >= threshold) candidates++;
      }
    }
    remaining = Math.max(0, remaining);
    if (touched.length >= k) {
      threshold = Math.max(threshold, this.exactKth(touched, acc, query, k));
      scored += k;
    }
    const top = new TopK(k);
    for (const slot of touched) {
      const bound = acc[slot] + remaining + slack;
      if (bound < threshold || bound < top.threshold) continue;
      scored++;
      top.push(sparseDot(this.rows[slot]!, query), slot);
    }
    return { ...top.drain(), postings, read, scored };
  }

  /** The lowest exact score among the k documents with the best partial sums: a lower bound of the final k-th score. */
  private exactKth(touched: number[], acc: Float64Array, query: SparseVector, k: number): number {
    const best = new TopK(k);
    for (const slot of touched) if (acc[slot] >= best.threshold) best.push(acc[slot], slot);
    let kth = Infinity;
    for (const slot of best.drain().slots) kth = Math.min(kth, sparseDot(this.rows[slot]!, query));
    return kth;
  }

  /** The accumulator shared by searches (zeroed lazily: stamp[slot] === epoch marks this search's slots). */
  private accumulator(): { acc: Float64Array; stamp: Uint32Array; epoch: number } {
    const highWater = this.rows.length;
    if (this.acc.length < highWater) {
      this.acc = new Float64Array(Math.max(highWater, this.acc.length * 2));
      this.stamp = new Uint32Array(this.acc.length);
    }
    return { acc: this.acc, stamp: this.stamp, epoch: ++this.epoch };
  }

  /**
   * The same top k by a plain exhaustive scan: every posting of every query list accumulated
   * term-at-a-time, then a heap over the touched documents. No pruning; the baseline.
   */
  scan(query: SparseVector, k: number, opts: SparseSearchOptions = {}): SparseSearchResult {
    const { acc, stamp, epoch } = this.accumulator();
    const touched: number[] = [];
    let postings = 0;
    for (let i = 0; i < query.indices.length; i++) {
      const list = this.lists.get(query.indices[i]);
      const q = query.values[i];
      if (!list || q === 0) continue;
      opts.deadline?.check();
      postings += list.length - list.dead;
      for (let j = 0; j < list.length; j++) {
        const slot = this.slotOf[list.docs[j]];
        if (slot < 0) continue;
        if (stamp[slot] !== epoch) {
          stamp[slot] = epoch;
          acc[slot] = 0;
          touched.push(slot);
        }
        acc[slot] += q * list.values[j];
      }
    }
    const top = new TopK(k);
    for (const slot of touched) {
      if (opts.accept && !hasSlot(opts.accept, slot)) continue;
      if (acc[slot] >= top.threshold) top.push(acc[slot], slot);
    }
    return { ...top.drain(), postings, read: postings, scored: touched.length };
  }

  /** Bytes held: postings (document number + weight, at capacity), the forward store, the maps. */
  memoryBytes(): number {
    let bytes = this.slotOf.byteLength + this.docOf.byteLength + this.acc.byteLength + this.stamp.byteLength;
    for (const p of this.lists.values()) bytes += p.docs.byteLength + p.values.byteLength + 64;
    for (const r of this.rows) if (r) bytes += r.indices.byteLength + r.values.byteLength + 48;
    return bytes;
  }

  private compact(p: Postings): void {
    p.length = keepPostings(p.docs, p.values, p.length, (d) => (this.slotOf[d] < 0 ? -1 : d));
    p.dead = 0;
    // The bounds tighten to the live entries.
    p.max = -Infinity;
    p.min = Infinity;
    for (let r = 0; r < p.length; r++) {
      p.max = Math.max(p.max, p.values[r]);
      p.min = Math.min(p.min, p.values[r]);
    }
  }

  /** Reassigns document numbers densely (keeping their order) and drops every dead entry. */
  private renumber(): void {
    const remap = new Int32Array(this.nextDoc).fill(-1);
    const slotOf = new Int32Array(Math.max(64, this.count * 2)).fill(-1);
    let next = 0;
    for (let d = 0; d < this.nextDoc; d++) {
      const slot = this.slotOf[d];
      if (slot < 0) continue;
      remap[d] = next;
      slotOf[next] = slot;
      this.docOf[slot] = next++;
    }
    this.slotOf = slotOf;
    this.nextDoc = next;
    for (const p of this.lists.values()) {
      p.length = keepPostings(p.docs, p.values, p.length, (d) => remap[d]);
      p.dead = 0;
    }
  }
}

function grow(a: Int32Array, min: number): Int32Array {
  const out = new Int32Array(Math.max(min, a.length * 2)).fill(-1);
  out.set(a);
  return out;
}
