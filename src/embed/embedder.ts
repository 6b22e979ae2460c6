/**
 * The Embedder interface every provider implements (local model, OpenAI-compatible HTTP, Ollama),
 * and the error a provider throws so the batching layer knows what is worth retrying.
 */

/**
 * Turns texts into vectors. Providers do one thing: embed one batch, in order. Batching, retries,
 * de-duplication and caching are added once, by `managedEmbedder` (src/embed/managed.ts).
 * @example
 * const e: Embedder = openAIEmbedder({ baseURL: "http://localhost:11434/v1", model: "nomic-embed-text", dim: 768 });
 * const [v] = await e.embed(["hello"]);
 */
export interface Embedder {
  /** Identity of the model, e.g. `openai:text-embedding-3-small`; part of every cache key. */
  readonly id: string;
  /** Output dimension, when known before the first call. */
  readonly dim?: number;
  /** Most texts per request the provider accepts (default 64). */
  readonly maxBatch?: number;
  /** One vector per text, in order. */
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
  /** Releases what it holds (the local model's worker threads); the application calls it when done. */
  close?(): Promise<void>;
}

/** A provider failure. `retryable` covers rate limits (429), server errors (5xx) and network faults. */
export class EmbedderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly options: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "EmbedderError";
  }
}

export { cosine } from "../core/vectors/cosine.js";
