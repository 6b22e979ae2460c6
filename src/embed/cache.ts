/**
 * The embedding cache: vectors keyed by the embedder's id and the SHA-256 of the text, so the same
 * content is never embedded twice (re-ingesting a folder, a memory recalled with its own words).
 * The memory implementation is a bounded LRU; any store with get/set can stand in for it.
 */

export interface EmbeddingCache {
  get(key: string): Float32Array | undefined;
  set(key: string, vector: Float32Array): void;
}

/** A least-recently-used cache holding at most `capacity` vectors (default 10,000). */
export class MemoryEmbeddingCache implements EmbeddingCache {
  private readonly map = new Map<string, Float32Array>();
  hits = 0;
  misses = 0;

  constructor(readonly capacity = 10_000) {}

  get(key: string): Float32Array | undefined {
    const v = this.map.get(key);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(key: string, vector: Float32Array): void {
    this.map.delete(key);
    this.map.set(key, vector);
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
  }

  get size(): number {
    return this.map.size;
  }
}

const utf8 = new TextEncoder();

/** Hex SHA-256 of a text or bytes (Web Crypto: available in Node, browsers, Deno, Bun and workers). */
export async function contentHash(content: string | Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", typeof content === "string" ? utf8.encode(content) : content);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
