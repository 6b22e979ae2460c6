/**
 * Analyzers turn a text field (or a query) into the terms the BM25 index stores. Built in:
 * `standard` (every language), `english` (standard + possessives, stop words, Porter stemming) and
 * `alnum` (the classic `[a-z0-9]+` tokens, to reproduce published BM25 runs).
 *
 * The core has no stemmer or stop-word list of its own (it imports no npm package): language
 * resources arrive as `TextPlugins`, which the Node entry fills from well-kept libraries
 * (src/analyzers/). An analyzer that needs a missing resource fails when the schema is used,
 * naming what is missing, never silently analyzing differently.
 */
import { QuiverError, type Problem } from "../errors/errors.js";
import { segmentWords } from "./tokenize.js";

/**
 * The version of what analysis produces (segmentation, lowercasing, stemming, stop words). Persisted
 * full-text postings record it, and postings of another version are rebuilt at open: raise it with
 * any change that makes an analyzer return different terms for the same text.
 */
export const ANALYSIS_VERSION = 1;

export type AnalyzerName = "standard" | "english" | "alnum";
export const ANALYZER_NAMES: readonly AnalyzerName[] = ["standard", "english", "alnum"];

/** How one text field is analyzed; plain JSON, stored in the collection schema. */
export interface TextFieldSpec {
  /** `standard` (default): Unicode words, NFKC, lower case. `english`: + possessives, stop words, Porter stemming. `alnum`: `[a-z0-9]+` after lower-casing. */
  analyzer?: AnalyzerName;
  /** Stop words to drop: `false` for none, a language code (`"en"`, `"fr"`, `"de"`, ...) for that language's list, or your own words. Default: English for `english`, none otherwise. */
  stopWords?: false | string | string[];
  /** Porter stemming (English). Default: true for `english`, false otherwise. */
  stem?: boolean;
  /** Multiplies this field's BM25 score when a query searches several fields (default 1). */
  boost?: number;
}

/** Language resources injected by the host: stemmers and stop-word lists by language code. */
export interface TextPlugins {
  /** e.g. `{ en: (word) => porter(word) }`; applied to lower-cased words. */
  stemmers?: Record<string, (word: string) => string>;
  /** e.g. `{ en: ["a", "an", ...], fr: [...] }`. */
  stopWords?: Record<string, readonly string[]>;
}

export interface Analyzer {
  /** Terms in order, with repeats (so term frequencies and lengths can be counted). */
  analyze(text: string): string[];
}

const ALNUM = /[a-z0-9]+/g;
/** A trailing possessive `'s` / `’s`, as Lucene's EnglishPossessiveFilter removes it. */
const POSSESSIVE = /['’][sS]$/;

/** Checks a field spec; problems are reported under `path`. */
export function checkTextFieldSpec(spec: unknown, path: string, plugins: TextPlugins, problems: Problem[]): void {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    problems.push({
      path,
      message: 'must be an object like { analyzer: "english" } (or {} for the standard analyzer)',
    });
    return;
  }
  const s = spec as Record<string, unknown>;
  if (s.analyzer !== undefined && !ANALYZER_NAMES.includes(s.analyzer as AnalyzerName)) {
    problems.push({
      path: `${path}.analyzer`,
      message: `must be one of ${ANALYZER_NAMES.join(", ")}, got ${JSON.stringify(s.analyzer)}`,
    });
  }
  const sw = s.stopWords;
  if (sw !== undefined && sw !== false) {
    if (typeof sw === "string") {
      if (!plugins.stopWords?.[sw]) {
        const known = Object.keys(plugins.stopWords ?? {});
        problems.push({
          path: `${path}.stopWords`,
          // The runtime-neutral entry has no lists and the browser entry loads only known codes: say
          // how to pass one, as the list may exist unloaded.
          message: `no stop-word list for language "${sw}"${known.length ? ` (available: ${known.join(", ")})` : " (this runtime was given none; pass a list of words)"}; where open() does not load known lists itself (the browser entry does), pass one: open(…, { text: await loadStopWords(["${sw}"]) })`,
        });
      }
    } else if (!Array.isArray(sw) || sw.some((w) => typeof w !== "string")) {
      problems.push({ path: `${path}.stopWords`, message: "must be false, a language code, or an array of words" });
    }
  }
  if (s.stem !== undefined && typeof s.stem !== "boolean")
    problems.push({ path: `${path}.stem`, message: "must be true or false" });
  if (s.boost !== undefined && (typeof s.boost !== "number" || !Number.isFinite(s.boost) || s.boost <= 0)) {
    problems.push({ path: `${path}.boost`, message: `must be a positive number, got ${JSON.stringify(s.boost)}` });
  }
  const stems = s.stem ?? s.analyzer === "english";
  if (stems === true && !plugins.stemmers?.en) {
    problems.push({
      path: s.stem === true ? `${path}.stem` : `${path}.analyzer`,
      message:
        "needs an English stemmer, and this runtime was given none (open the database through the package entry, or pass options.text)",
    });
  }
  if (s.analyzer === "english" && sw === undefined && !plugins.stopWords?.en) {
    problems.push({
      path: `${path}.analyzer`,
      message:
        "needs an English stop-word list, and this runtime was given none (pass options.text, or stopWords: false)",
    });
  }
  for (const key of Object.keys(s)) {
    if (!["analyzer", "stopWords", "stem", "boost"].includes(key))
      problems.push({ path: `${path}.${key}`, message: "unknown option (expected analyzer, stopWords, stem, boost)" });
  }
}

/** Builds the analyzer a (valid) field spec describes. */
export function createAnalyzer(spec: TextFieldSpec, plugins: TextPlugins): Analyzer {
  const problems: Problem[] = [];
  checkTextFieldSpec(spec, "text", plugins, problems);
  if (problems.length > 0) throw QuiverError.fromProblems("INVALID_ARGUMENT", problems);
  const name = spec.analyzer ?? "standard";
  const english = name === "english";
  const swSpec = spec.stopWords ?? (english ? "en" : false);
  const stop =
    swSpec === false
      ? null
      : new Set(
          typeof swSpec === "string"
            ? plugins.stopWords![swSpec]
            : swSpec.map((w) => w.normalize("NFKC").toLowerCase()),
        );
  const stemmer = (spec.stem ?? english) ? plugins.stemmers!.en : null;
  // Stemming is costly and words repeat: a small cache per analyzer pays for itself many times over.
  const stemCache = new Map<string, string>();
  const stem = (w: string): string => {
    let s = stemCache.get(w);
    if (s === undefined) {
      s = stemmer!(w);
      if (stemCache.size > 200_000) stemCache.clear();
      stemCache.set(w, s);
    }
    return s;
  };

  if (name === "alnum") {
    return {
      analyze(text) {
        const words = text.toLowerCase().match(ALNUM) ?? [];
        if (!stop && !stemmer) return words;
        const out: string[] = [];
        for (const w of words) if (!stop?.has(w)) out.push(stemmer ? stem(w) : w);
        return out;
      },
    };
  }
  return {
    analyze(text) {
      const words = segmentWords(text.normalize("NFKC").toLowerCase());
      if (!english && !stop && !stemmer) return words;
      const out: string[] = [];
      for (let w of words) {
        if (english) w = w.replace(POSSESSIVE, "");
        if (stop?.has(w)) continue;
        out.push(stemmer ? stem(w) : w);
      }
      return out;
    },
  };
}
