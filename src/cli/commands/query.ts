/**
 * `quiver query`: nearest neighbours of a vector given as JSON or taken from a dataset's
 * query.f32, optionally filtered; prints a table with the query plan, or JSON with --json.
 */
import { Command } from "commander";
import type { Filter, Hit, QueryRequest } from "../../index.js";
import { readGroundTruth, readMeta, readQueryRow } from "../dataset.js";
import { badOption, clip, intOption, parseJsonOption, prettyJson, table, type CliContext } from "../output.js";

interface QueryOptions {
  vector?: string;
  data?: string;
  row?: number;
  filter?: string;
  limit: number;
  withVectors?: boolean;
  json?: boolean;
}

function hitRows(hits: Hit[], withVectors: boolean): string[][] {
  return hits.map((h, i) => {
    const row = [String(i + 1), h.id, h.score.toFixed(6), clip(JSON.stringify(h.payload ?? {}))];
    if (withVectors) row.push(clip(JSON.stringify(h.vectors ?? {}), 80));
    return row;
  });
}

/** Prints hits as a table; shared with `quiver demo`. */
export function printHits(hits: Hit[], withVectors = false): void {
  if (hits.length === 0) {
    process.stdout.write("(no hits)\n");
    return;
  }
  const header = ["#", "id", "score", "payload"];
  if (withVectors) header.push("vectors");
  process.stdout.write(table(header, hitRows(hits, withVectors)));
}

function queryVector(opts: QueryOptions): { vector: number[] | Record<string, number[]>; gt: number[] | null } {
  if ((opts.vector === undefined) === (opts.data === undefined))
    throw badOption("--vector / --data", "give exactly one of --vector JSON or --data DIR --row N");
  if (opts.vector !== undefined) {
    if (opts.row !== undefined) throw badOption("--row", "only applies with --data");
    return { vector: parseJsonOption(opts.vector, "--vector") as number[], gt: null };
  }
  if (opts.row === undefined) throw badOption("--row", "is required with --data (a row of the dataset's query.f32)");
  const meta = readMeta(opts.data!);
  return { vector: readQueryRow(opts.data!, meta, opts.row), gt: readGroundTruth(opts.data!, meta, opts.row) };
}

export function queryCommand(ctx: CliContext): Command {
  return new Command("query")
    .description("find the nearest records to a vector")
    .argument("<collection>", "collection to search")
    .option(
      "--vector <json>",
      'query vector as a JSON array (or {"name": [...]} for a collection with several vectors)',
    )
    .option("--data <dir>", "take the query vector from this dataset folder's query.f32 ...")
    .option("--row <n>", "... at this row (0-based)", intOption(0))
    .option("--filter <json>", 'filter in Quiver\'s filter language, e.g. \'{"lang":"en","year":{"$gte":2020}}\'')
    .option("--limit <k>", "number of hits", intOption(1), 10)
    .option("--with-vectors", "include the stored vectors")
    .option("--json", "print the result as JSON")
    .action(async (name: string, opts: QueryOptions, cmd: Command) => {
      const { vector, gt } = queryVector(opts);
      const filter = opts.filter !== undefined ? (parseJsonOption(opts.filter, "--filter") as Filter) : undefined;
      await ctx.withDb(
        cmd,
        async (db) => {
          const coll = await db.collection(name);
          const req: QueryRequest = { vector, limit: opts.limit, withVectors: opts.withVectors === true };
          if (filter !== undefined) req.filter = filter;
          const started = performance.now();
          const { hits, plan } = await coll.query(req);
          const ms = performance.now() - started;
          if (opts.json) {
            process.stdout.write(`${prettyJson({ hits, plan, ms: Number(ms.toFixed(3)) })}\n`);
            return;
          }
          printHits(hits, opts.withVectors === true);
          const indexes =
            plan.strategy === "exact-filtered"
              ? `, payload indexes ${plan.usedIndexes ? "used" : "not used"}, ${plan.payloadsChecked} payloads checked`
              : "";
          process.stdout.write(
            `\nplan: ${plan.strategy} on vector "${plan.vector}", ${plan.candidates} candidates${indexes}; ${ms.toFixed(2)} ms\n`,
          );
          if (gt && filter === undefined) {
            // The dataset's exact answer, valid when the collection was loaded with `import --data` (id = row).
            const truth = new Set(gt.slice(0, hits.length).map(String));
            const agree = hits.filter((h) => truth.has(h.id)).length;
            process.stdout.write(`ground truth (gt.i32): ${agree}/${hits.length} of the top ${hits.length} agree\n`);
          }
        },
        { readOnly: true },
      );
    });
}
