/** Ollama's native embedding API (POST {baseURL}/api/embed), for servers without the /v1 layer. */
import type { Embedder } from "./embedder.js";
import { EmbedderError } from "./embedder.js";
import { postJson, toVector, type HttpOptions } from "./http.js";

export interface OllamaEmbedderOptions extends HttpOptions {
  /** Default `http://127.0.0.1:11434`. */
  baseURL?: string;
  /** e.g. `nomic-embed-text`, `mxbai-embed-large`, `all-minilm`. */
  model: string;
  dim?: number;
  /** Cut inputs longer than the model's context instead of failing (Ollama's `truncate`, default true). */
  truncate?: boolean;
  maxBatch?: number;
}

/**
 * @example
 * const e = ollamaEmbedder({ model: "nomic-embed-text", dim: 768 });
 */
export function ollamaEmbedder(opts: OllamaEmbedderOptions): Embedder {
  const base = (opts.baseURL ?? "http://127.0.0.1:11434").replace(/\/+$/, "");
  const label = `ollama ${opts.model}`;
  return {
    id: `ollama:${base}:${opts.model}`,
    dim: opts.dim,
    maxBatch: opts.maxBatch ?? 32,
    async embed(texts, signal) {
      const json = (await postJson(
        `${base}/api/embed`,
        { model: opts.model, input: texts, truncate: opts.truncate ?? true },
        label,
        opts,
        signal,
      )) as { embeddings?: unknown[] };
      if (!Array.isArray(json?.embeddings) || json.embeddings.length !== texts.length) {
        throw new EmbedderError(`${label}: expected ${texts.length} vectors in "embeddings"`, false);
      }
      return json.embeddings.map((v) => toVector(v, label, opts.dim));
    },
  };
}
