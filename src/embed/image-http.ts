/**
 * Hosted multimodal embedding APIs that take images and texts in one OpenAI-style request
 * (POST {baseURL}/embeddings, `input: [{ image: "data:image/...;base64,..." } | { text }]`, answered as
 * `{ data: [{ embedding, index }] }`): Jina's CLIP and v4 models, and self-hosted servers that follow
 * them. Texts and images land in the same space, so this provider does text-to-image search.
 */
import { QuiverError } from "../core/errors/errors.js";
import { embeddingList, postJson, type HttpOptions } from "./http.js";
import {
  base64Of,
  checkRgba,
  isRgbaImage,
  l2Normalize,
  sniffImageFormat,
  type ImageEmbedder,
  type ImageInput,
  type RgbaImage,
} from "./image.js";

export interface HttpImageEmbedderOptions extends HttpOptions {
  /** e.g. `https://api.jina.ai/v1` (no trailing `/embeddings`). */
  baseURL: string;
  /** Sent as `Authorization: Bearer ...`. */
  apiKey?: string;
  /** e.g. `jina-clip-v2`. */
  model: string;
  dim?: number;
  /** Images per request (default 16). */
  maxBatch?: number;
  /**
   * Encodes decoded RGBA for the request (e.g. encodePng from src/embed/portable/image-codec.ts, which
   * Node's wiring passes); without it, RGBA input is refused and encoded bytes are sent as they are.
   */
  encode?: (image: RgbaImage) => Uint8Array;
}

/** The `data:` URL of one input: encoded bytes as they are (JPEG, PNG, WebP, GIF), RGBA through `encode`. */
function dataUrl(image: ImageInput, at: number, encode: HttpImageEmbedderOptions["encode"]): string {
  const path = `images[${at}]`;
  let bytes: Uint8Array;
  if (isRgbaImage(image)) {
    if (!encode)
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        { path, message: "decoded RGBA needs the provider's `encode` option; pass the file's bytes instead" },
      ]);
    bytes = encode(checkRgba(image, path));
  } else bytes = image;
  const format = sniffImageFormat(bytes);
  if (format === null)
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path, message: "not a JPEG, PNG, WebP or GIF image" }]);
  return `data:image/${format};base64,${base64Of(bytes)}`;
}

/**
 * @example
 * const e = httpImageEmbedder({ baseURL: "https://api.jina.ai/v1", apiKey: process.env.JINA_API_KEY, model: "jina-clip-v2", dim: 1024 });
 * const [photo] = await e.embedImages([readFileSync("cat.jpg")]);
 * const [query] = await e.embedTexts!(["a cat on a sofa"]);
 */
export function httpImageEmbedder(opts: HttpImageEmbedderOptions): ImageEmbedder {
  const base = opts.baseURL.replace(/\/+$/, "");
  const url = `${base}/embeddings`;
  const label = `multimodal ${opts.model}`;
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
  const call = async (input: object[], signal?: AbortSignal) =>
    embeddingList(
      await postJson(url, { model: opts.model, input }, label, { ...opts, headers }, signal),
      input.length,
      label,
      opts.dim,
    ).map(l2Normalize);
  return {
    id: `http:${base}:${opts.model}`,
    dim: opts.dim,
    maxBatch: opts.maxBatch ?? 16,
    embedImages: async (images, signal) =>
      call(
        images.map((image, i) => ({ image: dataUrl(image, i, opts.encode) })),
        signal,
      ),
    embedTexts: async (texts, signal) =>
      call(
        texts.map((text) => ({ text })),
        signal,
      ),
  };
}
