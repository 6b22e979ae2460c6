/**
 * The server's API key file (hashes only, src/server/keys.ts) kept in the cluster's Catalog under
 * `server/keys`, so a key created through any node works on every node. The Catalog's version is
 * the KeyFile's version: two nodes changing keys at once are ordered by compare-and-set.
 */
import type { KeyFile } from "../../server/keys.js";
import type { Catalog } from "../catalog.js";

export const KEYS_CATALOG_KEY = "server/keys";

export function catalogKeyFile(catalog: Catalog): KeyFile {
  return {
    shared: true,
    async load() {
      const found = await catalog.get(KEYS_CATALOG_KEY);
      return found && { bytes: new TextEncoder().encode(found.value), version: found.version };
    },
    save(bytes, version) {
      return catalog.put(KEYS_CATALOG_KEY, new TextDecoder().decode(bytes), version);
    },
  };
}
