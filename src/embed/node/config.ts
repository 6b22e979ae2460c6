/**
 * Embedders for the command line and `quiver serve` / `quiver mcp`, configured by the operator
 * (flags and environment variables), never by a request: `local` (the offline model, loaded on
 * first use), `openai` when QUIVER_OPENAI_BASE_URL (or OPENAI_API_KEY) is set, `ollama` when
 * QUIVER_OLLAMA_MODEL is set.
 */
import { availableParallelism } from "node:os";
import type { Embedder } from "../embedder.js";
import { ollamaEmbedder } from "../ollama.js";
import { openAIEmbedder } from "../openai.js";
import { localEmbedder } from "./local-use.js";
import { EmbedderRegistry } from "../bind.js";
import type { ImageEmbedder } from "../image.js";
import { withImageQueries } from "../image-query.js";
import { httpImageEmbedder } from "../image-http.js";
import { encodePng } from "./image-codec.js";
import { offlineImageEmbedder } from "./image-mobilenet.js";
import { transformersImageEmbedder, type TransformersDtype } from "./image-transformers.js";

/**
 * Environment:
 * - QUIVER_OPENAI_BASE_URL (default https://api.openai.com/v1 when OPENAI_API_KEY is set), QUIVER_OPENAI_API_KEY or
 *   OPENAI_API_KEY, QUIVER_OPENAI_MODEL (default text-embedding-3-small), QUIVER_OPENAI_DIM
 * - QUIVER_OLLAMA_BASE_URL (default http://127.0.0.1:11434), QUIVER_OLLAMA_MODEL, QUIVER_OLLAMA_DIM
 */
export function embeddersFromEnv(env: Record<string, string | undefined> = process.env): Record<string, Embedder> {
  const out: Record<string, Embedder> = { local: localEmbedder() };
  const key = env.QUIVER_OPENAI_API_KEY ?? env.OPENAI_API_KEY;
  const base = env.QUIVER_OPENAI_BASE_URL ?? (key ? "https://api.openai.com/v1" : undefined);
  if (base) {
    out.openai = openAIEmbedder({
      baseURL: base,
      apiKey: key,
      model: env.QUIVER_OPENAI_MODEL ?? "text-embedding-3-small",
      dim: env.QUIVER_OPENAI_DIM ? Number(env.QUIVER_OPENAI_DIM) : undefined,
    });
  }
  if (env.QUIVER_OLLAMA_MODEL) {
    out.ollama = ollamaEmbedder({
      baseURL: env.QUIVER_OLLAMA_BASE_URL,
      model: env.QUIVER_OLLAMA_MODEL,
      dim: env.QUIVER_OLLAMA_DIM ? Number(env.QUIVER_OLLAMA_DIM) : undefined,
    });
  }
  return out;
}

/**
 * Image embedders for `quiver ingest` of images and `quiver query --image`: `offline` (MobileNetV2
 * from nsfwjs, loaded on first use, on a worker thread per core) always; `http` when QUIVER_IMAGE_BASE_URL is set (with
 * QUIVER_IMAGE_MODEL, and QUIVER_IMAGE_API_KEY, QUIVER_IMAGE_DIM when needed); `clip` (text-image, a CLIP or SigLIP
 * model on transformers.js) when QUIVER_CLIP_MODEL names a local model folder (QUIVER_CLIP_DTYPE picks its weight
 * files, default fp32). A folder that is missing or incomplete fails here, naming what is missing.
 */
export function imageEmbeddersFromEnv(
  env: Record<string, string | undefined> = process.env,
  offlineThreads = availableParallelism(),
): Record<string, ImageEmbedder> {
  // By default one worker thread per core (an ingest's batches): the network runs on one thread each
  // (src/embed/node/image-mobilenet.ts), and each thread holds its own copy of it.
  const out: Record<string, ImageEmbedder> = { offline: offlineImageEmbedder({ threads: offlineThreads }) };
  if (env.QUIVER_IMAGE_BASE_URL)
    out.http = httpImageEmbedder({
      baseURL: env.QUIVER_IMAGE_BASE_URL,
      apiKey: env.QUIVER_IMAGE_API_KEY,
      model: env.QUIVER_IMAGE_MODEL ?? "jina-clip-v2",
      dim: env.QUIVER_IMAGE_DIM ? Number(env.QUIVER_IMAGE_DIM) : undefined,
      encode: encodePng,
    });
  if (env.QUIVER_CLIP_MODEL)
    out.clip = transformersImageEmbedder({
      modelPath: env.QUIVER_CLIP_MODEL,
      dtype: env.QUIVER_CLIP_DTYPE as TransformersDtype | undefined,
    });
  return out;
}

/**
 * What `quiver serve --cluster` embeds with, as single-node `quiver serve` opens its database:
 * the text embedders, and the image embedders for queries of image collections by words or by a
 * picture (one worker thread: one query's picture at a time). `close` ends their worker threads.
 */
export function clusterInputFromEnv(env: Record<string, string | undefined> = process.env): {
  input: ReturnType<typeof withImageQueries>;
  close(): Promise<void>;
} {
  const images = imageEmbeddersFromEnv(env, 1);
  return {
    input: withImageQueries(new EmbedderRegistry(embeddersFromEnv(env)), images),
    // The offline and CLIP embedders hold worker threads or a model; their types do not say so.
    close: async () => {
      await Promise.all(Object.values(images).map((e) => (e as { close?(): Promise<void> }).close?.()));
    },
  };
}

/** Closes the embedders that hold resources (the local model's worker threads). */
export async function closeEmbedders(embedders: Record<string, Embedder>): Promise<void> {
  await Promise.all(Object.values(embedders).map((e) => e.close?.()));
}
