/**
 * Language resources for the analyzers, from well-kept npm packages: the Porter stemmer of
 * `stemmer` (the algorithm Lucene's EnglishAnalyzer uses) and the stop-word lists of `stopword`
 * (about 60 languages). This adapter sits outside the core so the core keeps zero dependencies;
 * the Node entry passes it to every database it opens.
 */
import { stemmer } from "stemmer";
import * as sw from "stopword";
import type { TextPlugins } from "../core/analysis/analyzer.js";

/**
 * Lucene's English stop set (EnglishAnalyzer.ENGLISH_STOP_WORDS_SET, 33 words), which the
 * published Anserini BM25 figures use. `stopword`'s own English list (108 words) is reachable
 * as `stopWords: "eng"`; on SciFact it scores lower (see docs/search.md).
 */
const LUCENE_ENGLISH = [
  "a",
  "an",
  "and",
  "are",
  "as",
  "at",
  "be",
  "but",
  "by",
  "for",
  "if",
  "in",
  "into",
  "is",
  "it",
  "no",
  "not",
  "of",
  "on",
  "or",
  "such",
  "that",
  "the",
  "their",
  "then",
  "there",
  "these",
  "they",
  "this",
  "to",
  "was",
  "will",
  "with",
];

/** ISO 639-1 codes for the lists `stopword` ships under ISO 639-3 names. */
const ISO1: Record<string, string> = {
  af: "afr",
  ar: "ara",
  bg: "bul",
  bn: "ben",
  br: "bre",
  ca: "cat",
  cs: "ces",
  da: "dan",
  de: "deu",
  el: "ell",
  eo: "epo",
  es: "spa",
  et: "est",
  eu: "eus",
  fa: "fas",
  fi: "fin",
  fr: "fra",
  ga: "gle",
  gl: "glg",
  gu: "guj",
  ha: "hau",
  he: "heb",
  hi: "hin",
  hr: "hrv",
  hu: "hun",
  hy: "hye",
  id: "ind",
  it: "ita",
  ja: "jpn",
  ko: "kor",
  ku: "kur",
  la: "lat",
  lt: "lit",
  lv: "lav",
  mr: "mar",
  ms: "msa",
  my: "mya",
  nb: "nob",
  nl: "nld",
  pl: "pol",
  pt: "por",
  ro: "ron",
  ru: "rus",
  sk: "slk",
  sl: "slv",
  so: "som",
  st: "sot",
  sv: "swe",
  sw: "swa",
  th: "tha",
  tl: "tgl",
  tr: "tur",
  uk: "ukr",
  ur: "urd",
  vi: "vie",
  yo: "yor",
  zh: "zho",
  zu: "zul",
};

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
