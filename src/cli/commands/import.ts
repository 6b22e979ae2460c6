/**
 * `quiver import`: loads a dataset folder in the shared vector format (row i becomes id "i"), or a
 * JSONL file of records (checked whole before anything is written: ../jsonl.ts), in batches with a
 * progress bar.
 */
import { Command } from "commander";
import {
  defaultThreadCount,
  QuiverError,
  isQuiverError,
  type Collection,
  type CollectionSchema,
  type Database,
  type Problem,
  type RecordInput,
  type VectorSpec,
} from "../../index.js";
import { readBase, readMeta, toMetric } from "../dataset.js";
import { checkJsonl, writeJsonl } from "../jsonl.js";
import { badOption, intOption, progressBar, summaryLine, type CliContext } from "../output.js";

interface ImportOptions {
  data?: string;
  jsonl?: string;
  limit?: number;
  batch: number;
  threads?: number;
  dim?: number;
  metric?: string;
  skipInvalid?: boolean;
}

/** Threads for an import: one per core by default; one thread needs no worker (the writer's own builds). */
function importThreads(asked: number | undefined): number {
  const n = asked ?? defaultThreadCount();
  return n >= 2 ? n : 0;
}

/** Opens the collection, or creates it with one vector named `vector`; an existing one must have that vector as given. */
async function ensureCollection(
  db: Database,
  name: string,
  spec: VectorSpec | null,
  hint: string,
): Promise<Collection> {
  let coll: Collection;
  try {
    coll = await db.collection(name);
  } catch (e) {
    if (!isQuiverError(e, "NOT_FOUND")) throw e;
    if (!spec) throw new QuiverError("NOT_FOUND", `collection "${name}" does not exist; ${hint}`);
    process.stderr.write(`creating collection "${name}" (vector: dim ${spec.dim}, ${spec.metric})\n`);
    return db.createCollection(name, { vectors: { vector: spec } });
  }
  if (spec) {
    const have = coll.schema.vectors.vector;
    const problems: Problem[] = [];
    if (!have)
      problems.push({
        path: "schema.vectors.vector",
        message: `collection "${name}" has no vector named "vector" (it has ${Object.keys(coll.schema.vectors).join(", ")})`,
      });
    else {
      if (have.dim !== spec.dim)
        problems.push({
          path: "schema.vectors.vector.dim",
          message: `collection "${name}" has dim ${have.dim}, the input has ${spec.dim}`,
        });
      if (have.metric !== spec.metric)
        problems.push({
          path: "schema.vectors.vector.metric",
          message: `collection "${name}" uses ${have.metric}, the input ${spec.metric}`,
        });
    }
    if (problems.length > 0)
      throw QuiverError.fromProblems(
        have && have.dim !== spec.dim ? "DIMENSION_MISMATCH" : "INVALID_ARGUMENT",
        problems,
      );
  }
  return coll;
}

async function importDataset(
  db: Database,
  signal: AbortSignal,
  name: string,
  opts: ImportOptions,
  dir: string,
  progress: { imported: number; started: boolean },
): Promise<number> {
  const meta = readMeta(dir);
  const { data, rows } = readBase(dir, meta);
  const n = Math.min(rows, opts.limit ?? rows);
  const coll = await ensureCollection(db, name, { dim: meta.dim, metric: meta.metric }, "");
  progress.started = true;
  const bar = progressBar(`importing ${name}`, n);
  try {
    for (let start = 0; start < n; start += opts.batch) {
      signal.throwIfAborted();
      const end = Math.min(n, start + opts.batch);
      const records: RecordInput[] = [];
      for (let i = start; i < end; i++)
        records.push({ id: String(i), vector: data.subarray(i * meta.dim, (i + 1) * meta.dim) });
      await coll.upsert(records);
      progress.imported += end - start;
      bar.increment(end - start);
    }
  } finally {
    bar.stop();
  }
  return n;
}

function records(n: number): string {
  return `${n.toLocaleString("en-US")} record${n === 1 ? "" : "s"}`;
}

/** At most this many bad lines are listed in full; the count says how many there were. */
const SHOWN_BAD_LINES = 50;

async function importJsonl(
  db: Database,
  signal: AbortSignal,
  name: string,
  opts: ImportOptions,
  file: string,
  progress: { imported: number; started: boolean },
): Promise<number> {
  const metric = toMetric(opts.metric ?? "cosine", "--metric");
  let existing: Collection | null = null;
  try {
    existing = await db.collection(name);
  } catch (e) {
    if (!isQuiverError(e, "NOT_FOUND")) throw e;
  }
  if (existing && (opts.dim !== undefined || opts.metric !== undefined))
    await ensureCollection(
      db,
      name,
      {
        dim: opts.dim ?? existing.schema.vectors.vector?.dim ?? 0,
        metric: opts.metric !== undefined ? metric : (existing.schema.vectors.vector?.metric ?? metric),
      },
      "",
    );
  const schemaFor = (dim: number): CollectionSchema => ({ vectors: { vector: { dim: opts.dim ?? dim, metric } } });
  const limit = opts.limit ?? Infinity;
  const check = await checkJsonl(file, existing ? existing.schema : schemaFor, limit, opts.batch).catch((e) => {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new QuiverError("NOT_FOUND", `file not found: ${file}`);
    throw e;
  });
  if (check.bad.length > 0) {
    const lines = `${check.bad.length.toLocaleString("en-US")} line${check.bad.length === 1 ? "" : "s"}`;
    if (!opts.skipInvalid) {
      const problems = check.bad.slice(0, SHOWN_BAD_LINES).flatMap((b) => b.problems);
      const more = check.bad.length > SHOWN_BAD_LINES ? ` (the first ${SHOWN_BAD_LINES} listed)` : "";
      throw new QuiverError(
        check.bad[0].code,
        `${lines} of ${file} ${check.bad.length === 1 ? "is not a valid record" : "are not valid records"}${more}; nothing was imported (--skip-invalid imports the valid ones)`,
        { problems },
      );
    }
    for (const b of check.bad) for (const p of b.problems) process.stderr.write(`skipped ${p.path}: ${p.message}\n`);
    process.stderr.write(
      `skipped ${lines}: ${check.bad.length === 1 ? "it is not a valid record" : "not valid records"}\n`,
    );
  }
  if (check.valid === 0) {
    if (existing) return 0;
    throw new QuiverError("INVALID_ARGUMENT", `${file} has no valid record; collection "${name}" was not created`);
  }
  let coll = existing;
  if (!coll) {
    const spec = schemaFor(check.firstDim?.dim ?? 0).vectors.vector as VectorSpec;
    const from = opts.dim !== undefined ? "" : ` from line ${check.firstDim!.line}`;
    process.stderr.write(`creating collection "${name}" (vector: dim ${spec.dim}${from}, ${spec.metric})\n`);
    coll = await db.createCollection(name, schemaFor(spec.dim));
  }
  progress.started = true;
  const bar = progressBar(`importing ${name}`, check.valid);
  try {
    progress.imported = await writeJsonl(
      coll,
      file,
      limit,
      new Set(check.bad.map((b) => b.line)),
      opts.batch,
      bar,
      signal,
    );
  } finally {
    bar.stop();
  }
  return progress.imported;
}

export function importCommand(ctx: CliContext): Command {
  return new Command("import")
    .description("import vectors from a dataset folder (meta.json + base.f32) or a JSONL file of records")
    .argument("<collection>", "collection to import into")
    .option("--data <dir>", 'dataset folder in the shared format; row i gets id "i"')
    .option("--jsonl <file>", "one JSON record per line: {id, vector | vectors, payload}")
    .option("--limit <n>", "import at most this many records", intOption(1))
    .option("--batch <n>", "records per upsert", intOption(1, 10_000), 1000)
    .option(
      "--threads <n>",
      "threads that build the graph (batches of 1000 records or more); default: one per core",
      intOption(1, 256),
    )
    .option("--dim <n>", "with --jsonl: dimension of a new collection (default: the first record's)", intOption(1))
    .option("--metric <metric>", "with --jsonl: metric of a new collection: cosine (default), l2, dot")
    .option("--skip-invalid", "with --jsonl: report each invalid line and import the others (default: import nothing)")
    .action(async (name: string, opts: ImportOptions, cmd: Command) => {
      if ((opts.data === undefined) === (opts.jsonl === undefined))
        throw badOption("--data / --jsonl", "give exactly one of --data DIR or --jsonl FILE");
      if (opts.data !== undefined && (opts.dim !== undefined || opts.metric !== undefined)) {
        throw badOption(
          "--dim / --metric",
          "only apply to --jsonl; a dataset's meta.json gives the dimension and metric",
        );
      }
      const progress = { imported: 0, started: false };
      await ctx.withDb(
        cmd,
        async (db, signal) => {
          const started = performance.now();
          try {
            const n =
              opts.data !== undefined
                ? await importDataset(db, signal, name, opts, opts.data, progress)
                : await importJsonl(db, signal, name, opts, opts.jsonl!, progress);
            const count = await (await db.collection(name)).count();
            process.stdout.write(
              `${summaryLine("imported", n, performance.now() - started)} into "${name}" (now ${count.toLocaleString("en-US")} records)\n`,
            );
          } catch (e) {
            // A JSONL import says in its error what was written.
            if (progress.started && opts.data !== undefined)
              process.stderr.write(
                `import stopped: ${records(progress.imported)} imported so far (each batch is all or nothing)\n`,
              );
            throw e;
          }
        },
        { threads: importThreads(opts.threads) },
      );
    });
}
