/**
 * Full-text search over a collection's text fields: each field has its own analyzer and inverted
 * index (FieldIndex), and a query's score is the sum over the searched fields of
 * `boost × BM25(field)`.
 *
 * BM25 as in Lucene (BM25Similarity without the constant (k1 + 1) factor, which changes no ranking):
 *   score(d, q) = Σ_{t ∈ q} qtf(t) · idf(t) · tf / (tf + k1 · (1 − b + b · |d| / avgdl))
 *   idf(t) = ln(1 + (N − df + 0.5) / (df + 0.5))
 * where N is the number of live documents having the field, df counts live documents only and
 * |d| is the exact number of terms (Lucene rounds it to one byte; we keep it exact). Query terms
 * are counted with multiplicity (qtf). Scoring is term-at-a-time into a reusable accumulator; ties
 * go to the lower slot. N, avgdl and df are this index's own unless a search is given the statistics
 * of a larger collection this index is a part of (a shard's: term-stats.ts).
 */
import { hasSlot, type SlotBitmap } from "../slot-bitmap.js";
import { createAnalyzer, type Analyzer, type TextFieldSpec, type TextPlugins } from "../../analysis/analyzer.js";
import { splitPath, valuesAt } from "../../payload/path.js";
import type { Deadline } from "../../util/deadline.js";
import { TopK } from "../flat/topk.js";
import { FieldIndex } from "./field-index.js";
import { QuiverError } from "../../errors/errors.js";
import type { TermStats } from "./term-stats.js";

export interface Bm25Params {
  /** Term-frequency saturation, >= 0 (default 1.2, as Lucene and Elasticsearch). */
  k1: number;
  /** Length normalisation, 0 to 1 (default 0.75, as Lucene and Elasticsearch). */
  b: number;
}

export const DEFAULT_BM25: Bm25Params = { k1: 1.2, b: 0.75 };

interface TextField {
  name: string;
  path: string[];
  analyzer: Analyzer;
  boost: number;
  /** Replaced whole when a persisted index is loaded (restore) or discarded (clear). */
  index: FieldIndex;
}

export interface TextSearchResult {
  slots: number[];
  scores: number[];
  /** Live documents that contained at least one query term (before the filter). */
  matched: number;
  /** Mean and standard deviation of the score over every live document having a searched field (0 for non-matching ones). */
  mean: number;
  std: number;
  /** Documents having a searched field (the collection's, with `stats`): with `matched`, the population of `mean`. */
  population: number;
  /** The scores of `opts.scoresFor`, in its order (0 for a document without any query term). */
  extraScores: number[];
}

/** Text of a payload field: a string, or the strings of an array joined by a newline. Other values are not indexed. */
export function fieldText(payload: Record<string, unknown> | undefined, path: readonly string[]): string | null {
  const values = valuesAt(payload, path).filter((v): v is string => typeof v === "string");
  return values.length === 0 ? null : values.join("\n");
}

export class TextIndex {
  readonly fields: TextField[] = [];
  private acc = new Float64Array(0);
  private touched = new Uint32Array(0);

  constructor(
    specs: Record<string, TextFieldSpec>,
    readonly params: Bm25Params,
    plugins: TextPlugins,
  ) {
    for (const [name, spec] of Object.entries(specs)) {
      this.fields.push({
        name,
        path: splitPath(name),
        analyzer: createAnalyzer(spec, plugins),
        boost: spec.boost ?? 1,
        index: new FieldIndex(),
      });
    }
  }

  /** Indexes the text fields of a record stored at `slot` (which holds no indexed document). */
  add(slot: number, payload: Record<string, unknown> | undefined): void {
    for (const f of this.fields) {
      const text = fieldText(payload, f.path);
      if (text !== null) f.index.add(slot, f.analyzer.analyze(text));
    }
  }

  remove(slot: number): void {
    for (const f of this.fields) f.index.remove(slot);
  }

  /** Each field's inverted index as bytes (FieldIndex.toBytes), to persist beside the graphs. */
  toBytes(): Map<string, Uint8Array> {
    return new Map(this.fields.map((f) => [f.name, f.index.toBytes()]));
  }

  /**
   * Replaces every field's index with one loaded from `bytes` (all fields or none). Returns why it
   * could not (a field missing or damaged), leaving the indexes as they were, or null.
   */
  restore(bytes: ReadonlyMap<string, Uint8Array>): string | null {
    const loaded: FieldIndex[] = [];
    for (const f of this.fields) {
      const b = bytes.get(f.name);
      if (!b) return `no postings for field ${JSON.stringify(f.name)}`;
      try {
        loaded.push(FieldIndex.fromBytes(b));
      } catch (e) {
        return `postings of field ${JSON.stringify(f.name)} are damaged (${e instanceof Error ? e.message : String(e)})`;
      }
    }
    this.fields.forEach((f, i) => {
      f.index = loaded[i];
    });
    return null;
  }

  /** Empties every field's index (before rebuilding it from the records). */
  clear(): void {
    for (const f of this.fields) f.index = new FieldIndex();
  }

  /**
   * The documents `slot` holds (one per field with text), when they are exactly the fields where
   * `payload` (undefined: no record) has text; -1 when they are not. Checks loaded postings.
   */
  documentsMatching(slot: number, payload: Record<string, unknown> | undefined): number {
    let n = 0;
    for (const f of this.fields) {
      const has = slot < f.index.docOf.length && f.index.docOf[slot] >= 0;
      if (has !== (payload !== undefined && fieldText(payload, f.path) !== null)) return -1;
      if (has) n++;
    }
    return n;
  }

  /** Live documents per field, summed (to check a loaded index against the records' count). */
  get documents(): number {
    return this.fields.reduce((n, f) => n + f.index.docCount, 0);
  }

  /** The analyzed query terms per field, e.g. for an explanation. */
  analyzeQuery(text: string, fields?: readonly string[]): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const f of this.fields) if (!fields || fields.includes(f.name)) out[f.name] = f.analyzer.analyze(text);
    return out;
  }

  /**
   * The `k` best documents for `text`, best first. `accept`, when given, is the bitmap of the slots
   * that may be returned: a filter. Documents sharing no term with the query are never returned.
   */
  search(
    text: string,
    k: number,
    opts: {
      fields?: readonly string[];
      accept?: SlotBitmap;
      highWater: number;
      scoresFor?: readonly number[];
      /** Checked before each posting list is scored. */
      deadline?: Deadline;
      /** Score with these collection statistics (per field) instead of this index's own. */
      stats?: TermStats;
    },
  ): TextSearchResult {
    if (this.acc.length < opts.highWater) {
      this.acc = new Float64Array(Math.max(opts.highWater, this.acc.length * 2));
      this.touched = new Uint32Array(this.acc.length);
    }
    const acc = this.acc;
    const touched = this.touched;
    let nTouched = 0;
    const { k1, b } = this.params;
    let population = 0;
    // The accumulator is shared by every search and zeroed as it is read; a deadline expiring
    // mid-scoring must leave it zeroed too.
    try {
      for (const f of this.fields) {
        if (opts.fields && !opts.fields.includes(f.name)) continue;
        const ix = f.index;
        const given = opts.stats && Object.hasOwn(opts.stats, f.name) ? opts.stats[f.name] : undefined;
        const globalDf = given && new Map(given.df);
        const n = given ? given.documents : ix.docCount;
        population = Math.max(population, n);
        // No document of this index has the field: nothing here to score, whatever the statistics.
        if (ix.docCount === 0) continue;
        const qtf = new Map<number, number>();
        // With given statistics, each term's df is looked up by the term itself.
        const dfOf = new Map<number, number>();
        for (const t of f.analyzer.analyze(text)) {
          const id = ix.terms.get(t);
          if (id === undefined || ix.df(id) === 0) continue;
          qtf.set(id, (qtf.get(id) ?? 0) + 1);
          if (globalDf) dfOf.set(id, globalDf.get(t) ?? 0);
        }
        const avgdl = (given ? given.totalLength : ix.totalLength) / n || 1;
        const slotOf = ix.slotOf;
        const docLen = ix.docLen;
        const lenA = k1 * (1 - b);
        const lenB = (k1 * b) / avgdl;
        for (const [id, count] of qtf) {
          opts.deadline?.check();
          const df = globalDf ? (dfOf.get(id) as number) : ix.df(id);
          // Statistics that undercount this index's own documents are not of a collection holding it.
          if (df < ix.df(id)) throw new QuiverError("INVALID_ARGUMENT", `text statistics of ${f.name} undercount it`);
          const w = f.boost * count * Math.log(1 + (n - df + 0.5) / (df + 0.5));
          const p = ix.postings[id];
          const docs = p.docs;
          const tfs = p.tfs;
          for (let i = 0; i < p.length; i++) {
            const d = docs[i];
            const slot = slotOf[d];
            if (slot < 0) continue;
            const tf = tfs[i];
            if (acc[slot] === 0) touched[nTouched++] = slot;
            acc[slot] += (w * tf) / (tf + lenA + lenB * docLen[d]);
          }
        }
      }
    } catch (e) {
      for (let i = 0; i < nTouched; i++) acc[touched[i]] = 0;
      throw e;
    }
    const extraScores = (opts.scoresFor ?? []).map((slot) => (slot < acc.length ? acc[slot] : 0));
    const top = new TopK(k);
    const accept = opts.accept;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < nTouched; i++) {
      const slot = touched[i];
      const s = acc[slot];
      acc[slot] = 0;
      sum += s;
      sumSq += s * s;
      if (accept && !hasSlot(accept, slot)) continue;
      if (s >= top.threshold) top.push(s, slot);
    }
    // Documents without a query term score 0 and count in the population (at least the matched ones).
    const n = Math.max(population, nTouched, 1);
    const mean = sum / n;
    const std = Math.sqrt(Math.max(0, sumSq / n - mean * mean));
    return { ...top.drain(), matched: nTouched, mean, std, population, extraScores };
  }

  /**
   * This index's statistics for `text` in each searched field (all, or `fields`): what `search`
   * needs, so that the parts of a sharded collection can be summed (sumTermStats) and scored with.
   */
  termStatistics(text: string, fields?: readonly string[]): TermStats {
    return Object.fromEntries(
      this.fields
        .filter((f) => !fields || fields.includes(f.name))
        .map(({ name, analyzer, index: ix }) => {
          const df = analyzer.analyze(text).map((t): [string, number] => {
            const id = ix.terms.get(t);
            return [t, id === undefined ? 0 : ix.df(id)];
          });
          return [name, { documents: ix.docCount, totalLength: ix.totalLength, df: [...new Map(df)] }];
        }),
    );
  }

  /**
   * BM25 as a sparse vector: the weight of each term of `text`, taken as a document of `field`,
   * under the index's current statistics, `boost · idf(t) · tf / (tf + k1 · (1 − b + b · |d| / avgdl))`,
   * keyed by the term's id in the field's vocabulary (terms the index has not seen are left out).
   * Its dot product with `queryTermCounts(field, query)` is the document's BM25 score in that field
   * as `search` computes it: sparse vectors holding these reproduce the BM25 ranking (test/sparse).
   */
  bm25Weights(field: string, text: string): Map<number, number> {
    const f = this.field(field);
    const ix = f.index;
    const tokens = f.analyzer.analyze(text);
    const tf = new Map<number, number>();
    for (const t of tokens) {
      const id = ix.terms.get(t);
      if (id !== undefined) tf.set(id, (tf.get(id) ?? 0) + 1);
    }
    const { k1, b } = this.params;
    const n = ix.docCount;
    const avgdl = ix.totalLength / n || 1;
    const out = new Map<number, number>();
    for (const [id, count] of tf) {
      const df = ix.df(id);
      if (df === 0) continue;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      out.set(id, (f.boost * idf * count) / (count + k1 * (1 - b) + ((k1 * b) / avgdl) * tokens.length));
    }
    return out;
  }

  /** The query side of bm25Weights: each known term of `text` in `field`, counted with multiplicity. */
  queryTermCounts(field: string, text: string): Map<number, number> {
    const f = this.field(field);
    const out = new Map<number, number>();
    for (const t of f.analyzer.analyze(text)) {
      const id = f.index.terms.get(t);
      if (id !== undefined) out.set(id, (out.get(id) ?? 0) + 1);
    }
    return out;
  }

  private field(name: string): TextField {
    const f = this.fields.find((x) => x.name === name);
    if (!f) throw new QuiverError("INVALID_ARGUMENT", `no text field ${JSON.stringify(name)}`);
    return f;
  }

  memoryBytes(): number {
    let bytes = this.acc.byteLength + this.touched.byteLength;
    for (const f of this.fields) bytes += f.index.memoryBytes();
    return bytes;
  }
}
