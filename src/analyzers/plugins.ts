/**
 * Language resources for the analyzers, from well-kept npm packages: the Porter stemmer of
 * `stemmer` (the algorithm Lucene's EnglishAnalyzer uses) and the stop-word lists of `stopword`
 * (about 60 languages). This adapter sits outside the core so the core keeps zero dependencies;
 * the Node entry passes it to every database it opens.
 */
import { stemmer } from "stemmer";
import * as sw from "stopword";
import type { TextPlugins } from "../core/analysis/analyzer.js";
import { ISO1, LUCENE_ENGLISH } from "./resources.js";

function stopWordLists(): Record<string, readonly string[]> {
  const lists: Record<string, readonly string[]> = { en: LUCENE_ENGLISH };
  const lib = sw as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(lib)) {
    if (/^[a-z]{3}$/.test(key) && Array.isArray(value)) lists[key] = value as string[];
  }
  for (const [two, three] of Object.entries(ISO1)) if (lists[three] && !lists[two]) lists[two] = lists[three];
  return lists;
}

/** The language resources the package entry gives every database. */
export const defaultTextPlugins: TextPlugins = {
  stemmers: { en: stemmer },
  stopWords: stopWordLists(),
};
