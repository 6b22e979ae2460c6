/**
 * `quiver import --jsonl` in two passes over the file: the first validates every line (JSON, the
 * record against the collection's schema, ids unique in the file) and writes nothing; the second
 * streams the valid lines into the collection in batches. So by default a bad line means nothing
 * is written (and no collection is created); with `--skip-invalid` the bad lines are reported and
 * the rest imported. When the collection does not exist, the first record gives its dimension.
 */
import { createReadStream } from "node:fs";
import { basename } from "node:path";
import { createInterface } from "node:readline";
import {
  open,
  QuiverError,
  isQuiverError,
  type Collection,
  type CollectionSchema,
  type ErrorCode,
  type Problem,
  type RecordInput,
} from "../index.js";
import type { Progress } from "./output.js";

/** One non-empty line of the file, up to `limit` of them. */
interface Line {
  line: number;
  text: string;
}

async function* lines(file: string, limit: number): AsyncGenerator<Line> {
  let line = 0;
  let taken = 0;
  for await (const text of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    line++;
    if (text.trim() === "") continue;
    if (taken++ >= limit) return;
    yield { line, text };
  }
}

/** A line that cannot be imported: its problems, with paths such as `file.jsonl:4 vector`. */
export interface BadLine {
  line: number;
  code: ErrorCode;
  problems: Problem[];
}

export interface CheckResult {
  /** Lines that parse and validate. */
  valid: number;
  bad: BadLine[];
  /** The vector dimension of the first record that has one `vector`, for a collection yet to create. */
  firstDim: { dim: number; line: number } | null;
}

function dimOf(rec: unknown): number | null {
  if (typeof rec !== "object" || rec === null) return null;
  const r = rec as { vector?: unknown; vectors?: unknown };
  if (Array.isArray(r.vector)) return r.vector.length;
  const named = (r.vectors as { vector?: unknown } | undefined)?.vector;
  return Array.isArray(named) ? named.length : null;
}

/**
 * The schema the check runs against: the collection's, without embedder bindings (the check must
 * not embed), and the record with a placeholder vector wherever the real import would embed text
 * or fill from `source`. Embedding problems (an embedder missing, an empty source) show in the write pass.
 */
function checkable(schema: CollectionSchema): { schema: CollectionSchema; stand: (rec: unknown) => unknown } {
  const vectors: CollectionSchema["vectors"] = {};
  const bound: [string, number][] = [];
  for (const [name, spec] of Object.entries(schema.vectors)) {
    if (spec.kind === "sparse") {
      vectors[name] = spec;
      continue;
    }
    vectors[name] = { dim: spec.dim, metric: spec.metric, index: { type: "flat" } };
    if (spec.embedder) bound.push([name, spec.dim]);
  }
  const stand = (rec: unknown): unknown => {
    if (bound.length === 0 || typeof rec !== "object" || rec === null) return rec;
    const r = rec as { vector?: unknown; vectors?: Record<string, unknown> };
    const single = Object.keys(vectors).length === 1 && r.vector !== undefined;
    if (r.vector !== undefined && !single) return rec; // validation reports it as given
    const given: Record<string, unknown> = single
      ? { [bound[0][0]]: r.vector }
      : typeof r.vectors === "object" && r.vectors !== null
        ? { ...r.vectors }
        : {};
    for (const [name, dim] of bound) {
      const v = given[name];
      if (v === undefined || (typeof v === "string" && v.trim() !== "")) given[name] = new Array(dim).fill(1);
    }
    const { vector: _v, ...rest } = r;
    return { ...rest, vectors: given };
  };
  return { schema: { ...schema, vectors }, stand };
}

/**
 * Validates every line against `schema` (or, for a collection to create, against one vector of the
 * first record's dimension and `metric`) in a scratch in-memory database, batch by batch.
 */
export async function checkJsonl(
  file: string,
  schema: CollectionSchema | ((dim: number) => CollectionSchema),
  limit: number,
  batch: number,
): Promise<CheckResult> {
  const where = (line: number, rest = "") => `${basename(file)}:${line}${rest ? ` ${rest}` : ""}`;
  const bad: BadLine[] = [];
  const seen = new Map<string, number>();
  let valid = 0;
  let firstDim: CheckResult["firstDim"] = null;
  const scratch = await open();
  let check: { coll: Collection; stand: (rec: unknown) => unknown } | null = null;
  let pending: { rec: unknown; line: number }[] = [];

  const flush = async () => {
    const batchLines = pending;
    pending = [];
    if (batchLines.length === 0 || !check) return;
    const { coll, stand } = check;
    try {
      await coll.upsert(batchLines.map((p) => stand(p.rec)) as RecordInput[]);
      valid += batchLines.length;
    } catch (e) {
      if (!isQuiverError(e) || e.kind !== "user") throw e;
      const byIndex = new Map<number, Problem[]>();
      for (const p of e.problems) {
        const m = /^records\[(\d+)\]\.?(.*)$/.exec(p.path);
        if (!m) throw e;
        const i = Number(m[1]);
        byIndex.set(i, [...(byIndex.get(i) ?? []), { path: where(batchLines[i].line, m[2]), message: p.message }]);
      }
      for (const [i, problems] of [...byIndex].sort((a, b) => a[0] - b[0]))
        bad.push({ line: batchLines[i].line, code: e.code, problems });
      valid += batchLines.length - byIndex.size;
    }
    // The scratch collection only checks; emptying it keeps memory bounded by one batch.
    const ids = batchLines.map((p) => (p.rec as { id?: unknown }).id).filter((id) => typeof id === "string");
    if (ids.length > 0) await coll.delete(ids as string[]).catch(() => undefined);
  };

  try {
    for await (const { line, text } of lines(file, limit)) {
      let rec: unknown;
      try {
        rec = JSON.parse(text);
      } catch (e) {
        bad.push({ line, code: "INVALID_ARGUMENT", problems: [{ path: where(line), message: (e as Error).message }] });
        continue;
      }
      if (!check) {
        const dim = dimOf(rec);
        if (typeof schema === "function" && dim === null) {
          bad.push({
            line,
            code: "INVALID_ARGUMENT",
            problems: [
              { path: where(line, "vector"), message: "must be an array of numbers (its length sets the dimension)" },
            ],
          });
          continue;
        }
        if (dim !== null) firstDim = { dim, line };
        const c = checkable(typeof schema === "function" ? schema(dim!) : schema);
        check = { coll: await scratch.createCollection("check", c.schema), stand: c.stand };
      }
      const id = (rec as { id?: unknown } | null)?.id;
      if (typeof id === "string") {
        const first = seen.get(id);
        if (first !== undefined) {
          bad.push({
            line,
            code: "DUPLICATE_ID",
            problems: [{ path: where(line, "id"), message: `"${id}" is also the id on line ${first}` }],
          });
          continue;
        }
        seen.set(id, line);
      }
      pending.push({ rec, line });
      if (pending.length >= batch) await flush();
    }
    await flush();
  } finally {
    await scratch.close();
  }
  bad.sort((a, b) => a.line - b.line);
  return { valid, bad, firstDim };
}

/** Streams the lines not in `skip` into the collection in batches; returns how many were written. */
export async function writeJsonl(
  coll: Collection,
  file: string,
  limit: number,
  skip: ReadonlySet<number>,
  batch: number,
  bar: Progress,
  signal: AbortSignal,
): Promise<number> {
  let written = 0;
  let pending: RecordInput[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    signal.throwIfAborted();
    await coll.upsert(pending);
    written += pending.length;
    bar.increment(pending.length);
    pending = [];
  };
  try {
    for await (const { line, text } of lines(file, limit)) {
      if (skip.has(line)) continue;
      pending.push(JSON.parse(text) as RecordInput);
      if (pending.length >= batch) await flush();
    }
    await flush();
  } catch (e) {
    if (!isQuiverError(e)) throw e;
    // Checked lines fail here only on embedding (or a concurrent writer): say what was written.
    throw new QuiverError(e.code, `${e.message}; ${written.toLocaleString("en-US")} records were imported before it`, {
      problems: e.problems,
      cause: e,
    });
  }
  return written;
}
