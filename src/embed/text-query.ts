/**
 * A question in words turned into a query request: hybrid (BM25 on the text fields fused with the
 * bound vector) when the collection has both, else what it supports, unless a mode is chosen. One
 * decision shared by searchDocuments, `quiver query --text` and the MCP `search` tool.
 */
import type { QueryRequest } from "../api/query.js";
import { QuiverError } from "../core/errors/errors.js";
import { denseVectors, type CollectionSchema } from "../core/schema/schema.js";

export type SearchMode = "vector" | "text" | "hybrid";
export const SEARCH_MODES: readonly SearchMode[] = ["vector", "text", "hybrid"];

export interface TextQueryInput {
  /** The question, in words. */
  query?: string;
  /** A raw query vector instead of (or beside) the words. */
  vector?: ArrayLike<number>;
  /** Default: hybrid when the collection can do both, else text or vector, whichever it can. */
  mode?: SearchMode;
  /** Named vector (default: the only one, or the one bound to an embedder). */
  using?: string;
}

/** The mode chosen and the request's `vector` / `text` parts; the caller adds limit, filter, etc. */
export function textQuery(
  collection: string,
  schema: CollectionSchema,
  input: TextQueryInput,
): { mode: SearchMode; request: Pick<QueryRequest, "vector" | "text"> } {
  const { query, vector } = input;
  if (query === undefined && vector === undefined)
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: "query", message: "give query (text) or vector" }]);
  if (input.mode !== undefined && !SEARCH_MODES.includes(input.mode))
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      { path: "mode", message: `must be vector, text or hybrid, got ${JSON.stringify(input.mode)}` },
    ]);
  // Sparse vectors are not embedded from words; the caller adds a sparse query itself.
  const names = Object.keys(denseVectors(schema));
  const using =
    input.using ?? (names.length === 1 ? names[0] : names.find((n) => schema.vectors[n].embedder !== undefined));
  const spec = using === undefined ? undefined : schema.vectors[using];
  const canVector = spec !== undefined && (vector !== undefined || spec.embedder !== undefined);
  const canText = schema.text !== undefined && Object.keys(schema.text).length > 0 && query !== undefined;
  const mode = input.mode ?? (canText && canVector ? "hybrid" : canText ? "text" : "vector");
  const request: Pick<QueryRequest, "vector" | "text"> = {};
  if (mode !== "text") {
    if (!canVector)
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        {
          path: "mode",
          message: `collection "${collection}" has no vector bound to an embedder${using ? ` ("${using}" is not)` : ""}: pass a vector, or use mode "text"`,
        },
      ]);
    request.vector = { [using!]: vector ?? query! } as Record<string, ArrayLike<number>>;
  }
  if (mode !== "vector") {
    if (!canText)
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        {
          path: "mode",
          message: `collection "${collection}" has no full-text fields (schema.text), or no query was given`,
        },
      ]);
    request.text = query!;
  }
  return { mode, request };
}
