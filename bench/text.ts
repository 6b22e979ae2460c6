// Full-text benchmark: Quiver's BM25 against Orama's full-text search on SciFact (5,183 abstracts,
// 300 queries), in the same process and run: index build time and single-thread queries per second
// (top 10, through each library's public API), repeated, medians reported; nDCG@10 as a sanity check.

import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { create, insertMultiple, search, type AnyOrama } from "@orama/orama";
import { irDatabase, loadIrCollection, indexIrCollection, type IrCollection } from "../src/cli/ir.js";
import { meanMetrics } from "../src/eval/metrics.js";
import type { Collection, TextFieldSpec } from "../src/index.js";

export interface TextBenchOptions {
  data?: string;
  json?: boolean;
  repeats?: number;
}

const DEFAULT_DATA = "../shared/data/ir/scifact";
const K = 10;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Engine {
  name: string;
  build(data: IrCollection): Promise<void>;
  query(text: string): Promise<string[]>;
  close(): Promise<void>;
}

function quiverEngine(name: string, analyzer: TextFieldSpec): Engine {
  let db: Awaited<ReturnType<typeof irDatabase>> | null = null;
  let c: Collection | null = null;
  return {
    name,
    async build(data) {
      if (db) await db.close();
      db = await irDatabase();
      c = await indexIrCollection(
        db,
        data,
        { analyzer, k1: 1.2, b: 0.75, fusion: { method: "zscore" }, depth: K },
        false,
      );
    },
    async query(text) {
      const { hits } = await c!.query({ text, limit: K, withPayload: false });
      return hits.map((h) => h.id);
    },
    async close() {
      await db?.close();
    },
  };
}

function oramaEngine(name: string, stemming: boolean): Engine {
  let db: AnyOrama | null = null;
  return {
    name,
    async build(data) {
      db = create({
        schema: { docId: "string", text: "string" } as const,
        components: { tokenizer: { stemming, language: "english" } },
      });
      await insertMultiple(
        db,
        data.docs.map((d) => ({ docId: d.id, text: d.text })),
        1000,
      );
    },
    async query(text) {
      const r = await search(db!, { term: text, properties: ["text"], limit: K });
      return r.hits.map((h) => (h.document as unknown as { docId: string }).docId);
    },
    async close() {},
  };
}

export async function runTextBench(opts: TextBenchOptions): Promise<void> {
  const dir = resolve(opts.data ?? DEFAULT_DATA);
  const data = loadIrCollection(dir);
  const queries = data.queries.filter((q) => data.qrels.has(q.id));
  // Orama answers a few SciFact queries per second, so one repeat takes over a minute: 3 by default.
  const repeats = opts.repeats ?? 3;
  const engines = [
    quiverEngine("quiver bm25 (standard analyzer)", {}),
    quiverEngine("quiver bm25 (english analyzer)", { analyzer: "english" }),
    oramaEngine("orama (default tokenizer)", false),
  ];
  const builds = new Map<string, number[]>();
  const qps = new Map<string, number[]>();
  const ndcg = new Map<string, number>();
  for (let r = 0; r < repeats; r++) {
    // Engines take turns inside each repeat, so drift on the shared machine affects them alike.
    for (const e of engines) {
      const t0 = performance.now();
      await e.build(data);
      const buildMs = performance.now() - t0;
      // An untimed warm-up for the JIT, then timed passes over every query (at least 1.5 s); the
      // first timed pass's rankings give nDCG@10.
      for (const q of queries.slice(0, 20)) await e.query(q.text);
      const rankings = new Map<string, string[]>();
      const t1 = performance.now();
      let n = 0;
      while (performance.now() - t1 < 1500 || n < queries.length) {
        for (const q of queries) {
          const ids = await e.query(q.text);
          if (n < queries.length) rankings.set(q.id, ids);
        }
        n += queries.length;
      }
      if (!ndcg.has(e.name)) ndcg.set(e.name, meanMetrics(rankings, data.qrels).ndcg10);
      const seconds = (performance.now() - t1) / 1000;
      (builds.get(e.name) ?? builds.set(e.name, []).get(e.name)!).push(buildMs);
      (qps.get(e.name) ?? qps.set(e.name, []).get(e.name)!).push(n / seconds);
    }
  }
  for (const e of engines) await e.close();
  const rows = engines.map((e) => ({
    engine: e.name,
    buildMs: median(builds.get(e.name)!),
    qps: median(qps.get(e.name)!),
    ndcg10: ndcg.get(e.name)!,
  }));
  if (opts.json) {
    process.stdout.write(
      JSON.stringify({ bench: "text", data: dir, docs: data.docs.length, queries: queries.length, repeats, rows }) +
        "\n",
    );
    return;
  }
  process.stdout.write(
    `text: ${data.name}, ${data.docs.length} documents, ${queries.length} queries, top ${K}, ${repeats} repeats (medians), node ${process.version}\n`,
  );
  process.stdout.write("engine                              build (s)   queries/s   nDCG@10\n");
  for (const r of rows)
    process.stdout.write(
      `${r.engine.padEnd(36)}${(r.buildMs / 1000).toFixed(2).padStart(9)}${r.qps.toFixed(0).padStart(12)}${r.ndcg10.toFixed(4).padStart(10)}\n`,
    );
}
