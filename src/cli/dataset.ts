/**
 * Reads a vector dataset folder in the shared benchmark format (meta.json, base.f32, query.f32,
 * gt.i32: little-endian, row-major, no header) and checks its sizes against meta.json.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { QuiverError, type Metric } from "../index.js";

export interface DatasetMeta {
  dim: number;
  nBase: number;
  nQuery: number;
  /** Quiver's name for the dataset's metric. */
  metric: Metric;
  /** The metric as written in meta.json, e.g. "angular". */
  metricName: string;
}

const METRIC_ALIASES: Record<string, Metric> = {
  cosine: "cosine",
  angular: "cosine",
  l2: "l2",
  euclidean: "l2",
  dot: "dot",
  ip: "dot",
};

/** Maps a metric name of the shared format (or a CLI option) to Quiver's; throws INVALID_ARGUMENT otherwise. */
export function toMetric(name: unknown, path: string): Metric {
  const m = typeof name === "string" ? METRIC_ALIASES[name.toLowerCase()] : undefined;
  if (!m) {
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      {
        path,
        message: `unknown metric ${JSON.stringify(name)}; expected one of ${Object.keys(METRIC_ALIASES).join(", ")}`,
      },
    ]);
  }
  return m;
}

function readBytes(path: string, what: string): Buffer {
  if (!existsSync(path)) throw new QuiverError("NOT_FOUND", `${what} not found: ${path}`);
  return readFileSync(path);
}

function positiveInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v > 0;
}

export function readMeta(dir: string): DatasetMeta {
  const path = join(dir, "meta.json");
  let raw: unknown;
  try {
    raw = JSON.parse(readBytes(path, "dataset meta.json").toString("utf8"));
  } catch (e) {
    if (e instanceof QuiverError) throw e;
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      { path, message: `is not valid JSON (${e instanceof Error ? e.message : String(e)})` },
    ]);
  }
  const m = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  const problems = [];
  if (!positiveInt(m.dim))
    problems.push({ path: `${path}: dim`, message: `must be a positive integer, got ${JSON.stringify(m.dim)}` });
  if (m.nBase !== undefined && !positiveInt(m.nBase))
    problems.push({ path: `${path}: nBase`, message: "must be a positive integer" });
  if (m.nQuery !== undefined && !(Number.isInteger(m.nQuery) && (m.nQuery as number) >= 0))
    problems.push({ path: `${path}: nQuery`, message: "must be a non-negative integer" });
  if (problems.length > 0) throw QuiverError.fromProblems("INVALID_ARGUMENT", problems);
  return {
    dim: m.dim as number,
    nBase: (m.nBase as number | undefined) ?? -1,
    nQuery: (m.nQuery as number | undefined) ?? -1,
    metric: toMetric(m.metric, `${path}: metric`),
    metricName: String(m.metric),
  };
}

/** Reads `rows × dim` float32 values; the row count comes from the file size and is checked against meta. */
function readMatrix(
  path: string,
  dim: number,
  expectedRows: number,
  what: string,
): { data: Float32Array; rows: number } {
  const b = readBytes(path, what);
  if (b.byteLength % (dim * 4) !== 0) {
    throw new QuiverError(
      "INVALID_ARGUMENT",
      `${path} is ${b.byteLength} bytes, not a whole number of ${dim}-d float32 rows`,
    );
  }
  const rows = b.byteLength / (dim * 4);
  if (expectedRows >= 0 && rows !== expectedRows) {
    throw new QuiverError("INVALID_ARGUMENT", `${path} holds ${rows} rows but meta.json says ${expectedRows}`);
  }
  // Copy when unaligned: a Float32Array view needs a 4-byte aligned offset.
  const data =
    b.byteOffset % 4 === 0
      ? new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4)
      : new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  return { data, rows };
}

export function readBase(dir: string, meta: DatasetMeta): { data: Float32Array; rows: number } {
  return readMatrix(join(dir, "base.f32"), meta.dim, meta.nBase, "dataset base.f32");
}

/** Row `row` of the dataset's query.f32, as a plain array. */
export function readQueryRow(dir: string, meta: DatasetMeta, row: number): number[] {
  const { data, rows } = readMatrix(join(dir, "query.f32"), meta.dim, meta.nQuery, "dataset query.f32");
  if (row < 0 || row >= rows)
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      { path: "--row", message: `must be from 0 to ${rows - 1} (query.f32 has ${rows} rows)` },
    ]);
  return Array.from(data.subarray(row * meta.dim, (row + 1) * meta.dim));
}

/** The ground-truth base rows (nearest first) of query `row`, or null when the folder has no gt.i32. */
export function readGroundTruth(dir: string, meta: DatasetMeta, row: number): number[] | null {
  const path = join(dir, "gt.i32");
  if (!existsSync(path) || meta.nQuery <= 0) return null;
  const b = readFileSync(path);
  const k = b.byteLength / 4 / meta.nQuery;
  if (!Number.isInteger(k) || k === 0) return null;
  const out: number[] = [];
  for (let i = 0; i < k; i++) out.push(b.readInt32LE((row * k + i) * 4));
  return out;
}
