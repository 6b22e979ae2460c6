/**
 * The Catalog seam: small values under keys (collection schemas, shard maps, members, API key
 * hashes) changed only by compare-and-set on a version, so two nodes never overwrite each other.
 * Implementations: LocalCoordinator, EtcdCoordinator.
 */

export interface CatalogValue {
  value: string;
  /** 1 after the first put, +1 per change; an absent key has version 0. */
  version: number;
}

export interface Catalog {
  get(key: string): Promise<CatalogValue | null>;
  /**
   * Writes `value` only if the key's version is `expectedVersion` (0: it must be absent); returns
   * whether it wrote.
   */
  put(key: string, value: string, expectedVersion: number): Promise<boolean>;
  /** Every key starting with `prefix`, in key order, with its value. */
  list(prefix: string): Promise<(CatalogValue & { key: string })[]>;
}
