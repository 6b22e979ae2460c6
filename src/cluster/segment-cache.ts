/**
 * The local disk cache of sealed objects (segments, graphs) in front of the object store: files named
 * by the sha256 of their content, checked against it on every read (a damaged file is dropped and
 * fetched again), bounded in bytes with least-recently-used eviction. The order of use is kept with
 * the files themselves (CacheFiles.touch), so a restarted node keeps its cache and its order. Reads
 * of cached objects need no object store at all, so they go on while it is unreachable.
 */
import { sha256Hex } from "./batch.js";
import { type ObjectStore, getVerified } from "./object-store.js";

/** Where the cache keeps its files: cluster/node/disk-cache-files.ts on a local disk. */
export interface CacheFiles {
  /** The file's bytes, or null when it is not there. */
  read(name: string): Promise<Uint8Array | null>;
  /** Stores the file whole (never half-written, even across a crash). */
  write(name: string, bytes: Uint8Array): Promise<void>;
  /** Removes the file; a missing one is not an error. */
  remove(name: string): Promise<void>;
  /** Every file with its size and the time it was last written or touched (ms). */
  list(): Promise<{ name: string; size: number; lastUsed: number }[]>;
  /** Marks the file as used now. */
  touch(name: string): Promise<void>;
}

export interface SegmentCacheStats {
  /** Reads answered from the cache. */
  hits: number;
  /** Reads that went to the object store. */
  fetches: number;
  /** Files removed to stay within the size bound. */
  evictions: number;
  /** Cached files that failed their sha256 and were fetched again. */
  damaged: number;
}

export class SegmentCache {
  readonly stats: SegmentCacheStats = { hits: 0, fetches: 0, evictions: 0, damaged: 0 };

  constructor(
    private readonly files: CacheFiles,
    private readonly objects: ObjectStore,
    /** The bound on the cached bytes (an object larger than it is served, never cached). */
    private readonly maxBytes: number,
  ) {}

  /** The bytes of object `key`, which must hash to `sha256`: from the cache, else fetched and cached. */
  async get(key: string, sha256: string): Promise<Uint8Array> {
    const name = `${sha256}.obj`;
    const cached = await this.files.read(name);
    if (cached !== null) {
      if ((await sha256Hex(cached)) === sha256) {
        this.stats.hits++;
        await this.files.touch(name);
        return cached;
      }
      this.stats.damaged++;
      await this.files.remove(name);
    }
    const bytes = await getVerified(this.objects, key, sha256, "segment cache");
    this.stats.fetches++;
    if (bytes.length <= this.maxBytes) {
      await this.files.write(name, bytes);
      await this.evict(name);
    }
    return bytes;
  }

  /** Removes the least recently used files (never `keep`) until the cache is within its bound. */
  private async evict(keep: string): Promise<void> {
    const files = await this.files.list();
    let total = files.reduce((sum, f) => sum + f.size, 0);
    for (const f of files.sort((a, b) => a.lastUsed - b.lastUsed)) {
      if (total <= this.maxBytes) return;
      if (f.name === keep) continue;
      await this.files.remove(f.name);
      total -= f.size;
      this.stats.evictions++;
    }
  }
}
