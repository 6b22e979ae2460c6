/**
 * Retrieval metrics with trec_eval's definitions, so figures compare with published ones:
 * nDCG@10 (`ndcg_cut_10`, graded gains, log2 discount, ideal ranking from all judged documents),
 * MAP (`map`, over the ranking as given, usually cut at 1000), Recall@100 (`recall_100`) and
 * P@10 (`P_10`, always divided by 10). Relevance > 0 counts as relevant. Pure functions.
 */

/** Judgments: query id -> (document id -> graded relevance; only positive grades matter). */
export type Qrels = Map<string, Map<string, number>>;

export interface IrMetrics {
  ndcg10: number;
  map: number;
  recall100: number;
  p10: number;
}

/** The four metrics of one query's ranking (document ids, best first). */
export function queryMetrics(ranking: readonly string[], judged: ReadonlyMap<string, number>): IrMetrics {
  const relevant = [...judged.values()].filter((g) => g > 0);
  const nRel = relevant.length;
  if (nRel === 0) return { ndcg10: 0, map: 0, recall100: 0, p10: 0 };
  let dcg = 0;
  let hits = 0;
  let sumPrec = 0;
  let hits10 = 0;
  let hits100 = 0;
  for (let i = 0; i < ranking.length; i++) {
    const g = judged.get(ranking[i]) ?? 0;
    if (g <= 0) continue;
    hits++;
    sumPrec += hits / (i + 1);
    if (i < 10) {
      dcg += g / Math.log2(i + 2);
      hits10++;
    }
    if (i < 100) hits100++;
  }
  const ideal = relevant.sort((a, b) => b - a);
  let idcg = 0;
  for (let i = 0; i < Math.min(10, ideal.length); i++) idcg += ideal[i] / Math.log2(i + 2);
  return { ndcg10: dcg / idcg, map: sumPrec / nRel, recall100: hits100 / nRel, p10: hits10 / 10 };
}

/**
 * Mean metrics over every judged query that has at least one relevant document (a query with no
 * ranking scores 0). `rankings` maps query id -> ranked document ids.
 */
export function meanMetrics(
  rankings: ReadonlyMap<string, readonly string[]>,
  qrels: Qrels,
): IrMetrics & { queries: number } {
  const sum: IrMetrics = { ndcg10: 0, map: 0, recall100: 0, p10: 0 };
  let queries = 0;
  for (const [qid, judged] of qrels) {
    if (![...judged.values()].some((g) => g > 0)) continue;
    const m = queryMetrics(rankings.get(qid) ?? [], judged);
    sum.ndcg10 += m.ndcg10;
    sum.map += m.map;
    sum.recall100 += m.recall100;
    sum.p10 += m.p10;
    queries++;
  }
  const d = Math.max(1, queries);
  return { ndcg10: sum.ndcg10 / d, map: sum.map / d, recall100: sum.recall100 / d, p10: sum.p10 / d, queries };
}
