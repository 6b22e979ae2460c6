/**
 * What every package entry's `open()` shares: language resources merged over the entry's defaults,
 * the embedder registry installed as the database's input hook, and the database opened on a
 * Directory. Each entry (index.ts for Node, web.ts for browsers and workers, neutral.ts for any
 * runtime) only decides what a path means there and which text resources it brings.
 */
import type { TextPlugins } from "./core/analysis/analyzer.js";
import { Database, type DatabaseOptions } from "./database/database.js";
import { EmbedderRegistry } from "./embed/bind.js";
import type { Embedder } from "./embed/embedder.js";
import type { Directory } from "./storage/directory.js";
import type { InputHook } from "./database/collection.js";

export interface OpenOptions extends DatabaseOptions {
  /**
   * Embedders that vectors can be bound to by name in a schema (`{ embedder: "local" }`), so
   * upsert and query accept text. Only these are ever used: a schema or request names one, never loads one.
   */
  embedders?: Record<string, Embedder>;
}

/** A database opened by `open()`: with the embedders its schemas can bind to. */
export type OpenDatabase = Database & {
  /** The embedders schemas can bind to; `db.embedders.set(name, embedder)` adds one after opening. */
  readonly embedders: EmbedderRegistry;
};

/**
 * Opens the database in `dir`, with the entry's `defaults` text resources under the caller's own;
 * `wrapInput` puts an entry's own input handling in front of the registry (Node's image queries).
 */
export async function openOn(
  dir: Directory,
  options: OpenOptions,
  defaults: TextPlugins,
  wrapInput?: (registry: EmbedderRegistry) => InputHook,
): Promise<OpenDatabase> {
  const text = {
    stemmers: { ...defaults.stemmers, ...options.text?.stemmers },
    stopWords: { ...defaults.stopWords, ...options.text?.stopWords },
  };
  // The AI layer is built on the database, not inside it: its registry is the database's input hook.
  const embedders = new EmbedderRegistry(options.embedders);
  const db = await Database.openDirectory(dir, { ...options, text, inputHook: wrapInput?.(embedders) ?? embedders });
  return Object.assign(db, { embedders });
}
