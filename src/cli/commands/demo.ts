/**
 * `quiver demo` (behind `npm start`): loads a seeded synthetic sample into collection `sample`,
 * runs plain and filtered queries, and checks each answer against a brute-force scan of the same data.
 */
import { Command } from "commander";
import {
  isQuiverError,
  QuiverError,
  type Collection,
  type CollectionSchema,
  type Database,
  type Filter,
} from "../../index.js";
import { progressBar, summaryLine, type CliContext } from "../output.js";
import { printHits } from "./query.js";
import { seededRandom as rng } from "../../core/util/prng.js";

const COUNT = 20_000;
const DIM = 64;
const TOPICS = [
  "astronomy",
  "biology",
  "chemistry",
  "cooking",
  "economics",
  "film",
  "geology",
  "history",
  "jazz",
  "law",
  "linguistics",
  "mathematics",
  "medicine",
  "music",
  "philosophy",
  "physics",
  "poetry",
  "robotics",
  "sports",
  "travel",
];
const LANGS = ["en", "en", "en", "en", "fr", "de", "es", "ja"];
export const SAMPLE_SCHEMA: CollectionSchema = {
  vectors: { vector: { dim: DIM, metric: "cosine" } },
  indexes: { topic: "keyword", year: "number", lang: "keyword" },
};

interface Payload {
  topic: string;
  year: number;
  lang: string;
}

function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

function unit(v: Float64Array): Float64Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  return v.map((x) => x / n);
}

/** A point near a centroid: the centroid plus Gaussian noise (noise norm about 0.6 of the unit centroid). */
function near(r: () => number, centroid: Float64Array, spread: number): Float64Array {
  return centroid.map((x) => x + gaussian(r) * spread);
}

export interface Sample {
  ids: string[];
  vectors: Float64Array[];
  payloads: Payload[];
  centroids: Float64Array[];
}

/** The demo's records (seeded, the same every run); `count` other than 20,000 for benchmarks. */
export function generateSample(count = COUNT): Sample {
  const r = rng(20240611);
  const centroids = TOPICS.map(() => unit(Float64Array.from({ length: DIM }, () => gaussian(r))));
  const s: Sample = { ids: [], vectors: [], payloads: [], centroids };
  for (let i = 0; i < count; i++) {
    const t = Math.floor(r() * TOPICS.length);
    s.ids.push(`doc-${String(i).padStart(5, "0")}`);
    s.vectors.push(near(r, centroids[t], 0.08));
    s.payloads.push({
      topic: TOPICS[t],
      year: 1990 + Math.floor(r() * 35),
      lang: LANGS[Math.floor(r() * LANGS.length)],
    });
  }
  return s;
}

async function load(db: Database, signal: AbortSignal, s: Sample): Promise<Collection> {
  try {
    const existing = await db.collection("sample");
    if (JSON.stringify(existing.schema) !== JSON.stringify(SAMPLE_SCHEMA)) {
      throw new QuiverError(
        "ALREADY_EXISTS",
        `collection "sample" already exists with another schema; run the demo with another --db`,
      );
    }
    if ((await existing.count()) === COUNT) {
      process.stdout.write(
        `collection "sample" is already loaded (${COUNT.toLocaleString("en-US")} records); skipping the load\n`,
      );
      return existing;
    }
    process.stdout.write(`collection "sample" is incomplete; rebuilding it\n`);
    await db.dropCollection("sample");
  } catch (e) {
    if (!isQuiverError(e, "NOT_FOUND")) throw e;
  }
  const coll = await db.createCollection("sample", SAMPLE_SCHEMA);
  const started = performance.now();
  const bar = progressBar("loading sample", COUNT);
  try {
    for (let start = 0; start < COUNT; start += 1000) {
      signal.throwIfAborted();
      const batch = [];
      for (let i = start; i < Math.min(COUNT, start + 1000); i++)
        batch.push({ id: s.ids[i], vector: s.vectors[i], payload: { ...s.payloads[i] } });
      await coll.upsert(batch);
      bar.increment(batch.length);
    }
  } finally {
    bar.stop();
  }
  process.stdout.write(
    `${summaryLine("loaded", COUNT, performance.now() - started)}: ${DIM}-d vectors around ${TOPICS.length} topics, payload { topic, year, lang }\n`,
  );
  return coll;
}

/** The oracle: score every record in float64 and keep the top k that pass the predicate. */
function bruteForce(
  s: Sample,
  q: Float64Array,
  k: number,
  keep: (p: Payload) => boolean,
): { id: string; score: number }[] {
  const qu = unit(q);
  const all: { id: string; score: number }[] = [];
  for (let i = 0; i < s.vectors.length; i++) {
    if (!keep(s.payloads[i])) continue;
    const v = s.vectors[i];
    let dot = 0;
    let norm = 0;
    for (let j = 0; j < DIM; j++) {
      dot += v[j] * qu[j];
      norm += v[j] * v[j];
    }
    all.push({ id: s.ids[i], score: dot / Math.sqrt(norm) });
  }
  all.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
  return all.slice(0, k);
}

interface DemoQuery {
  title: string;
  topic: number;
  filter?: Filter;
  keep: (p: Payload) => boolean;
}

const QUERIES: DemoQuery[] = [
  { title: "plain: nearest to a point in the 'astronomy' cluster", topic: 0, keep: () => true },
  {
    title: "keyword filter: 'jazz' neighbourhood, French records only",
    topic: 8,
    filter: { lang: "fr" },
    keep: (p) => p.lang === "fr",
  },
  {
    title: "range filter: 'medicine' neighbourhood, years 2015-2019",
    topic: 12,
    filter: { year: { $gte: 2015, $lte: 2019 } },
    keep: (p) => p.year >= 2015 && p.year <= 2019,
  },
  {
    title: "keyword + range: 'physics' records in German before 2000",
    topic: 15,
    filter: { lang: "de", year: { $lt: 2000 } },
    keep: (p) => p.lang === "de" && p.year < 2000,
  },
];

/** Runs one query and its brute-force check; returns whether Quiver's answer is the exact one. */
async function runQuery(coll: Collection, s: Sample, dq: DemoQuery, q: Float64Array, k: number): Promise<boolean> {
  process.stdout.write(`\n== ${dq.title}\n`);
  if (dq.filter) process.stdout.write(`   filter: ${JSON.stringify(dq.filter)}\n`);
  const t0 = performance.now();
  const { hits, plan } = await coll.query({ vector: q, limit: k, filter: dq.filter });
  const quiverMs = performance.now() - t0;
  printHits(hits);
  const t1 = performance.now();
  const truth = bruteForce(s, q, k, dq.keep);
  const bruteMs = performance.now() - t1;
  const indexes =
    plan.strategy === "exact-filtered" ? `, payload indexes ${plan.usedIndexes ? "used" : "not used"}` : "";
  process.stdout.write(
    `   quiver: ${quiverMs.toFixed(2)} ms (${plan.strategy}, ${plan.candidates.toLocaleString("en-US")} candidates${indexes})\n`,
  );
  const scan = `scan of ${s.vectors.length.toLocaleString("en-US")} records in ${bruteMs.toFixed(2)} ms`;
  if (plan.strategy.startsWith("hnsw")) {
    // A graph search is approximate: show how much of the true top k it found, then check that
    // the same query with exact: true is the exact answer.
    const truthIds = new Set(truth.map((t) => t.id));
    const found = hits.filter((h) => truthIds.has(h.id)).length;
    process.stdout.write(
      `   graph search found ${found}/${truth.length} of the true top ${k} (${scan}); checking exact: true as well\n`,
    );
    return checkExact((await coll.query({ vector: q, limit: k, filter: dq.filter, exact: true })).hits, truth);
  }
  return checkExact(hits, truth, scan);
}

/** Exact means the same scores rank by rank (ids may swap only between equal scores). */
function checkExact(
  hits: { id: string; score: number }[],
  truth: { id: string; score: number }[],
  scan?: string,
): boolean {
  const sameIds = hits.filter((h, i) => truth[i]?.id === h.id).length;
  const maxDiff = Math.max(0, ...hits.map((h, i) => Math.abs(h.score - (truth[i]?.score ?? Infinity))));
  const ok = hits.length === truth.length && maxDiff < 1e-5;
  process.stdout.write(
    `   brute-force check: ${ok ? "PASS" : "FAIL"}: ${sameIds}/${truth.length} ids identical, max score difference ${maxDiff.toExponential(1)}${scan ? ` (${scan})` : ""}\n`,
  );
  return ok;
}

export function demoCommand(ctx: CliContext): Command {
  return new Command("demo")
    .description("load a small synthetic sample and show exact, filtered queries checked against brute force")
    .action(async (_opts: unknown, cmd: Command) => {
      const started = performance.now();
      const s = generateSample();
      const dbPath = cmd.optsWithGlobals().db as string;
      const ok = await ctx.withDb(cmd, async (db, signal) => {
        const coll = await load(db, signal, s);
        const r = rng(7);
        let passed = 0;
        for (const dq of QUERIES) if (await runQuery(coll, s, dq, near(r, s.centroids[dq.topic], 0.08), 5)) passed++;
        return passed === QUERIES.length;
      });
      process.stdout.write(
        `\nsearch check: ${ok ? "PASSED" : "FAILED"} (${QUERIES.length} queries compared with a brute-force scan); demo took ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
      );
      process.stdout.write(
        [
          "",
          "Try the other commands (quiver = node dist/src/cli/main.js):",
          `  quiver stats --db ${dbPath}`,
          `  quiver query sample --db ${dbPath} --limit 3 --filter '{"topic":"jazz","year":{"$gte":2010}}' --vector '[${Array.from(s.vectors[0], (x) => x.toFixed(3)).join(",")}]'`,
          `  quiver export sample --db ${dbPath} --out sample.jsonl`,
          `  quiver import copy --db ${dbPath} --jsonl sample.jsonl`,
          `  quiver collections --db ${dbPath}`,
          `  quiver drop copy --db ${dbPath} --yes`,
          "",
        ].join("\n"),
      );
      if (!ok) process.exitCode = 2;
    });
}
