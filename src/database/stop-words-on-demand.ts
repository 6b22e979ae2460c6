/**
 * Stop-word lists that a schema names but the database was not given, loaded just before the schema
 * is used: a collection being created, or one found in the manifest or the log when a database opens
 * (or when a reader follows the writer). The browser entry passes its on-demand loader, so a stored
 * database opens without its caller knowing the languages; without a loader nothing is fetched and
 * validation reports the missing list as before.
 */
import type { TextPlugins } from "../core/analysis/analyzer.js";

/** Loads the lists of the codes it knows among `langs`; codes it does not know are left out of the result. */
export type StopWordLoader = (langs: string[]) => Promise<Record<string, readonly string[]>>;

/** The language codes a schema's text fields name as `stopWords` (the schema may be unvalidated input). */
export function stopWordLanguages(schema: unknown): string[] {
  const text = (schema as { text?: unknown } | null)?.text;
  if (typeof text !== "object" || text === null) return [];
  const langs = new Set<string>();
  for (const field of Object.values(text)) {
    const sw = (field as { stopWords?: unknown } | null)?.stopWords;
    if (typeof sw === "string") langs.add(sw);
  }
  return [...langs];
}

/**
 * Adds to `env.text` the lists `schema` needs that `env.loadStopWords` can supply. `env.text` is
 * replaced, never changed in place: the objects it came from may be the caller's.
 */
export async function ensureStopWords(
  env: { text: TextPlugins; loadStopWords?: StopWordLoader },
  schema: unknown,
): Promise<void> {
  const missing = stopWordLanguages(schema).filter((lang) => !env.text.stopWords?.[lang]);
  if (!env.loadStopWords || missing.length === 0) return;
  const lists = await env.loadStopWords(missing);
  if (Object.keys(lists).length > 0) env.text = { ...env.text, stopWords: { ...env.text.stopWords, ...lists } };
}
