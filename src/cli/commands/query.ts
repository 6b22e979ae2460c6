/**
 * `quiver query`: a question in words (`--text`, hybrid by default, by document for a document
 * collection), or the nearest neighbours of a vector given as JSON or taken from a dataset's
 * query.f32, optionally filtered; prints a table with the query plan, or JSON with --json. An image
 * collection is searched by an image file (`--image`) or words (query-image.ts).
 */
import { Command } from "commander";
import { SEARCH_MODES, findDocuments, modeOfPlan, textQuery, type SearchMode } from "../../embed/index.js";
import type { Collection, Filter, Hit, QueryRequest } from "../../index.js";
import { readGroundTruth, readMeta, readQueryRow } from "../dataset.js";
import { isImageCollection } from "../../embed/node/image-ingest.js";
import { queryImages } from "./query-image.js";
import { badOption, clip, intOption, parseJsonOption, prettyJson, table, type CliContext } from "../output.js";

interface QueryOptions {
  text?: string;
  image?: string;
  mode?: string;
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
    throw badOption(
      "--text / --vector / --data",
      'give exactly one of --text "question", --vector JSON or --data DIR --row N',
    );
  if (opts.vector !== undefined) {
    if (opts.row !== undefined) throw badOption("--row", "only applies with --data");
    return { vector: parseJsonOption(opts.vector, "--vector") as number[], gt: null };
  }
  if (opts.row === undefined) throw badOption("--row", "is required with --data (a row of the dataset's query.f32)");
  const meta = readMeta(opts.data!);
  return { vector: readQueryRow(opts.data!, meta, opts.row), gt: readGroundTruth(opts.data!, meta, opts.row) };
}

/** One hit of a question: a chunk (the best of its document, in a document collection) with what cites it. */
interface TextHit {
  id: string;
  score: number;
  documentId?: string;
  source?: string;
  headings?: string[];
  start?: number;
  end?: number;
  text?: string;
  payload?: Record<string, unknown>;
}

function textHit(h: Hit): TextHit {
  const p = h.payload ?? {};
  if (typeof p.documentId !== "string") return { id: h.id, score: h.score, payload: p };
  const { documentId, source, headings, start, end, text } = p as Record<string, never>;
  return { id: h.id, score: h.score, documentId, source, headings, start, end, text };
}

/** `--text`: hybrid unless `--mode` says otherwise; a document collection answers one hit per document. */
async function askQuestion(coll: Collection, opts: QueryOptions, filter: Filter | undefined): Promise<void> {
  if (opts.mode !== undefined && !SEARCH_MODES.includes(opts.mode as SearchMode))
    throw badOption("--mode", "must be hybrid, text or vector");
  if (opts.row !== undefined) throw badOption("--row", "only applies with --data");
  const request = textQuery(coll.schema, { query: opts.text, mode: opts.mode as SearchMode | undefined });
  const started = performance.now();
  const documents = coll.schema.indexes?.documentId !== undefined;
  const { hits, plan } = documents
    ? await findDocuments(coll, { ...request, limit: opts.limit, filter, perDocument: 1 }).then((r) => ({
        hits: r.documents.map((d) => d.chunks[0]),
        plan: r.plan,
      }))
    : await coll.query({ ...request, limit: opts.limit, filter });
  const mode = modeOfPlan(plan);
  const ms = performance.now() - started;
  const rows = hits.map(textHit);
  if (opts.json) {
    process.stdout.write(`${prettyJson({ mode, hits: rows, ms: Number(ms.toFixed(3)) })}\n`);
    return;
  }
  if (rows.length === 0) process.stdout.write("(no hits)\n");
  else
    process.stdout.write(
      table(
        ["#", documents ? "document" : "id", "score", documents ? "where" : "payload", documents ? "text" : ""],
        rows.map((r, i) => [
          String(i + 1),
          r.documentId ?? r.id,
          r.score.toFixed(4),
          documents
            ? clip((r.headings ?? []).join(" > ") || `chars ${r.start}-${r.end}`, 40)
            : clip(JSON.stringify(r.payload)),
          documents ? clip((r.text ?? "").replace(/\s+/g, " "), 80) : "",
        ]),
      ),
    );
  process.stdout.write(`\n${mode} search${documents ? ", best chunk per document" : ""}; ${ms.toFixed(2)} ms\n`);
}

export function queryCommand(ctx: CliContext): Command {
  return new Command("query")
    .description("answer a question (--text) or find the nearest records to a vector")
    .argument("<collection>", "collection to search")
    .option(
      "--text <question>",
      "a question in words: hybrid (BM25 + the bound embedder) where the collection has both",
    )
    .option("--image <file>", "in an image collection: the images nearest to this JPEG or PNG file")
    .option("--mode <mode>", "with --text: hybrid, text (BM25 only) or vector (embedding only)")
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
      const filter = opts.filter !== undefined ? (parseJsonOption(opts.filter, "--filter") as Filter) : undefined;
      if (opts.image !== undefined) {
        if (opts.text !== undefined || opts.vector !== undefined || opts.data !== undefined)
          throw badOption("--image", "give either --image, --text, --vector or --data, not several");
        await ctx.withDb(
          cmd,
          async (db) => {
            const coll = await db.collection(name);
            if (!isImageCollection(coll.schema))
              throw badOption(
                "--image",
                `"${name}" is not an image collection (see quiver ingest of a folder of images)`,
              );
            await queryImages(coll, { image: opts.image }, { limit: opts.limit, filter, json: opts.json });
          },
          { readOnly: true },
        );
        return;
      }
      if (opts.text !== undefined) {
        if (opts.vector !== undefined || opts.data !== undefined)
          throw badOption("--text", "give either --text, --vector or --data, not several");
        await ctx.withDb(
          cmd,
          async (db) => {
            const coll = await db.collection(name);
            if (isImageCollection(coll.schema))
              await queryImages(coll, { text: opts.text }, { limit: opts.limit, filter, json: opts.json });
            else await askQuestion(coll, opts, filter);
          },
          { readOnly: true },
        );
        return;
      }
      if (opts.mode !== undefined) throw badOption("--mode", "only applies with --text");
      const { vector, gt } = queryVector(opts);
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
          // The planner's estimate of the filter's matches and the plan it chose on it (docs/filters.md).
          const f = plan.filter;
          const estimate = f
            ? `, filter: ${f.plan} on an estimate of ${f.estimate} (${f.low}-${f.high}, from ${f.from})`
            : "";
          process.stdout.write(
            `\nplan: ${plan.strategy} on vector "${plan.vector}", ${plan.candidates} candidates${indexes}${estimate}; ${ms.toFixed(2)} ms\n`,
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
