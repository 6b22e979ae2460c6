/**
 * What a query costs, from what it asked and the plan it ran: shared by the REST route and the
 * metered database that MCP tools use (src/server/metered.ts), so one search is billed the same
 * whichever surface ran it. The units themselves come from `unitsFor` (src/server/usage.ts).
 */
import type { CollectionApi } from "../api/types.js";
import { filterSize } from "../core/query/filter/parse.js";
import type { QueryPlan } from "../api/query.js";
import type { Cost } from "./usage.js";

/** Work per query-text character: analysis (segmentation, normalisation, stemming) is paid per character. */
export const TEXT_CHAR_WORK = 100;
/** Work per filter term (filterSize) per payload checked against it. */
export const FILTER_TERM_WORK = 100;

/**
 * The work a query did, for its read units: every vector scored costs its dimension, every text
 * match 100 (a BM25 score over a few postings), every character of query text 100, every payload
 * checked against the filter 100 per filter term. A graph search is charged for the nodes it
 * scored (`plan.ann.visited`, which grows with `ef`), an exact one for its candidates. A sparse
 * vector search is charged 1 per posting read and 100 per document scored in full.
 */
function queryWork(plan: QueryPlan, dim: number, textChars: number, filterTerms: number): number {
  const compared = plan.ann ? plan.ann.visited : plan.strategy === "text" ? 0 : plan.candidates;
  return (
    compared * dim +
    (plan.sparse ? plan.sparse.read + 100 * plan.sparse.scored : 0) +
    100 * (plan.text?.matched ?? 0) +
    TEXT_CHAR_WORK * textChars +
    FILTER_TERM_WORK * filterTerms * plan.payloadsChecked
  );
}

/** The searched vector's dimension: the query's own array when it sent one, else the schema's. */
function searchedDim(c: CollectionApi, req: Record<string, unknown>, plan: QueryPlan): number {
  if (!plan.vector) return 0;
  const v = req.vector;
  if (Array.isArray(v)) return v.length;
  const named =
    v !== null && typeof v === "object" && Object.hasOwn(v, plan.vector)
      ? (v as Record<string, unknown>)[plan.vector]
      : undefined;
  if (Array.isArray(named)) return named.length;
  return Object.hasOwn(c.schema.vectors, plan.vector) ? (c.schema.vectors[plan.vector].dim ?? 0) : 0;
}

/**
 * Characters of query text analysed or embedded: `text` / `text.query` when BM25 ran, again when it
 * was embedded as the vector (a hybrid or vector search with no vector sent:
 * src/database/query-mode.ts), and a vector given as text to embed.
 */
function queryTextChars(req: Record<string, unknown>, plan: QueryPlan): number {
  const t = req.text;
  let chars = typeof t === "string" ? t.length : 0;
  if (t !== null && typeof t === "object" && typeof (t as { query?: unknown }).query === "string")
    chars = (t as { query: string }).query.length;
  let n = plan.text ? chars : 0;
  if (req.vector === undefined && plan.vector !== "") n += chars;
  if (typeof req.vector === "string") n += req.vector.length;
  return n;
}

/** The cost of a query that ran (`req` as sent, `plan` from its result). */
export function queryCost(c: CollectionApi, req: Record<string, unknown>, plan: QueryPlan): Cost {
  const work = queryWork(plan, searchedDim(c, req, plan), queryTextChars(req, plan), filterSize(req.filter));
  return { kind: "read", work };
}
