/**
 * The inverted index of one text field: term -> postings (document number, term frequency), with
 * each document's length, kept exact under inserts, replacements and deletes.
 *
 * Documents get internal numbers (`doc`) that are never reused while postings may mention them,
 * because collection slots are reused and a reused slot must not inherit the old postings. A
 * delete marks the document dead (`slotOf[doc] = -1`), subtracts it from the statistics at once
 * (so scores equal those of a freshly built index) and counts one dead entry per term it held; a
 * term's list is compacted once half of it is dead, and all numbers are reassigned once dead
 * documents outnumber live ones. Both are amortised O(1) per posting.
 */

import { keepPostings } from "../postings.js";

/** One term's postings: parallel growable arrays, in insertion order of the documents. */
export interface Postings {
  docs: Uint32Array;
  tfs: Uint32Array;
  length: number;
  /** Entries whose document is dead. */
  dead: number;
}

export class FieldIndex {
  readonly terms = new Map<string, number>();
  postings: Postings[] = [];
  /** slotOf[doc] = the collection slot, or -1 once the document is dead. */
  slotOf: Int32Array = new Int32Array(64);
  docLen: Uint32Array = new Uint32Array(64);
  /** The distinct term ids of each live document, to undo it on delete. */
  private docTerms: (Uint32Array | undefined)[] = [];
  /** docOf[slot] = the document number, or -1. */
  docOf: Int32Array = new Int32Array(64).fill(-1);
  nextDoc = 0;
  private tfScratch = new Uint32Array(1024);
  /** Live documents that have this field, and the sum of their lengths. */
  docCount = 0;
  totalLength = 0;

  /** Live document frequency of a term id. */
  df(term: number): number {
    const p = this.postings[term];
    return p.length - p.dead;
  }

  /** Indexes a document's terms (in order, with repeats) for `slot`; the slot must hold no document. */
  add(slot: number, tokens: readonly string[]): void {
    if (slot >= this.docOf.length) this.docOf = growInt32(this.docOf, slot + 1, -1);
    if (this.nextDoc >= this.slotOf.length) {
      this.slotOf = growInt32(this.slotOf, this.nextDoc + 1, -1);
      const len = new Uint32Array(this.slotOf.length);
      len.set(this.docLen);
      this.docLen = len;
    }
    const doc = this.nextDoc++;
    // Term frequencies are counted in a scratch array indexed by term id (zeroed again below),
    // which is several times faster than a Map per document.
    const ids: number[] = [];
    let tf = this.tfScratch;
    for (const t of tokens) {
      let id = this.terms.get(t);
      if (id === undefined) {
        id = this.postings.length;
        this.terms.set(t, id);
        this.postings.push({ docs: new Uint32Array(4), tfs: new Uint32Array(4), length: 0, dead: 0 });
        if (id >= tf.length) {
          const grown = new Uint32Array(tf.length * 2);
          grown.set(tf);
          tf = this.tfScratch = grown;
        }
      }
      if (tf[id]++ === 0) ids.push(id);
    }
    const distinct = Uint32Array.from(ids);
    for (const id of ids) {
      const p = this.postings[id];
      if (p.length === p.docs.length) {
        const cap = p.length * 2;
        const docs = new Uint32Array(cap);
        docs.set(p.docs);
        const tfs = new Uint32Array(cap);
        tfs.set(p.tfs);
        p.docs = docs;
        p.tfs = tfs;
      }
      p.docs[p.length] = doc;
      p.tfs[p.length] = tf[id];
      p.length++;
      tf[id] = 0;
    }
    this.docTerms[doc] = distinct;
    this.slotOf[doc] = slot;
    this.docLen[doc] = tokens.length;
    this.docOf[slot] = doc;
    this.docCount++;
    this.totalLength += tokens.length;
  }

  /** Removes the document of `slot`, if it has one. */
  remove(slot: number): void {
    const doc = slot < this.docOf.length ? this.docOf[slot] : -1;
    if (doc < 0) return;
    this.docOf[slot] = -1;
    this.slotOf[doc] = -1;
    this.docCount--;
    this.totalLength -= this.docLen[doc];
    const distinct = this.docTerms[doc]!;
    this.docTerms[doc] = undefined;
    for (const id of distinct) {
      const p = this.postings[id];
      p.dead++;
      if (p.dead >= 8 && p.dead * 2 >= p.length) this.compactTerm(p);
    }
    if (this.nextDoc > 1024 && this.nextDoc > 2 * this.docCount) this.renumber();
  }

  private compactTerm(p: Postings): void {
    p.length = keepPostings(p.docs, p.tfs, p.length, (d) => (this.slotOf[d] < 0 ? -1 : d));
    p.dead = 0;
  }

  /** Reassigns document numbers densely (keeping their order) and drops every dead entry. */
  private renumber(): void {
    const remap = new Int32Array(this.nextDoc).fill(-1);
    const slotOf = new Int32Array(Math.max(64, this.docCount * 2)).fill(-1);
    const docLen = new Uint32Array(slotOf.length);
    const docTerms: (Uint32Array | undefined)[] = [];
    let next = 0;
    for (let d = 0; d < this.nextDoc; d++) {
      const slot = this.slotOf[d];
      if (slot < 0) continue;
      remap[d] = next;
      slotOf[next] = slot;
      docLen[next] = this.docLen[d];
      docTerms[next] = this.docTerms[d];
      this.docOf[slot] = next;
      next++;
    }
    for (const p of this.postings) {
      p.length = keepPostings(p.docs, p.tfs, p.length, (d) => remap[d]);
      p.dead = 0;
    }
    this.slotOf = slotOf;
    this.docLen = docLen;
    this.docTerms = docTerms;
    this.nextDoc = next;
  }

  /**
   * The index as bytes, so a checkpoint can persist it and an open load it instead of analysing
   * every document again (u32 LE unless noted; dead entries left out, document numbers kept):
   *   u32 nextDoc, u32 docCount, f64 totalLength, nextDoc × i32 slotOf, nextDoc × u32 docLen,
   *   u32 T terms, T × u32 live postings, then every posting's u32 doc, then every u32 tf,
   *   then UTF-8 JSON array of the T terms (term id = position).
   */
  toBytes(): Uint8Array {
    const t = this.postings.length;
    const live = this.postings.map((p) => p.length - p.dead);
    const total = live.reduce((a, b) => a + b, 0);
    const terms = new TextEncoder().encode(JSON.stringify([...this.terms.keys()]));
    const words = 4 + 2 * this.nextDoc + 1 + t + 2 * total;
    const out = new Uint8Array(words * 4 + terms.length);
    const view = new DataView(out.buffer);
    const u32 = new Uint32Array(words);
    u32[0] = this.nextDoc;
    u32[1] = this.docCount;
    u32.set(new Uint32Array(this.slotOf.buffer, 0, this.nextDoc), 4);
    u32.set(this.docLen.subarray(0, this.nextDoc), 4 + this.nextDoc);
    let at = 4 + 2 * this.nextDoc;
    u32[at++] = t;
    u32.set(live, at);
    at += t;
    const tfAt = at + total;
    let w = 0;
    for (const p of this.postings) {
      for (let i = 0; i < p.length; i++) {
        if (this.slotOf[p.docs[i]] < 0) continue;
        u32[at + w] = p.docs[i];
        u32[tfAt + w++] = p.tfs[i];
      }
    }
    for (let i = 0; i < words; i++) view.setUint32(i * 4, u32[i], true);
    view.setFloat64(8, this.totalLength, true);
    out.set(terms, words * 4);
    return out;
  }

  /** An index from toBytes' output; throws on bytes that do not describe a consistent index. */
  static fromBytes(bytes: Uint8Array): FieldIndex {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    const need = (words: number): void => {
      if ((at + words) * 4 > bytes.length) throw new RangeError("field index bytes cut short");
    };
    const u32s = (n: number): Uint32Array => {
      need(n);
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getUint32((at + i) * 4, true);
      at += n;
      return out;
    };
    const [nextDoc, docCount] = u32s(2);
    need(2);
    const totalLength = view.getFloat64(8, true);
    at += 2;
    const ix = new FieldIndex();
    const slotOf = new Int32Array(u32s(nextDoc).buffer);
    const docLen = u32s(nextDoc);
    const t = u32s(1)[0];
    const live = u32s(t);
    const total = live.reduce((a, b) => a + b, 0);
    const docs = u32s(total);
    const tfs = u32s(total);
    const terms: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(at * 4)));
    if (!Array.isArray(terms) || terms.length !== t) throw new RangeError("field index terms do not match");
    // Each live document's distinct terms, rebuilt from the postings (counted, then filled).
    const perDoc = new Uint32Array(nextDoc + 1);
    for (const d of docs) {
      if (d >= nextDoc || slotOf[d] < 0) throw new RangeError("field index posting of a missing document");
      perDoc[d + 1]++;
    }
    for (let d = 0; d < nextDoc; d++) perDoc[d + 1] += perDoc[d];
    const termOf = new Uint32Array(total);
    const fill = perDoc.slice(0, nextDoc);
    let from = 0;
    for (let term = 0; term < t; term++) {
      const n = live[term];
      ix.terms.set(String(terms[term]), term);
      const p = { docs: new Uint32Array(Math.max(n, 4)), tfs: new Uint32Array(Math.max(n, 4)), length: n, dead: 0 };
      p.docs.set(docs.subarray(from, from + n));
      p.tfs.set(tfs.subarray(from, from + n));
      ix.postings.push(p);
      for (let i = from; i < from + n; i++) termOf[fill[docs[i]]++] = term;
      from += n;
    }
    const cap = Math.max(64, nextDoc);
    ix.slotOf = new Int32Array(cap).fill(-1);
    ix.slotOf.set(slotOf);
    ix.docLen = new Uint32Array(cap);
    ix.docLen.set(docLen);
    let maxSlot = -1;
    for (let d = 0; d < nextDoc; d++) maxSlot = Math.max(maxSlot, slotOf[d]);
    ix.docOf = new Int32Array(Math.max(64, maxSlot + 1)).fill(-1);
    let liveDocs = 0;
    for (let d = 0; d < nextDoc; d++) {
      if (slotOf[d] < 0) continue;
      if (ix.docOf[slotOf[d]] >= 0) throw new RangeError("field index slot holds two documents");
      ix.docOf[slotOf[d]] = d;
      ix.docTerms[d] = termOf.subarray(perDoc[d], perDoc[d + 1]);
      liveDocs++;
    }
    if (liveDocs !== docCount) throw new RangeError("field index document count does not match");
    ix.nextDoc = nextDoc;
    ix.docCount = docCount;
    ix.totalLength = totalLength;
    return ix;
  }

  /** Approximate heap bytes held by postings and per-document arrays. */
  memoryBytes(): number {
    let bytes = this.slotOf.byteLength + this.docLen.byteLength + this.docOf.byteLength;
    for (const p of this.postings) bytes += p.docs.byteLength + p.tfs.byteLength + 48;
    for (const t of this.docTerms) if (t) bytes += t.byteLength + 16;
    return bytes + this.terms.size * 40;
  }
}

function growInt32(a: Int32Array, min: number, fill: number): Int32Array {
  const out = new Int32Array(Math.max(min, a.length * 2)).fill(fill);
  out.set(a);
  return out;
}
