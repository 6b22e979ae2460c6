/**
 * Which sources a query runs, decided once for every entry point (the embedded API, HTTP, MCP,
 * `quiver query --text`, searchDocuments): `mode` when given, else what the request carries, with
 * a text alone run hybrid on a collection that can embed it (text fields and a bound vector, as
 * documentSchema makes), because on documents the fusion is never below BM25 (bench/RESULTS.md).
 */
import { QUERY_MODES, type QueryMode, type QueryRequest } from "../api/query.js";
import { QuiverError, type Problem } from "../core/errors/errors.js";
import type { CollectionSchema } from "../core/schema/schema.js";

/** The vector a text is embedded for: the only vector if it is bound, else the only bound one. */
function embeddingVector(schema: CollectionSchema): string | undefined {
  const names = Object.keys(schema.vectors);
  const bound = names.filter((n) => schema.vectors[n].embedder !== undefined);
  return bound.length === 1 ? bound[0] : undefined;
}

function queryString(text: unknown): string | undefined {
  if (typeof text === "string") return text;
  const q = typeof text === "object" && text !== null ? (text as { query?: unknown }).query : undefined;
  return typeof q === "string" ? q : undefined;
}

/**
 * The request with `mode` applied and removed: the parts the mode does not use dropped, and a
 * vector it needs but lacks set to the text, as `{ name: text }` for the input hook to embed.
 * Returns `req` itself when there is nothing to decide (a vector query, the hot path).
 * `canEmbed(name)`: whether the database can embed with the embedder of that name (open()'s
 * registry); by default a text runs hybrid only where it can, else BM25 alone (the plan says which).
 */
export function applyQueryMode(
  req: QueryRequest,
  schema: CollectionSchema,
  canEmbed: (embedder: string) => boolean,
): QueryRequest {
  if (typeof req !== "object" || req === null || (req.mode === undefined && req.text === undefined)) return req;
  if (req.mode === undefined && req.vector !== undefined) return req; // text and vector: hybrid, as given
  const { mode, ...rest } = req;
  if (mode !== undefined && !QUERY_MODES.includes(mode))
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      { path: "mode", message: `must be one of ${QUERY_MODES.join(", ")}, got ${JSON.stringify(mode)}` },
    ]);
  const text = queryString(rest.text);
  const embedFor = embeddingVector(schema);
  const hasTextFields = Object.keys(schema.text ?? {}).length > 0;
  // A blank text has nothing to embed: by default it stays a (matchless) text query.
  const embeddable = text !== undefined && text.trim() !== "" && embedFor !== undefined;
  const embedder = embedFor === undefined ? undefined : schema.vectors[embedFor].embedder!;
  const chosen: QueryMode =
    mode ?? (hasTextFields ? (embeddable && canEmbed(embedder!) ? "hybrid" : "text") : embeddable ? "vector" : "text");
  const problems: Problem[] = [];
  if (chosen !== "vector" && rest.text === undefined)
    problems.push({ path: "text", message: `mode "${chosen}" searches the text fields: give a text` });
  if (chosen !== "text" && rest.vector === undefined) {
    if (rest.text === undefined)
      problems.push({ path: "vector", message: `mode "${chosen}" needs a vector or a text` });
    else if (text !== undefined && embedFor === undefined)
      problems.push({
        path: "mode",
        message: `mode "${chosen}" needs a vector: this collection has no single vector bound to an embedder to embed the text with, so pass vector ({ name: "text" } names one)`,
      });
    else if (text !== undefined && !canEmbed(embedder!))
      problems.push({
        path: "mode",
        message: `mode "${chosen}" embeds the text with embedder "${embedder}", which this database was not opened with: open(path, { embedders: { ${embedder}: ... } }), or pass a vector`,
      });
    else if (text !== undefined) rest.vector = { [embedFor!]: text };
  }
  if (problems.length > 0) throw QuiverError.fromProblems("INVALID_ARGUMENT", problems);
  if (chosen === "vector") delete rest.text;
  if (chosen === "text") delete rest.vector;
  return rest;
}
