/**
 * The collection statistics BM25 scores a query with, per text field: the documents having the
 * field, the sum of their lengths, and the document frequency of each of the query's analysed terms.
 * One index computes them over its own documents (TextIndex.termStatistics); a sharded collection
 * sums its shards' (sumTermStats) and hands the sum back to every shard's scorer, so each shard
 * scores exactly as one index holding every document would (src/cluster/query-plan.ts).
 */

export interface FieldTermStats {
  /** Live documents having the field. */
  documents: number;
  /** The sum of their lengths in terms. */
  totalLength: number;
  /** `[term, live documents containing it]` for each distinct analysed query term (0 when none). */
  df: [string, number][];
}

/** By field name. */
export type TermStats = Record<string, FieldTermStats>;

/** The statistics of the union of disjoint document sets: every count summed, field by field and term by term. */
export function sumTermStats(parts: readonly TermStats[]): TermStats {
  const fields = new Map<string, { documents: number; totalLength: number; df: Map<string, number> }>();
  for (const part of parts)
    for (const [name, f] of Object.entries(part)) {
      const sum = fields.get(name) ?? { documents: 0, totalLength: 0, df: new Map<string, number>() };
      fields.set(name, sum);
      sum.documents += f.documents;
      sum.totalLength += f.totalLength;
      for (const [term, df] of f.df) sum.df.set(term, (sum.df.get(term) ?? 0) + df);
    }
  return Object.fromEntries(
    [...fields].map(([name, f]) => [name, { documents: f.documents, totalLength: f.totalLength, df: [...f.df] }]),
  );
}
