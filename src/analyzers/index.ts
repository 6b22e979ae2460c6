/**
 * `quiverdb/analyzers`: the analyzers' language resources, to pass to `open(…, { text })` of the
 * runtime-neutral entry. `defaultTextPlugins` holds every language (what the Node entry uses);
 * `englishTextPlugins` only English, and `loadStopWords()` fetches other languages on demand.
 */
export { defaultTextPlugins } from "./plugins.js";
export { englishTextPlugins, loadStopWords } from "./languages.js";
export { ISO1, LUCENE_ENGLISH } from "./resources.js";
