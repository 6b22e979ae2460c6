/**
 * An ObjectStore that keeps the objects this node PUT most recently (up to a byte bound, oldest
 * dropped first) and answers GETs of them from memory: a node's replicas follow the shards its own
 * writer appends to, and would otherwise GET every batch back from the store right after PUTting it.
 * Objects are immutable (every PUT is under a fresh key), so a kept copy is never stale; a delete drops
 * it. Readers still check each object against the sha256 its pointer names (getVerified).
 */
import type { ObjectInfo, ObjectStore } from "./object-store.js";

export class RecentPuts implements ObjectStore {
  /** Insertion order is age order: the first entry is the oldest. */
  private readonly kept = new Map<string, Uint8Array>();
  private bytes = 0;
  /** GETs answered from memory (for tests and status). */
  hits = 0;

  constructor(
    private readonly inner: ObjectStore,
    private readonly maxBytes = 32 * 2 ** 20,
  ) {}

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.inner.put(key, bytes);
    if (bytes.length > this.maxBytes / 4) return; // a segment or graph: not what replicas GET back
    this.drop(key);
    this.kept.set(key, bytes);
    this.bytes += bytes.length;
    for (const [old, b] of this.kept) {
      if (this.bytes <= this.maxBytes) break;
      this.kept.delete(old);
      this.bytes -= b.length;
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    const bytes = this.kept.get(key);
    if (bytes) {
      this.hits++;
      return bytes;
    }
    return this.inner.get(key);
  }

  async delete(key: string): Promise<void> {
    this.drop(key);
    await this.inner.delete(key);
  }

  list(prefix: string): Promise<ObjectInfo[]> {
    return this.inner.list(prefix);
  }

  private drop(key: string): void {
    const b = this.kept.get(key);
    if (!b) return;
    this.kept.delete(key);
    this.bytes -= b.length;
  }
}
