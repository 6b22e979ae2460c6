/**
 * A question in words as a query request, for searchDocuments, `quiver query --text` and the MCP
 * `search` tool. Which sources run is not decided here but by the database for every entry point
 * (src/database/query-mode.ts: hybrid on a collection that can embed the text, unless a mode is chosen).
 */
import { QUERY_MODES, type QueryMode, type QueryPlan, type QueryRequest } from "../api/query.js";
import { QuiverError } from "../core/errors/errors.js";
import type { CollectionSchema } from "../core/schema/schema.js";

export type SearchMode = QueryMode;
export const SEARCH_MODES: readonly SearchMode[] = QUERY_MODES;

export interface TextQueryInput {
  /** The question, in words. */
  query?: string;
  /** A raw query vector instead of (or beside) the words. */
  vector?: ArrayLike<number>;
  /** Default: hybrid when the collection can do both, else text or vector, whichever it can. */
  mode?: SearchMode;
  /** Named vector (default: the only one bound to an embedder). */
  using?: string;
}

/**
 * The request's `text`, `vector` and `mode` parts; the caller adds limit, filter, etc. `using`
 * without a vector embeds the question for that vector (beside BM25 where the schema has text fields).
 */
export function textQuery(
  schema: CollectionSchema,
  input: TextQueryInput,
): Pick<QueryRequest, "vector" | "text" | "mode"> {
  const { query, vector, mode, using } = input;
  if (query === undefined && vector === undefined)
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: "query", message: "give query (text) or vector" }]);
  const request: Pick<QueryRequest, "vector" | "text" | "mode"> = {};
  if (query !== undefined) request.text = query;
  if (vector !== undefined) request.vector = using === undefined ? vector : { [using]: vector };
  else if (using !== undefined && mode !== "text") {
    request.vector = { [using]: query! };
    if (mode === undefined && Object.keys(schema.text ?? {}).length === 0) delete request.text;
  }
  if (mode !== undefined) request.mode = mode;
  return request;
}

/** The mode a query ran in, read from its plan ("sparse" for a sparse vector searched alone). */
export function modeOfPlan(plan: QueryPlan): SearchMode | "sparse" {
  return plan.strategy === "text" || plan.strategy === "hybrid" || plan.strategy === "sparse"
    ? plan.strategy
    : "vector";
}
