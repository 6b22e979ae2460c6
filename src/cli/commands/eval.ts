/**
 * `quiver eval ir --data DIR`: measures retrieval quality on judged queries in the shared IR
 * format: indexes the corpus in an in-memory Quiver, runs every query in BM25, dense and hybrid
 * modes, and prints nDCG@10, MAP@1000, Recall@100 and P@10 with trec_eval's definitions.
 */
import { Command, InvalidArgumentError } from "commander";
import type { AnalyzerName } from "../../index.js";
import {
  evaluateMode,
  indexIrCollection,
  irCollectionDirs,
  irDatabase,
  loadIrCollection,
  type IrMode,
  type IrRunOptions,
} from "../ir.js";
import { badOption, intOption, table } from "../output.js";

interface EvalOptions {
  data: string;
  mode: IrMode | "all";
  json?: boolean;
  analyzer: AnalyzerName;
  stopWords?: string;
  stem?: boolean;
  k1: number;
  b: number;
  fusion: "zscore" | "minmax" | "rrf";
  rrfK: number;
  fusionDepth?: number;
  depth: number;
}

function numberOption(min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}, got "${v}"`);
    return n;
  };
}

function choice<T extends string>(values: readonly T[]): (v: string) => T {
  return (v) => {
    if (!values.includes(v as T)) throw new InvalidArgumentError(`expected one of ${values.join(", ")}, got "${v}"`);
    return v as T;
  };
}

const f4 = (x: number) => x.toFixed(4);

function irCommand(): Command {
  return new Command("ir")
    .description(
      "evaluate BM25, dense and hybrid retrieval on an IR test collection (corpus.jsonl, queries.jsonl, qrels.tsv, optional use512/)",
    )
    .requiredOption("--data <dir>", "a collection folder, or a folder of collection folders")
    .option(
      "--mode <mode>",
      "bm25, dense, hybrid or all (dense and hybrid need use512/ vectors)",
      choice(["bm25", "dense", "hybrid", "all"] as const),
      "all",
    )
    .option("--json", "print one JSON line per collection and mode")
    .option(
      "--analyzer <name>",
      "text analyzer: english, standard or alnum",
      choice(["english", "standard", "alnum"] as const),
      "english",
    )
    .option("--stop-words <lang>", 'stop words: a language code such as "en", or "none"')
    .option("--no-stem", "disable stemming (english)")
    .option("--k1 <n>", "BM25 k1", numberOption(0, 100), 1.2)
    .option("--b <n>", "BM25 b", numberOption(0, 1), 0.75)
    .option(
      "--fusion <method>",
      "hybrid fusion: zscore, minmax or rrf",
      choice(["zscore", "minmax", "rrf"] as const),
      "zscore",
    )
    .option("--rrf-k <n>", "RRF's rank constant", numberOption(0, 1e6), 60)
    .option(
      "--fusion-depth <n>",
      "documents taken from each source before fusing (default 100, at least --depth)",
      intOption(1, 10_000),
    )
    .option("--depth <n>", "documents ranked per query (MAP is computed over them)", intOption(1, 10_000), 1000)
    .addHelpText(
      "after",
      `
Examples:
  quiver eval ir --data ./ir                        # every collection folder in ./ir, every mode
  quiver eval ir --data ./ir/scifact --mode hybrid --json
  quiver eval ir --data ./ir --mode bm25 --analyzer alnum --k1 0.9 --b 0.4   # the reference BM25`,
    )
    .action(async (opts: EvalOptions) => {
      const analyzer: IrRunOptions["analyzer"] = { analyzer: opts.analyzer };
      if (opts.stopWords !== undefined) analyzer.stopWords = opts.stopWords === "none" ? false : opts.stopWords;
      if (opts.stem === false) analyzer.stem = false;
      const run: IrRunOptions = {
        analyzer,
        k1: opts.k1,
        b: opts.b,
        fusion: { method: opts.fusion, k: opts.rrfK, depth: opts.fusionDepth },
        depth: opts.depth,
      };
      const rows: string[][] = [];
      for (const dir of irCollectionDirs(opts.data)) {
        const data = loadIrCollection(dir);
        const modes: IrMode[] =
          opts.mode === "all" ? (data.docVectors ? ["bm25", "dense", "hybrid"] : ["bm25"]) : [opts.mode];
        if (modes.some((m) => m !== "bm25") && !data.docVectors)
          throw badOption("--mode", `${dir} has no use512/ vectors, so only bm25 can be evaluated`);
        if (opts.mode === "all" && !data.docVectors)
          process.stderr.write(`${data.name}: no use512/ vectors; evaluating bm25 only\n`);
        const db = await irDatabase();
        try {
          const t0 = performance.now();
          const c = await indexIrCollection(
            db,
            data,
            run,
            modes.some((m) => m !== "bm25"),
          );
          const buildMs = performance.now() - t0;
          for (const mode of modes) {
            const m = await evaluateMode(c, data, mode, run);
            if (opts.json) {
              process.stdout.write(
                `${JSON.stringify({
                  collection: data.name,
                  mode,
                  ndcg10: round(m.ndcg10),
                  map: round(m.map),
                  recall100: round(m.recall100),
                  p10: round(m.p10),
                })}\n`,
              );
            } else {
              rows.push([
                data.name,
                mode,
                String(m.queries),
                f4(m.ndcg10),
                f4(m.map),
                f4(m.recall100),
                f4(m.p10),
                `${(m.ms / Math.max(1, m.queries)).toFixed(2)} ms`,
              ]);
            }
          }
          if (!opts.json)
            process.stderr.write(
              `${data.name}: ${data.docs.length} documents indexed in ${(buildMs / 1000).toFixed(2)} s\n`,
            );
        } finally {
          await db.close();
        }
      }
      if (!opts.json) {
        const how = `analyzer ${opts.analyzer}${opts.stopWords ? ` stop-words ${opts.stopWords}` : ""}${opts.stem === false ? " no-stem" : ""}, k1 ${opts.k1}, b ${opts.b}, fusion ${opts.fusion === "rrf" ? `rrf(k=${opts.rrfK})` : opts.fusion}`;
        process.stdout.write(
          `${how}\n` +
            table(["collection", "mode", "queries", "nDCG@10", "MAP@1000", "R@100", "P@10", "per query"], rows),
        );
      }
    });
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

export function evalCommand(): Command {
  return new Command("eval").description("measure retrieval quality on judged queries").addCommand(irCommand());
}
