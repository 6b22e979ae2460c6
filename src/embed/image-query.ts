/**
 * Queries of an image collection by words or by a picture, wherever a query comes from (the embedded
 * API, HTTP, the client, MCP): `vector: { image: "a red circle" }` (or `vector: "a red circle"`) is
 * embedded by the text side of the model that made the collection's vectors (text-to-image, CLIP-style
 * models only), and `vector: { image: { base64 } }` by its image side (image-to-image). The model is
 * found by the id the collection's records carry (`payload.embedder`), among the image embedders the
 * database was opened with: a request never chooses or loads one. Node's open() (src/index.ts) puts
 * `withImageQueries` in front of its embedder registry when given image embedders; the browser and
 * worker entries never load this module (the core bundle's budget).
 */
import type { ImageQueryInput } from "../api/query.js";
import type { CollectionApi } from "../api/types.js";
import { QuiverError } from "../core/errors/errors.js";
import type { CollectionSchema } from "../core/schema/schema.js";
import { imageEmbeddingFailed, type ImageEmbedder } from "./image.js";
import type { InputHook } from "../database/collection.js";
import { isImageCollection, isImageQueryInput } from "./image-collection.js";

/** The embedder id an image collection's records were made with, or null when it is empty. */
export async function storedImageEmbedder(coll: Pick<CollectionApi, "scroll">): Promise<string | null> {
  const page = await coll.scroll({ limit: 1, withPayload: true });
  const id = page.records[0]?.payload?.embedder;
  return typeof id === "string" ? id : null;
}

function bytesOf(input: ImageQueryInput, path: string): Uint8Array {
  const text = input.base64.startsWith("data:") ? input.base64.slice(input.base64.indexOf(",") + 1) : input.base64;
  let binary: string;
  try {
    binary = atob(text.replace(/\s+/g, ""));
  } catch {
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path, message: "is not valid base64" }]);
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** The query's image part (words or a picture) and its path, or null when it has none. */
function imagePart(vector: unknown): { value: string | ImageQueryInput; path: string } | null {
  if (typeof vector === "string") return { value: vector, path: "vector" };
  if (typeof vector !== "object" || vector === null || Array.isArray(vector) || ArrayBuffer.isView(vector)) return null;
  const image = (vector as Record<string, unknown>).image;
  if (typeof image === "string" || isImageQueryInput(image)) return { value: image, path: "vector.image" };
  return null;
}

/**
 * Whether a query's vector is for the image embedders: words or a picture for an image collection's
 * `image` vector, or a picture anywhere else (refused there). Numbers go the usual way.
 */
function imageQueryNeeded(vector: unknown, schema: CollectionSchema): boolean {
  if (isImageCollection(schema)) return imagePart(vector) !== null;
  return (
    typeof vector === "object" &&
    vector !== null &&
    !ArrayBuffer.isView(vector) &&
    Object.values(vector as Record<string, unknown>).some(isImageQueryInput)
  );
}

/** The input hook `registry` with queries of image collections answered by `embedders` first. */
export function withImageQueries(registry: InputHook, embedders: Record<string, ImageEmbedder>): InputHook {
  const list = Object.values(embedders);
  return {
    prepareRecords: (records, schema) => registry.prepareRecords(records, schema),
    canEmbed: (name) => registry.canEmbed(name),
    prepareQuery: (req, schema, coll) =>
      imageQueryNeeded(req.vector, schema)
        ? embedImageQuery(req, schema, coll, list)
        : registry.prepareQuery(req, schema, coll),
  };
}

/** The query with its words or picture embedded by the collection's model among `embedders`, or refused. */
async function embedImageQuery<T extends { vector?: unknown }>(
  req: T,
  schema: CollectionSchema,
  coll: CollectionApi,
  embedders: ImageEmbedder[],
): Promise<T> {
  if (!isImageCollection(schema))
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      {
        path: "vector",
        message: `{ base64 } is a picture, which only an image collection searches ("${coll.name}" is not one: quiver ingest makes them)`,
      },
    ]);
  const part = imagePart(req.vector);
  return part ? embedPart(req, part, coll, embedders) : req;
}

async function embedPart<T extends { vector?: unknown }>(
  req: T,
  { value, path }: { value: string | ImageQueryInput; path: string },
  coll: CollectionApi,
  embedders: ImageEmbedder[],
): Promise<T> {
  const refuse = (message: string) => QuiverError.fromProblems("INVALID_ARGUMENT", [{ path, message }]);
  const id = await storedImageEmbedder(coll);
  if (id === null) throw new QuiverError("NOT_FOUND", `image collection "${coll.name}" holds no images yet`);
  const embedder = embedders.find((e) => e.id === id);
  if (!embedder)
    throw refuse(
      `"${coll.name}" holds vectors of ${id}, an image embedder this database was not opened with ` +
        `(it has ${embedders.map((e) => e.id).join(", ") || "none"}); ` +
        "quiver serve binds the configured ones (QUIVER_CLIP_MODEL for CLIP/SigLIP, docs/images.md)",
    );
  let vector: Float32Array;
  if (typeof value === "string") {
    if (!embedder.embedTexts)
      throw refuse(
        `${id} embeds images only (image-to-image): query with a picture ({ base64 }), or ingest with a text-image embedder such as CLIP (docs/images.md)`,
      );
    if (value.trim() === "") throw refuse("is empty text; there is nothing to embed");
    [vector] = await embedder.embedTexts([value]).catch((e: unknown) => {
      throw imageEmbeddingFailed(e, id);
    });
  } else {
    // A file the codecs refuse is reported at the request's path, not the embedder's batch position.
    const at = `${path}.base64`;
    [vector] = await embedder.embedImages([bytesOf(value, at)]).catch((e: unknown) => {
      if (e instanceof QuiverError && e.code === "INVALID_ARGUMENT")
        throw QuiverError.fromProblems(
          "INVALID_ARGUMENT",
          e.problems.map((p) => ({ ...p, path: p.path.replace(/^images\[0\]/, at) })),
        );
      throw imageEmbeddingFailed(e, id);
    });
  }
  return { ...req, vector: { image: vector } };
}
