/**
 * What marks an image collection and a picture in a query: cheap checks for the callers that must
 * not load image-query.ts (MCP, ingest) and for the input hook that image-query.ts installs.
 */
import type { ImageQueryInput } from "../api/query.js";
import type { CollectionSchema } from "../core/schema/schema.js";

/** Whether a collection was made by imageSchema (an `image` vector, images indexed by their hash). */
export function isImageCollection(schema: CollectionSchema): boolean {
  return schema.indexes?.imageHash !== undefined && schema.vectors.image !== undefined;
}

/** `{ base64: string }` and nothing else (anything more is left for validation to report). */
export function isImageQueryInput(v: unknown): v is ImageQueryInput {
  return (
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    typeof (v as ImageQueryInput).base64 === "string" &&
    Object.keys(v).length === 1
  );
}
