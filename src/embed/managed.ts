/**
 * Wraps any provider with what every caller needs: duplicate texts embedded once, a cache keyed by
 * content hash, batches of the provider's size, and retries with exponential backoff (honouring
 * Retry-After) for rate limits and transient failures. What still fails becomes a QuiverError
 * `EMBEDDING_FAILED` naming the provider.
 */
import { QuiverError } from "../core/errors/errors.js";
import { contentHash, MemoryEmbeddingCache, type EmbeddingCache } from "./cache.js";
import { EmbedderError, type Embedder } from "./embedder.js";

export interface ManagedOptions {
  /** Shared cache; default a fresh 10,000-entry LRU. `null` disables caching. */
  cache?: EmbeddingCache | null;
  /** Texts per provider call (default the provider's maxBatch, else 64). */
  batchSize?: number;
  /** Retries after the first attempt for retryable failures (default 4). */
  retries?: number;
  /** First backoff in ms, doubled each retry, with jitter (default 250). */
  backoffMs?: number;
  /** Longest single wait, also capping Retry-After (default 20,000 ms). */
  maxBackoffMs?: number;
  /** Batches in flight at once (default 1: local models are single-threaded, hosted APIs rate-limit). */
  concurrency?: number;
}

const MANAGED = Symbol("quiver.managedEmbedder");

export interface ManagedEmbedder extends Embedder {
  readonly [MANAGED]: true;
  readonly inner: Embedder;
  readonly cache: EmbeddingCache | null;
  /** Provider calls made (after cache hits and de-duplication), for tests and stats. */
  readonly stats: { calls: number; texts: number; retries: number };
}

export function isManaged(e: Embedder): e is ManagedEmbedder {
  return (e as Partial<ManagedEmbedder>)[MANAGED] === true;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Adds batching, retries, de-duplication and a content-hash cache to a provider. Idempotent: a
 * managed embedder is returned as it is.
 * @example
 * const e = managedEmbedder(openAIEmbedder({ baseURL, apiKey, model }), { retries: 6 });
 */
export function managedEmbedder(inner: Embedder, opts: ManagedOptions = {}): ManagedEmbedder {
  if (isManaged(inner)) return inner;
  const cache = opts.cache === null ? null : (opts.cache ?? new MemoryEmbeddingCache());
  const batchSize = Math.max(1, opts.batchSize ?? inner.maxBatch ?? 64);
  const retries = opts.retries ?? 4;
  const backoff = opts.backoffMs ?? 250;
  const maxBackoff = opts.maxBackoffMs ?? 20_000;
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const stats = { calls: 0, texts: 0, retries: 0 };

  async function callWithRetry(batch: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        stats.calls++;
        const out = await inner.embed(batch, signal);
        if (out.length !== batch.length)
          throw new EmbedderError(`${inner.id} returned ${out.length} vectors for ${batch.length} texts`, false);
        stats.texts += batch.length;
        return out;
      } catch (e) {
        if (signal?.aborted) throw e;
        const retryable = e instanceof EmbedderError ? e.retryable : false;
        if (!retryable || attempt >= retries) {
          const message = e instanceof Error ? e.message : String(e);
          const tries = attempt + 1;
          throw new QuiverError(
            "EMBEDDING_FAILED",
            `embedder ${inner.id}: ${message}${tries > 1 ? ` (after ${tries} attempts)` : ""}`,
            { cause: e },
          );
        }
        stats.retries++;
        const hinted = e instanceof EmbedderError ? e.options.retryAfterMs : undefined;
        const exp = backoff * 2 ** attempt * (0.75 + Math.random() * 0.5);
        await sleep(Math.min(maxBackoff, Math.max(hinted ?? 0, exp)), signal);
      }
    }
  }

  const managed: ManagedEmbedder = {
    [MANAGED]: true,
    inner,
    cache,
    stats,
    id: inner.id,
    get dim() {
      return inner.dim;
    },
    maxBatch: batchSize,
    async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
      const out: (Float32Array | undefined)[] = new Array(texts.length);
      const keys = cache
        ? await Promise.all(texts.map(async (t) => `${inner.id}\u0000${await contentHash(t)}`))
        : texts;
      const todo = new Map<string, number[]>(); // distinct missing text -> positions
      texts.forEach((t, i) => {
        const hit = cache?.get(keys[i]);
        if (hit) out[i] = hit;
        else {
          const at = todo.get(t);
          if (at) at.push(i);
          else todo.set(t, [i]);
        }
      });
      const distinct = [...todo.keys()];
      const batches: string[][] = [];
      for (let i = 0; i < distinct.length; i += batchSize) batches.push(distinct.slice(i, i + batchSize));
      let next = 0;
      const worker = async () => {
        while (next < batches.length) {
          const batch = batches[next++];
          const vectors = await callWithRetry(batch, signal);
          batch.forEach((t, j) => {
            const positions = todo.get(t)!;
            for (const i of positions) out[i] = vectors[j];
            cache?.set(keys[positions[0]], vectors[j]);
          });
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
      return out as Float32Array[];
    },
  };
  return managed;
}
