/**
 * The index of one named sparse vector: every record's vector by slot (the forward store, for
 * reads, re-scoring and fusion) and an inverted index, sparse index -> postings (document, weight).
 * Search is by dot product and exact: MaxScore (Turtle & Flood 1995) walks the query's lists
 * document-at-a-time and skips the documents that only lists whose summed upper bounds cannot
 * reach the current k-th score hold; `scan` is the plain exhaustive term-at-a-time scan it is
 * measured against (bench/sparse.ts) and checked against (sparse-index.test.ts).
 *
 * Documents get numbers (`doc`) never reused while postings may mention them, as in the text
 * index's FieldIndex: a slot is reused after a delete and must not inherit the old postings. A
 * delete marks the document dead (`slotOf[doc] = -1`); a list is compacted once half of it is
 * dead, and numbers are reassigned once dead documents outnumber live ones (amortised O(1) per
 * posting). Postings stay in ascending document order, which MaxScore's skipping needs. A list's
 * bounds (largest and smallest weight) cover its dead entries too: still bounds, just looser,
 * until the list is compacted.
 *
 * Scores are computed in float64 in ascending index order (`sparseDot`), by every path, so the
 * pruned search, the scan and a brute force return the very same numbers.
 */
import { QuiverError } from "../../errors/errors.js";
import { DEADLINE_STRIDE, type Deadline } from "../../util/deadline.js";
import { TopK } from "../flat/topk.js";
import { hasSlot, type SlotBitmap } from "../slot-bitmap.js";
import { sparseDot, type SparseVector } from "./sparse-vector.js";

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
  /** Checked every DEADLINE_STRIDE documents. */
  deadline?: Deadline;
}

export interface SparseSearchResult {
  slots: number[];
  scores: number[];
  /** Postings in the query's lists (what an exhaustive scan reads). */
  postings: number;
  /** Documents whose full score was computed (the rest were skipped by the bounds). */
  scored: number;
}

/** One query term during a MaxScore walk: its list, weight, bound and cursor. */
interface Cursor {
  list: Postings;
  q: number;
  bound: number;
  pos: number;
}

const END = 0xffff_ffff;

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

  /** The exact top k by dot product among documents sharing a non-zero-weighted index with `query`. */
  search(query: SparseVector, k: number, opts: SparseSearchOptions = {}): SparseSearchResult {
    const cursors: Cursor[] = [];
    let postings = 0;
    let slack = 0;
    for (let i = 0; i < query.indices.length; i++) {
      const list = this.lists.get(query.indices[i]);
      const q = query.values[i];
      if (!list || q === 0) continue;
      postings += list.length - list.dead;
      cursors.push({ list, q, bound: Math.max(0, q > 0 ? q * list.max : q * list.min), pos: 0 });
      slack += Math.abs(q) * Math.max(Math.abs(list.max), Math.abs(list.min));
    }
    // Bounds and partial sums are added in other orders than the final score, so a candidate is
    // dropped only when it misses the threshold by more than any rounding could explain.
    slack *= 1e-9;
    cursors.sort((a, b) => a.bound - b.bound);
    // prefix[i]: the most the lists 0..i together can add to a document's score.
    const prefix = new Float64Array(cursors.length);
    cursors.forEach((c, i) => {
      prefix[i] = (i > 0 ? prefix[i - 1] : 0) + c.bound;
    });
    const top = new TopK(k);
    let threshold = -Infinity;
    // Lists below `essential` are non-essential: a document only they hold cannot reach the threshold.
    let essential = 0;
    let scored = 0;
    let steps = 0;
    let doc = END;
    for (const c of cursors) if (c.list.length > 0) doc = Math.min(doc, c.list.docs[0]);
    while (doc !== END) {
      if (++steps % DEADLINE_STRIDE === 0) opts.deadline?.check();
      let partial = 0;
      let next = END;
      for (let i = essential; i < cursors.length; i++) {
        const c = cursors[i];
        const docs = c.list.docs;
        if (c.pos < c.list.length && docs[c.pos] === doc) partial += c.q * c.list.values[c.pos++];
        if (c.pos < c.list.length && docs[c.pos] < next) next = docs[c.pos];
      }
      const slot = this.slotOf[doc];
      if (slot >= 0 && (!opts.accept || hasSlot(opts.accept, slot))) {
        let alive = true;
        for (let i = essential - 1; i >= 0 && alive; i--) {
          if (partial + prefix[i] + slack < threshold) alive = false;
          else partial += seek(cursors[i], doc);
        }
        if (alive && partial + slack >= threshold) {
          scored++;
          if (top.push(sparseDot(this.rows[slot]!, query), slot)) {
            threshold = top.threshold;
            while (essential < cursors.length && prefix[essential] + slack < threshold) essential++;
          }
        }
      }
      doc = next;
    }
    return { ...top.drain(), postings, scored };
  }

  /**
   * The same top k by a plain exhaustive scan: every posting of every query list accumulated
   * term-at-a-time, then a heap over the touched documents. No pruning; the baseline.
   */
  scan(query: SparseVector, k: number, opts: SparseSearchOptions = {}): SparseSearchResult {
    const highWater = this.rows.length;
    if (this.acc.length < highWater) {
      this.acc = new Float64Array(Math.max(highWater, this.acc.length * 2));
      this.stamp = new Uint32Array(this.acc.length);
    }
    const epoch = ++this.epoch;
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
        if (this.stamp[slot] !== epoch) {
          this.stamp[slot] = epoch;
          this.acc[slot] = 0;
          touched.push(slot);
        }
        this.acc[slot] += q * list.values[j];
      }
    }
    const top = new TopK(k);
    for (const slot of touched) {
      if (opts.accept && !hasSlot(opts.accept, slot)) continue;
      if (this.acc[slot] >= top.threshold) top.push(this.acc[slot], slot);
    }
    return { ...top.drain(), postings, scored: touched.length };
  }

  /**
   * Mean and standard deviation of the query's score over up to `sample` records evenly strided
   * over the slots (z-score fusion's view of this source), zeros included.
   */
  scoreStats(query: SparseVector, sample: number): { mean: number; std: number } {
    const step = Math.max(1, Math.floor(this.rows.length / sample));
    let n = 0;
    let sum = 0;
    let sumSq = 0;
    for (let s = 0; s < this.rows.length; s += step) {
      const row = this.rows[s];
      if (!row) continue;
      const x = sparseDot(row, query);
      n++;
      sum += x;
      sumSq += x * x;
    }
    if (n === 0) return { mean: 0, std: 1 };
    const mean = sum / n;
    return { mean, std: Math.sqrt(Math.max(0, sumSq / n - mean * mean)) };
  }

  /** Bytes held: postings (document number + weight, at capacity), the forward store, the maps. */
  memoryBytes(): number {
    let bytes = this.slotOf.byteLength + this.docOf.byteLength + this.acc.byteLength + this.stamp.byteLength;
    for (const p of this.lists.values()) bytes += p.docs.byteLength + p.values.byteLength + 64;
    for (const r of this.rows) if (r) bytes += r.indices.byteLength + r.values.byteLength + 48;
    return bytes;
  }

  private compact(p: Postings): void {
    let w = 0;
    p.max = -Infinity;
    p.min = Infinity;
    for (let r = 0; r < p.length; r++) {
      if (this.slotOf[p.docs[r]] < 0) continue;
      p.docs[w] = p.docs[r];
      p.values[w] = p.values[r];
      if (p.values[w] > p.max) p.max = p.values[w];
      if (p.values[w] < p.min) p.min = p.values[w];
      w++;
    }
    p.length = w;
    p.dead = 0;
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
      let w = 0;
      for (let r = 0; r < p.length; r++) {
        const d = remap[p.docs[r]];
        if (d < 0) continue;
        p.docs[w] = d;
        p.values[w++] = p.values[r];
      }
      p.length = w;
      p.dead = 0;
    }
  }
}

/** Moves a cursor to the first entry at or after `doc` (galloping, then binary search); returns q·w if it is `doc`. */
function seek(c: Cursor, doc: number): number {
  const docs = c.list.docs;
  const n = c.list.length;
  let lo = c.pos;
  if (lo >= n || docs[lo] >= doc) return lo < n && docs[lo] === doc ? c.q * c.list.values[lo] : 0;
  let step = 1;
  let hi = lo + 1;
  while (hi < n && docs[hi] < doc) {
    lo = hi;
    step *= 2;
    hi = lo + step;
  }
  hi = Math.min(hi, n);
  // docs[lo] < doc <= docs[hi] (or hi = n): binary search in between.
  while (lo + 1 < hi) {
    const mid = (lo + hi) >>> 1;
    if (docs[mid] < doc) lo = mid;
    else hi = mid;
  }
  c.pos = hi;
  return hi < n && docs[hi] === doc ? c.q * c.list.values[hi] : 0;
}

function grow(a: Int32Array, min: number): Int32Array {
  const out = new Int32Array(Math.max(min, a.length * 2)).fill(-1);
  out.set(a);
  return out;
}
