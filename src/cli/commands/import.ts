/**
 * `quiver import`: loads a dataset folder in the shared vector format (row i becomes id "i"), or a
 * JSONL file of records, in batches with a progress bar; a bad record stops it at its line number.
 */
import { createReadStream } from "node:fs";
import { basename } from "node:path";
import { createInterface } from "node:readline";
import { Command } from "commander";
import {
  QuiverError,
  isQuiverError,
  type Collection,
  type Database,
  type Problem,
  type RecordInput,
  type VectorSpec,
} from "../../index.js";
import { readBase, readMeta, toMetric } from "../dataset.js";
import { badOption, intOption, progressBar, summaryLine, type CliContext, type Progress } from "../output.js";

interface ImportOptions {
  data?: string;
  jsonl?: string;
  limit?: number;
  batch: number;
  dim?: number;
  metric?: string;
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

async function countLines(file: string): Promise<number> {
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines++;
    if (chunk.length > 0) last = chunk[chunk.length - 1];
  }
  return last === 0x0a ? lines : lines + 1;
}

/** The record index a problem path such as `records[3].vector[2]` points at, and the rest of the path. */
function splitPath(path: string): { index: number; rest: string } | null {
  const m = /^records\[(\d+)\]\.?(.*)$/.exec(path);
  return m ? { index: Number(m[1]), rest: m[2] } : null;
}

function records(n: number): string {
  return `${n.toLocaleString("en-US")} record${n === 1 ? "" : "s"}`;
}

/** Errors that already say how much was imported, so the command does not repeat it. */
const lineErrors = new WeakSet<Error>();

function lineError(err: QuiverError): QuiverError {
  lineErrors.add(err);
  return err;
}

interface Pending {
  records: RecordInput[];
  lines: number[];
  ids: Set<string>;
}

class JsonlImporter {
  imported = 0;
  private pending: Pending = { records: [], lines: [], ids: new Set() };

  constructor(
    private readonly coll: Collection,
    private readonly file: string,
    private readonly batch: number,
    private readonly bar: Progress,
    private readonly signal: AbortSignal,
  ) {}

  /** Adds one parsed line; a repeated id flushes first, so a later line replaces an earlier one as in sequential upserts. */
  async add(rec: unknown, line: number): Promise<void> {
    const id = (rec as { id?: unknown } | null)?.id;
    if (typeof id === "string" && this.pending.ids.has(id)) await this.flush();
    this.pending.records.push(rec as RecordInput);
    this.pending.lines.push(line);
    if (typeof id === "string") this.pending.ids.add(id);
    if (this.pending.records.length >= this.batch) await this.flush();
  }

  /** Upserts the pending batch. When validation rejects it, the records before the first bad line are still imported. */
  async flush(): Promise<void> {
    const { records, lines } = this.pending;
    this.pending = { records: [], lines: [], ids: new Set() };
    if (records.length === 0) return;
    this.signal.throwIfAborted();
    try {
      await this.coll.upsert(records);
      this.done(records.length);
    } catch (e) {
      if (!isQuiverError(e) || e.kind !== "user") throw e;
      const located = e.problems.map((p) => ({ p, at: splitPath(p.path) }));
      const bad = Math.min(...located.map((l) => l.at?.index ?? Infinity));
      if (!Number.isFinite(bad)) throw e;
      if (bad > 0) {
        await this.coll.upsert(records.slice(0, bad));
        this.done(bad);
      }
      const where = `${basename(this.file)}:${lines[bad]}`;
      const problems = located
        .filter((l) => l.at?.index === bad)
        .map(({ p, at }) => ({ path: at!.rest ? `${where} ${at!.rest}` : where, message: p.message }));
      throw lineError(
        new QuiverError(e.code, `line ${lines[bad]} of ${this.file} is not a valid record; ${this.before()}`, {
          problems,
          cause: e,
        }),
      );
    }
  }

  /** Reports a line that is not JSON, after importing everything before it. */
  async badJson(line: number, err: unknown): Promise<never> {
    await this.flush();
    const problems = [
      { path: `${basename(this.file)}:${line}`, message: err instanceof Error ? err.message : String(err) },
    ];
    throw lineError(
      new QuiverError("INVALID_ARGUMENT", `line ${line} of ${this.file} is not valid JSON; ${this.before()}`, {
        problems,
      }),
    );
  }

  /** Import stops at the first bad line, with every record before it imported. */
  private before(): string {
    if (this.imported === 0) return "nothing was imported";
    return this.imported === 1
      ? "the record before it was imported, nothing after"
      : `the ${records(this.imported)} before it were imported, nothing after`;
  }

  private done(n: number): void {
    this.imported += n;
    this.bar.increment(n);
  }
}

async function importJsonl(
  db: Database,
  signal: AbortSignal,
  name: string,
  opts: ImportOptions,
  file: string,
  progress: { imported: number; started: boolean },
): Promise<number> {
  if ((opts.dim === undefined) !== (opts.metric === undefined))
    throw badOption(opts.dim === undefined ? "--dim" : "--metric", "--dim and --metric go together");
  const spec = opts.dim !== undefined ? { dim: opts.dim, metric: toMetric(opts.metric, "--metric") } : null;
  const total = await countLines(file).catch((e) => {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new QuiverError("NOT_FOUND", `file not found: ${file}`);
    throw e;
  });
  const coll = await ensureCollection(db, name, spec, "pass --dim N --metric cosine|l2|dot to create it");
  const limit = opts.limit ?? Infinity;
  progress.started = true;
  const bar = progressBar(`importing ${name}`, Math.min(total, limit));
  const importer = new JsonlImporter(coll, file, opts.batch, bar, signal);
  try {
    let line = 0;
    let taken = 0;
    for await (const text of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      line++;
      if (text.trim() === "") continue;
      if (taken++ >= limit) break;
      let rec: unknown;
      try {
        rec = JSON.parse(text);
      } catch (e) {
        await importer.badJson(line, e);
      }
      await importer.add(rec, line);
    }
    await importer.flush();
  } finally {
    bar.stop();
    progress.imported = importer.imported;
  }
  return importer.imported;
}

export function importCommand(ctx: CliContext): Command {
  return new Command("import")
    .description("import vectors from a dataset folder (meta.json + base.f32) or a JSONL file of records")
    .argument("<collection>", "collection to import into")
    .option("--data <dir>", 'dataset folder in the shared format; row i gets id "i"')
    .option("--jsonl <file>", "one JSON record per line: {id, vector | vectors, payload}")
    .option("--limit <n>", "import at most this many records", intOption(1))
    .option("--batch <n>", "records per upsert", intOption(1, 10_000), 1000)
    .option("--dim <n>", "with --jsonl: create the collection with this dimension", intOption(1))
    .option("--metric <metric>", "with --jsonl: create the collection with this metric (cosine, l2, dot)")
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
      await ctx.withDb(cmd, async (db, signal) => {
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
          if (progress.started && !(e instanceof Error && lineErrors.has(e)))
            process.stderr.write(
              `import stopped: ${records(progress.imported)} imported so far (each batch is all or nothing)\n`,
            );
          throw e;
        }
      });
    });
}
