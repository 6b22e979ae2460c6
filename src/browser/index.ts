/**
 * The browser's persistent directories and the choice between them: OPFS where synchronous access
 * handles exist (dedicated Workers), IndexedDB elsewhere (the main thread, shared and service workers).
 */
import { QuiverError } from "../core/errors/errors.js";
import type { Directory } from "../storage/directory.js";
import { IndexedDbDirectory } from "./idb-directory.js";
import { OpfsDirectory } from "./opfs-directory.js";

export { IndexedDbDirectory } from "./idb-directory.js";
export { OpfsDirectory } from "./opfs-directory.js";

/** The persistent directory named `name` in this context: OPFS in a Worker, IndexedDB otherwise. */
export function browserDirectory(name: string): Promise<Directory> {
  if (OpfsDirectory.available()) return OpfsDirectory.open(name);
  if (IndexedDbDirectory.available()) return IndexedDbDirectory.open(name);
  throw new QuiverError(
    "UNSUPPORTED",
    `no persistent storage here for ${JSON.stringify(name)} (neither OPFS nor IndexedDB); open() with no name for memory`,
  );
}
