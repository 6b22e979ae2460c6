/**
 * Stop-word lists loaded per language on demand: each list is its own dynamic import, so a bundler
 * splits it into a chunk fetched only when asked for, and the browser entry's base bundle carries
 * none of them (English uses the 33-word Lucene list, built in). Node loads every list at once
 * (plugins.ts), where size does not matter.
 */
import type { TextPlugins } from "../core/analysis/analyzer.js";
import { QuiverError } from "../core/errors/errors.js";
import { stemmer } from "stemmer";
import { ISO1, LUCENE_ENGLISH } from "./resources.js";

type List = Promise<readonly string[]>;

/** Every list `stopword` ships, by its ISO 639-3 code; literal imports so bundlers can split them. */
const LOADERS: Record<string, () => List> = {
  afr: () => import("stopword/src/stopwords_afr.js").then((m) => m.afr),
  ara: () => import("stopword/src/stopwords_ara.js").then((m) => m.ara),
  ben: () => import("stopword/src/stopwords_ben.js").then((m) => m.ben),
  bre: () => import("stopword/src/stopwords_bre.js").then((m) => m.bre),
  bul: () => import("stopword/src/stopwords_bul.js").then((m) => m.bul),
  cat: () => import("stopword/src/stopwords_cat.js").then((m) => m.cat),
  ces: () => import("stopword/src/stopwords_ces.js").then((m) => m.ces),
  dan: () => import("stopword/src/stopwords_dan.js").then((m) => m.dan),
  deu: () => import("stopword/src/stopwords_deu.js").then((m) => m.deu),
  ell: () => import("stopword/src/stopwords_ell.js").then((m) => m.ell),
  eng: () => import("stopword/src/stopwords_eng.js").then((m) => m.eng),
  epo: () => import("stopword/src/stopwords_epo.js").then((m) => m.epo),
  est: () => import("stopword/src/stopwords_est.js").then((m) => m.est),
  eus: () => import("stopword/src/stopwords_eus.js").then((m) => m.eus),
  fas: () => import("stopword/src/stopwords_fas.js").then((m) => m.fas),
  fin: () => import("stopword/src/stopwords_fin.js").then((m) => m.fin),
  fra: () => import("stopword/src/stopwords_fra.js").then((m) => m.fra),
  gle: () => import("stopword/src/stopwords_gle.js").then((m) => m.gle),
  glg: () => import("stopword/src/stopwords_glg.js").then((m) => m.glg),
  guj: () => import("stopword/src/stopwords_guj.js").then((m) => m.guj),
  hau: () => import("stopword/src/stopwords_hau.js").then((m) => m.hau),
  heb: () => import("stopword/src/stopwords_heb.js").then((m) => m.heb),
  hin: () => import("stopword/src/stopwords_hin.js").then((m) => m.hin),
  hrv: () => import("stopword/src/stopwords_hrv.js").then((m) => m.hrv),
  hun: () => import("stopword/src/stopwords_hun.js").then((m) => m.hun),
  hye: () => import("stopword/src/stopwords_hye.js").then((m) => m.hye),
  ind: () => import("stopword/src/stopwords_ind.js").then((m) => m.ind),
  ita: () => import("stopword/src/stopwords_ita.js").then((m) => m.ita),
  jpn: () => import("stopword/src/stopwords_jpn.js").then((m) => m.jpn),
  kor: () => import("stopword/src/stopwords_kor.js").then((m) => m.kor),
  kur: () => import("stopword/src/stopwords_kur.js").then((m) => m.kur),
  lat: () => import("stopword/src/stopwords_lat.js").then((m) => m.lat),
  lav: () => import("stopword/src/stopwords_lav.js").then((m) => m.lav),
  lit: () => import("stopword/src/stopwords_lit.js").then((m) => m.lit),
  mar: () => import("stopword/src/stopwords_mar.js").then((m) => m.mar),
  msa: () => import("stopword/src/stopwords_msa.js").then((m) => m.msa),
  mya: () => import("stopword/src/stopwords_mya.js").then((m) => m.mya),
  nld: () => import("stopword/src/stopwords_nld.js").then((m) => m.nld),
  nob: () => import("stopword/src/stopwords_nob.js").then((m) => m.nob),
  pol: () => import("stopword/src/stopwords_pol.js").then((m) => m.pol),
  por: () => import("stopword/src/stopwords_por.js").then((m) => m.por),
  ron: () => import("stopword/src/stopwords_ron.js").then((m) => m.ron),
  rus: () => import("stopword/src/stopwords_rus.js").then((m) => m.rus),
  slk: () => import("stopword/src/stopwords_slk.js").then((m) => m.slk),
  slv: () => import("stopword/src/stopwords_slv.js").then((m) => m.slv),
  som: () => import("stopword/src/stopwords_som.js").then((m) => m.som),
  sot: () => import("stopword/src/stopwords_sot.js").then((m) => m.sot),
  spa: () => import("stopword/src/stopwords_spa.js").then((m) => m.spa),
  swa: () => import("stopword/src/stopwords_swa.js").then((m) => m.swa),
  swe: () => import("stopword/src/stopwords_swe.js").then((m) => m.swe),
  tgl: () => import("stopword/src/stopwords_tgl.js").then((m) => m.tgl),
  tha: () => import("stopword/src/stopwords_tha.js").then((m) => m.tha),
  tur: () => import("stopword/src/stopwords_tur.js").then((m) => m.tur),
  ukr: () => import("stopword/src/stopwords_ukr.js").then((m) => m.ukr),
  urd: () => import("stopword/src/stopwords_urd.js").then((m) => m.urd),
  vie: () => import("stopword/src/stopwords_vie.js").then((m) => m.vie),
  yor: () => import("stopword/src/stopwords_yor.js").then((m) => m.yor),
  zho: () => import("stopword/src/stopwords_zho.js").then((m) => m.zho),
  zul: () => import("stopword/src/stopwords_zul.js").then((m) => m.zul),
};

/** The ISO 639-3 code of a list, from its own code or its ISO 639-1 alias. */
function listCode(lang: string): string | undefined {
  if (lang in LOADERS) return lang;
  const three = ISO1[lang];
  return three !== undefined && three in LOADERS ? three : undefined;
}

/**
 * The stop-word lists of `langs` (ISO 639-1 or 639-3 codes), loaded now, as text resources to pass to
 * `open(…, { text })`. Rejects INVALID_ARGUMENT naming every unknown code.
 * @example
 * const db = await open("notes", { text: await loadStopWords(["fr", "de"]) });
 */
export async function loadStopWords(langs: readonly string[]): Promise<TextPlugins> {
  const unknown = langs.filter((l) => listCode(l) === undefined);
  if (unknown.length > 0) {
    throw new QuiverError("INVALID_ARGUMENT", `no stop-word list for ${unknown.join(", ")}`, {
      problems: unknown.map((l) => ({ path: `langs`, message: `unknown language code ${JSON.stringify(l)}` })),
    });
  }
  const lists = await Promise.all(
    langs.map((l) =>
      LOADERS[listCode(l) as string]().catch((e: unknown) => {
        // A chunk that cannot be fetched (offline, a deployment that dropped it) is a runtime failure.
        throw new QuiverError("UNAVAILABLE", `the stop-word list for "${l}" could not be loaded: ${String(e)}`, {
          cause: e,
        });
      }),
    ),
  );
  return { stopWords: Object.fromEntries(langs.map((l, i) => [l, lists[i]])) };
}

/**
 * The lists of the codes among `langs` that have one; the others are left out, for schema validation
 * to report with their path. What the browser entry's `open()` loads a stored or new schema's
 * languages with (DatabaseOptions.loadStopWords).
 */
export async function loadKnownStopWords(langs: readonly string[]): Promise<Record<string, readonly string[]>> {
  return (await loadStopWords(langs.filter((l) => listCode(l) !== undefined))).stopWords ?? {};
}

/** What the browser entry gives every database: the English stemmer and Lucene's English stop set. */
export const englishTextPlugins: TextPlugins = {
  stemmers: { en: stemmer },
  stopWords: { en: LUCENE_ENGLISH },
};
