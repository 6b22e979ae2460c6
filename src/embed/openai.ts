/**
 * Any OpenAI-compatible embeddings endpoint (POST {baseURL}/embeddings): OpenAI itself, Ollama's
 * /v1, vLLM, LM Studio, llama.cpp's server, LiteLLM, Azure-style gateways.
 */
import type { Embedder } from "./embedder.js";
import { embeddingList, postJson, type HttpOptions } from "./http.js";

export interface OpenAIEmbedderOptions extends HttpOptions {
  /** e.g. `https://api.openai.com/v1`, `http://localhost:11434/v1` (no trailing `/embeddings`). */
  baseURL: string;
  /** Sent as `Authorization: Bearer ...`; omit for local servers that need none. */
  apiKey?: string;
  /** e.g. `text-embedding-3-small`, `nomic-embed-text`. */
  model: string;
  /** Expected dimension; also sent as `dimensions` when `sendDimensions` is true (OpenAI's v3 models can shorten). */
  dim?: number;
  sendDimensions?: boolean;
  /** Texts per request (default 96). */
  maxBatch?: number;
}

/**
 * @example
 * const e = openAIEmbedder({ baseURL: "https://api.openai.com/v1", apiKey: process.env.OPENAI_API_KEY, model: "text-embedding-3-small", dim: 1536 });
 */
export function openAIEmbedder(opts: OpenAIEmbedderOptions): Embedder {
  const url = `${opts.baseURL.replace(/\/+$/, "")}/embeddings`;
  const label = `openai-compatible ${opts.model}`;
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
  return {
    id: `openai:${opts.baseURL.replace(/\/+$/, "")}:${opts.model}${opts.dim && opts.sendDimensions ? `:${opts.dim}` : ""}`,
    dim: opts.dim,
    maxBatch: opts.maxBatch ?? 96,
    async embed(texts, signal) {
      const body: Record<string, unknown> = { model: opts.model, input: texts, encoding_format: "float" };
      if (opts.sendDimensions && opts.dim) body.dimensions = opts.dim;
      return embeddingList(
        await postJson(url, body, label, { ...opts, headers }, signal),
        texts.length,
        label,
        opts.dim,
      );
    },
  };
}
