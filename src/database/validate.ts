/**
 * Validation at the edge: schemas and records are checked completely, every problem reported
 * with its path, before anything reaches the WAL. Valid input comes out in stored form
 * (payload serialized once, vectors as Float32Array), so later stages never re-check.
 */
import { QuiverError, type Problem } from "../core/errors/errors.js";
import { NAME_PATTERN, RESERVED_NAMES, type Limits } from "../api/limits.js";
import type { StoredRecord } from "./ops.js";
import type {
  CollectionSchema,
  Metric,
  PayloadIndexType,
  VectorIndexSpec,
  VectorSpec,
  TextFieldSpec,
} from "../core/schema/schema.js";
import { toSparseVector, type SparseVector } from "../core/index/sparse/sparse-vector.js";
import { checkTextFieldSpec, type TextPlugins } from "../core/analysis/analyzer.js";

const METRICS: readonly Metric[] = ["cosine", "dot", "l2"];
const INDEX_TYPES: readonly PayloadIndexType[] = ["keyword", "number", "boolean"];
const utf8 = new TextEncoder();
// Lone UTF-16 surrogates cannot be encoded as UTF-8, so such an id would not survive storage.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `${typeof v} ${JSON.stringify(v)?.slice(0, 40)}`;
}

export function checkName(name: unknown, path: string, problems: Problem[]): void {
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
    problems.push({
      path,
      message: `must be 1-64 characters of letters, digits, "_", "-" or "." (not starting with "-" or "."), got ${describe(name)}`,
    });
  } else if (RESERVED_NAMES.has(name)) {
    problems.push({ path, message: `"${name}" is reserved (${[...RESERVED_NAMES].join(", ")} cannot be names)` });
  }
}

/** A payload field or dotted path: no empty segment, no reserved one. */
function checkFieldPath(field: string, path: string, problems: Problem[]): void {
  const segments = field.split(".");
  if (field.length === 0 || segments.some((s) => s.length === 0))
    problems.push({ path, message: "must be a field name or dotted path" });
  else if (segments.some((s) => RESERVED_NAMES.has(s)))
    problems.push({ path, message: `must not contain ${[...RESERVED_NAMES].join(", ")} (reserved)` });
}

export function validateSchema(input: unknown, limits: Limits, plugins: TextPlugins = {}): CollectionSchema {
  const problems: Problem[] = [];
  if (!isPlainObject(input)) {
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      { path: "schema", message: 'must be an object like { vectors: { text: { dim: 384, metric: "cosine" } } }' },
    ]);
  }
  const out: CollectionSchema = { vectors: {} };
  const vectors = input.vectors ?? (isPlainObject(input.text) ? {} : undefined);
  const hasText = isPlainObject(input.text) && Object.keys(input.text).length > 0;
  if (!isPlainObject(vectors) || (Object.keys(vectors).length === 0 && !hasText)) {
    problems.push({
      path: "schema.vectors",
      message: 'must name at least one vector, e.g. { text: { dim: 384, metric: "cosine" } } (or declare text fields)',
    });
  } else {
    for (const [name, spec] of Object.entries(vectors)) {
      const p = `schema.vectors.${name}`;
      checkName(name, p, problems);
      if (!isPlainObject(spec)) {
        problems.push({ path: p, message: 'must be { dim, metric } or { kind: "sparse" }' });
        continue;
      }
      if (spec.kind === "sparse") {
        for (const key of Object.keys(spec))
          if (key !== "kind")
            problems.push({ path: `${p}.${key}`, message: "unknown option (a sparse vector takes only kind)" });
        out.vectors[name] = { kind: "sparse" };
        continue;
      }
      if (spec.kind !== undefined && spec.kind !== "dense")
        problems.push({ path: `${p}.kind`, message: `must be dense or sparse, got ${describe(spec.kind)}` });
      const { dim, metric } = spec;
      if (typeof dim !== "number" || !Number.isInteger(dim) || dim < 1 || dim > limits.maxDimension) {
        problems.push({
          path: `${p}.dim`,
          message: `must be an integer from 1 to ${limits.maxDimension}, got ${describe(dim)}`,
        });
      }
      if (!METRICS.includes(metric as Metric)) {
        problems.push({
          path: `${p}.metric`,
          message: `must be one of ${METRICS.join(", ")}, got ${describe(metric)}`,
        });
      }
      for (const key of Object.keys(spec)) {
        if (!["kind", "dim", "metric", "embedder", "source", "index"].includes(key))
          problems.push({ path: `${p}.${key}`, message: "unknown option" });
      }
      const dense: VectorSpec = { dim: dim as number, metric: metric as Metric };
      out.vectors[name] = dense;
      if (spec.index !== undefined) {
        const index = validateIndexSpec(spec.index, `${p}.index`, problems);
        if (index) dense.index = index;
      }
      // Binding to an embedder (src/embed/bind.ts): a name the database resolves, never a model to load.
      if (spec.embedder !== undefined) {
        checkName(spec.embedder, `${p}.embedder`, problems);
        dense.embedder = spec.embedder as string;
      }
      if (spec.source !== undefined) {
        if (spec.embedder === undefined)
          problems.push({ path: `${p}.source`, message: "needs embedder: the text of source is embedded by it" });
        if (
          typeof spec.source !== "string" ||
          spec.source.length === 0 ||
          spec.source.split(".").some((s) => s.length === 0)
        ) {
          problems.push({ path: `${p}.source`, message: "must be a payload field name or dotted path" });
        }
        dense.source = spec.source as string;
      }
    }
  }
  if (input.indexes !== undefined) {
    if (!isPlainObject(input.indexes)) {
      problems.push({
        path: "schema.indexes",
        message: "must be an object mapping payload fields to keyword, number or boolean",
      });
    } else {
      out.indexes = {};
      for (const [field, type] of Object.entries(input.indexes)) {
        checkFieldPath(field, `schema.indexes.${field}`, problems);
        if (!INDEX_TYPES.includes(type as PayloadIndexType)) {
          problems.push({
            path: `schema.indexes.${field}`,
            message: `must be one of ${INDEX_TYPES.join(", ")}, got ${describe(type)}`,
          });
        }
        out.indexes[field] = type as PayloadIndexType;
      }
    }
  }
  if (input.text !== undefined) {
    if (!isPlainObject(input.text)) {
      problems.push({
        path: "schema.text",
        message: 'must be an object mapping payload fields to text options, e.g. { body: { analyzer: "english" } }',
      });
    } else {
      out.text = {};
      for (const [field, spec] of Object.entries(input.text)) {
        const p = `schema.text.${field}`;
        checkFieldPath(field, p, problems);
        checkTextFieldSpec(spec, p, plugins, problems);
        out.text[field] = structuredClone(spec) as TextFieldSpec;
      }
    }
  }
  if (input.bm25 !== undefined) {
    if (!isPlainObject(input.bm25)) {
      problems.push({ path: "schema.bm25", message: "must be an object { k1?, b? }" });
    } else {
      const { k1, b } = input.bm25;
      if (k1 !== undefined && (typeof k1 !== "number" || !Number.isFinite(k1) || k1 < 0 || k1 > 100))
        problems.push({ path: "schema.bm25.k1", message: `must be a number from 0 to 100, got ${describe(k1)}` });
      if (b !== undefined && (typeof b !== "number" || !Number.isFinite(b) || b < 0 || b > 1))
        problems.push({ path: "schema.bm25.b", message: `must be a number from 0 to 1, got ${describe(b)}` });
      for (const key of Object.keys(input.bm25))
        if (key !== "k1" && key !== "b")
          problems.push({ path: `schema.bm25.${key}`, message: "unknown option (expected k1, b)" });
      if (!hasText)
        problems.push({ path: "schema.bm25", message: "applies to text fields, and the schema declares none" });
      out.bm25 = { ...(k1 !== undefined ? { k1: k1 as number } : {}), ...(b !== undefined ? { b: b as number } : {}) };
    }
  }
  for (const key of Object.keys(input)) {
    if (!["vectors", "indexes", "text", "bm25"].includes(key))
      problems.push({ path: `schema.${key}`, message: "unknown option (expected vectors, indexes, text, bm25)" });
  }
  if (problems.length > 0) throw QuiverError.fromProblems("INVALID_ARGUMENT", problems);
  return out;
}

const INDEX_TYPES_V = ["auto", "flat", "hnsw"] as const;
const QUANTIZATIONS = ["none", "int8", "binary"] as const;

function validateIndexSpec(input: unknown, path: string, problems: Problem[]): VectorIndexSpec | null {
  if (!isPlainObject(input)) {
    problems.push({ path, message: 'must be an object such as { type: "hnsw", m: 16, quantization: "int8" }' });
    return null;
  }
  const out: VectorIndexSpec = {};
  const int = (key: "m" | "efConstruction" | "efSearch", min: number, max: number) => {
    const v = input[key];
    if (v === undefined) return;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
      problems.push({
        path: `${path}.${key}`,
        message: `must be an integer from ${min} to ${max}, got ${describe(v)}`,
      });
    else out[key] = v;
  };
  if (input.type !== undefined) {
    if (!INDEX_TYPES_V.includes(input.type as never))
      problems.push({
        path: `${path}.type`,
        message: `must be one of ${INDEX_TYPES_V.join(", ")}, got ${describe(input.type)}`,
      });
    else out.type = input.type as VectorIndexSpec["type"];
  }
  int("m", 2, 128);
  int("efConstruction", 1, 10_000);
  int("efSearch", 1, 10_000);
  if (input.quantization !== undefined) {
    if (!QUANTIZATIONS.includes(input.quantization as never))
      problems.push({
        path: `${path}.quantization`,
        message: `must be one of ${QUANTIZATIONS.join(", ")}, got ${describe(input.quantization)}`,
      });
    else out.quantization = input.quantization as VectorIndexSpec["quantization"];
  }
  if (input.originals !== undefined) {
    if (input.originals !== "memory" && input.originals !== "disk")
      problems.push({
        path: `${path}.originals`,
        message: `must be one of memory, disk, got ${describe(input.originals)}`,
      });
    else if (input.originals === "disk" && out.quantization === "none" && out.type !== "flat") {
      problems.push({
        path: `${path}.originals`,
        message: 'disk needs quantized codes in memory for the graph: use quantization "int8" or "binary"',
      });
    } else out.originals = input.originals;
  }
  for (const key of Object.keys(input)) {
    if (!["type", "m", "efConstruction", "efSearch", "quantization", "originals"].includes(key))
      problems.push({
        path: `${path}.${key}`,
        message: "unknown option (expected type, m, efConstruction, efSearch, quantization, originals)",
      });
  }
  return out;
}

export function checkId(id: unknown, path: string, limits: Limits, problems: Problem[]): id is string {
  if (typeof id !== "string" || id.length === 0) {
    problems.push({ path, message: `must be a non-empty string, got ${describe(id)}` });
    return false;
  }
  if (utf8.encode(id).length > limits.maxIdBytes) {
    problems.push({ path, message: `must be at most ${limits.maxIdBytes} bytes of UTF-8` });
    return false;
  }
  if (LONE_SURROGATE.test(id)) {
    problems.push({ path, message: "must be well-formed Unicode (no lone surrogates)" });
    return false;
  }
  return true;
}

/** Walks a payload: plain JSON only (finite numbers, no undefined, functions, classes or cycles). */
function checkJson(v: unknown, path: string, depth: number, limits: Limits, problems: Problem[]): void {
  if (problems.length > 100) return;
  if (v === null || typeof v === "string" || typeof v === "boolean") return;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) problems.push({ path, message: `must be a finite number, got ${v}` });
    return;
  }
  if (depth > limits.maxPayloadDepth) {
    problems.push({ path, message: `nesting deeper than ${limits.maxPayloadDepth} levels` });
    return;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) checkJson(v[i], `${path}[${i}]`, depth + 1, limits, problems);
    return;
  }
  if (isPlainObject(v)) {
    for (const [k, x] of Object.entries(v)) checkJson(x, `${path}.${k}`, depth + 1, limits, problems);
    return;
  }
  problems.push({
    path,
    message: `must be JSON (string, finite number, boolean, null, array or plain object), got ${typeof v}`,
  });
}

function toVector(v: unknown, dim: number, metric: Metric, path: string, problems: Problem[]): Float32Array | null {
  const arrayLike = Array.isArray(v) || v instanceof Float32Array || v instanceof Float64Array;
  if (!arrayLike) {
    problems.push({ path, message: `must be an array of ${dim} numbers, got ${describe(v)}` });
    return null;
  }
  const src = v as ArrayLike<unknown>;
  if (src.length !== dim) {
    problems.push({ path, message: `expected ${dim} numbers, got ${src.length}` });
    return null;
  }
  const out = new Float32Array(dim);
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    const x = src[i];
    if (typeof x === "number") out[i] = x;
    // Float32 overflow turns large doubles into Infinity, so check the stored value too.
    if (typeof x !== "number" || !Number.isFinite(x) || !Number.isFinite(out[i])) {
      problems.push({
        path: `${path}[${i}]`,
        message: `must be a finite number (float32 range), got ${typeof x === "number" ? x : describe(x)}`,
      });
      return null;
    }
    norm += out[i] * out[i];
  }
  if (metric === "cosine" && norm === 0) {
    problems.push({ path, message: "a zero vector has no direction, so it cannot be compared by cosine" });
    return null;
  }
  return out;
}

/**
 * Validates a batch for upsert. Duplicate ids inside one batch are rejected (DUPLICATE_ID) rather
 * than resolved silently: which copy should win is the caller's decision, not ours.
 */
export function validateRecords(input: unknown, schema: CollectionSchema, limits: Limits): StoredRecord[] {
  if (!Array.isArray(input)) {
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: "records", message: "must be an array of records" }]);
  }
  if (input.length > limits.maxBatch) {
    throw QuiverError.fromProblems("PAYLOAD_TOO_LARGE", [
      { path: "records", message: `at most ${limits.maxBatch} records per call, got ${input.length}` },
    ]);
  }
  const names = Object.keys(schema.vectors);
  const problems: Problem[] = [];
  const out: StoredRecord[] = [];
  const seen = new Map<string, number>();
  const duplicates: Problem[] = [];
  let tooLarge = false;
  let tooMany = false;
  input.forEach((rec: unknown, i) => {
    const p = `records[${i}]`;
    if (!isPlainObject(rec)) {
      problems.push({ path: p, message: "must be an object { id, vectors, payload }" });
      return;
    }
    const before = problems.length;
    if (checkId(rec.id, `${p}.id`, limits, problems)) {
      const first = seen.get(rec.id);
      if (first !== undefined)
        duplicates.push({ path: `${p}.id`, message: `duplicates records[${first}].id "${rec.id}"` });
      else seen.set(rec.id, i);
    }
    let given: Record<string, unknown> = {};
    if (rec.vector !== undefined && rec.vectors !== undefined) {
      problems.push({ path: `${p}.vector`, message: "give either vector or vectors, not both" });
    } else if (rec.vector !== undefined) {
      if (names.length === 0)
        problems.push({ path: `${p}.vector`, message: "this collection has no vectors (text only)" });
      else if (names.length !== 1)
        problems.push({
          path: `${p}.vector`,
          message: `this collection has several vectors (${names.join(", ")}): use vectors: { name: [...] }`,
        });
      else given = { [names[0]]: rec.vector };
    } else if (rec.vectors !== undefined) {
      if (!isPlainObject(rec.vectors))
        problems.push({ path: `${p}.vectors`, message: "must be an object mapping vector names to arrays" });
      else given = rec.vectors;
    }
    const vectors = new Map<string, Float32Array>();
    const sparse = new Map<string, SparseVector>();
    for (const [name, v] of Object.entries(given)) {
      // Own properties only: `vectors: { constructor: [...] }` names no vector of any schema.
      const spec = Object.hasOwn(schema.vectors, name) ? schema.vectors[name] : undefined;
      const vp = rec.vector !== undefined ? `${p}.vector` : `${p}.vectors.${name}`;
      if (!spec) {
        problems.push({ path: vp, message: `unknown vector; this collection has ${names.join(", ")}` });
        continue;
      }
      if (spec.kind === "sparse") {
        const s = toSparseVector(v, vp, limits.maxSparseNonZeros, problems);
        tooMany ||= s.tooLarge;
        if (s.vector) sparse.set(name, s.vector);
        continue;
      }
      const vec = toVector(v, spec.dim, spec.metric, vp, problems);
      if (vec && vec.length !== spec.dim) throw new QuiverError("INTERNAL", "vector length check failed");
      if (vec) vectors.set(name, vec);
    }
    let payloadJson = "{}";
    if (rec.payload !== undefined) {
      if (!isPlainObject(rec.payload)) {
        problems.push({ path: `${p}.payload`, message: `must be a plain object, got ${describe(rec.payload)}` });
      } else {
        checkJson(rec.payload, `${p}.payload`, 1, limits, problems);
        if (problems.length === before) {
          payloadJson = JSON.stringify(rec.payload);
          const bytes = utf8.encode(payloadJson).length;
          if (bytes > limits.maxPayloadBytes) {
            tooLarge = true;
            problems.push({
              path: `${p}.payload`,
              message: `is ${bytes} bytes of JSON; the limit is ${limits.maxPayloadBytes}`,
            });
          }
        }
      }
    }
    for (const key of Object.keys(rec)) {
      if (!["id", "vector", "vectors", "payload"].includes(key))
        problems.push({ path: `${p}.${key}`, message: "unknown field (expected id, vectors, payload)" });
    }
    if (problems.length === before) out.push({ id: rec.id as string, payloadJson, vectors, sparse });
  });
  if (problems.length > 0) {
    const dims = problems.some((q) => /^expected \d+ numbers/.test(q.message));
    const code = tooLarge
      ? "PAYLOAD_TOO_LARGE"
      : tooMany
        ? "LIMIT_EXCEEDED"
        : dims
          ? "DIMENSION_MISMATCH"
          : "INVALID_ARGUMENT";
    throw QuiverError.fromProblems(code, [...problems, ...duplicates]);
  }
  if (duplicates.length > 0) throw QuiverError.fromProblems("DUPLICATE_ID", duplicates);
  return out;
}

/** Validates a list of ids for get / delete. */
export function validateIds(input: unknown, limits: Limits, path = "ids"): string[] {
  if (!Array.isArray(input))
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path, message: "must be an array of string ids" }]);
  if (input.length > limits.maxBatch) {
    throw QuiverError.fromProblems("PAYLOAD_TOO_LARGE", [
      { path, message: `at most ${limits.maxBatch} ids per call, got ${input.length}` },
    ]);
  }
  const problems: Problem[] = [];
  input.forEach((id, i) => {
    checkId(id, `${path}[${i}]`, limits, problems);
  });
  if (problems.length > 0) throw QuiverError.fromProblems("INVALID_ARGUMENT", problems);
  return input as string[];
}

/** Validates a query vector against its spec; returns it as Float32Array. */
export function validateQueryVector(v: unknown, dim: number, metric: Metric, path: string): Float32Array {
  const problems: Problem[] = [];
  const out = toVector(v, dim, metric, path, problems);
  if (!out) {
    const dims = problems.some((q) => /^expected \d+ numbers/.test(q.message));
    throw QuiverError.fromProblems(dims ? "DIMENSION_MISMATCH" : "INVALID_ARGUMENT", problems);
  }
  return out;
}
