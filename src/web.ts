/**
 * Quiver's package entry for browsers, Workers and edge runtimes (the `browser`, `worker`, `workerd`
 * and `default` export conditions): no `node:*` import. `open()` keeps a database in memory, or, given
 * a name, persistently in the browser (OPFS in a dedicated Worker, IndexedDB elsewhere: docs/browser.md).
 * English text analysis is built in; other languages' stop-word lists load on demand: `open()` loads
 * those a stored or new schema names, and `loadStopWords` loads any ahead of time.
 */
import { englishTextPlugins, loadKnownStopWords } from "./analyzers/languages.js";
import { browserDirectory } from "./browser/index.js";
import { type OpenDatabase, type OpenOptions, openOn } from "./open.js";
import type { Directory } from "./storage/directory.js";
import { MemoryDirectory } from "./storage/memory-directory.js";

export * from "./neutral.js";
export { englishTextPlugins, loadStopWords } from "./analyzers/languages.js";
export { browserDirectory, IndexedDbDirectory, OpfsDirectory } from "./browser/index.js";

/**
 * Opens the database named `name` in this origin's persistent storage (created if missing), the one
 * in `dir`, or an in-memory database when given nothing.
 * @example
 * const db = await open("notes"); // OPFS in a Worker, IndexedDB on the main thread
 * The stop-word lists its schemas name (`stopWords: "fr"`) are fetched when a collection needing one
 * is opened or created; `text: await loadStopWords([...])` loads them ahead of time instead.
 */
export async function open(name?: string | Directory, options: OpenOptions = {}): Promise<OpenDatabase> {
  const dir =
    name === undefined ? new MemoryDirectory() : typeof name === "string" ? await browserDirectory(name) : name;
  return openOn(dir, { loadStopWords: loadKnownStopWords, ...options }, englishTextPlugins);
}
