/**
 * Points as Qdrant returns them: the id back in its own type (src/compat/qdrant/ids.ts), the payload
 * cut to `with_payload` (true, false, a list of keys, or { include } / { exclude }), and the vectors
 * cut to `with_vector` (true, false or a list of names), the unnamed vector as a bare array (under ""
 * beside named sparse vectors), sparse vectors as `{ indices, values }`.
 */
import type { ReadOptions, RecordInput } from "../../api/types.js";
import type { RecordOutput } from "../../api/query.js";
import type { CollectionSchema } from "../../core/schema/schema.js";
import { type Checker, isObject, type Json, unsupported } from "../shape.js";
import { isUnnamed, UNNAMED_VECTOR } from "./collections.js";
import { pointId, quiverId } from "./ids.js";

/** What to return of each point. */
export interface Selection {
  payload: boolean;
  include?: string[];
  exclude?: string[];
  vectors: boolean;
  vectorNames?: string[];
}

function keyList(v: unknown, at: string, check: Checker): string[] | undefined {
  if (Array.isArray(v) && v.every((k) => typeof k === "string")) return v as string[];
  check.fail(at, "must be an array of payload keys");
  return undefined;
}

/** Reads `with_payload` / `with_vector` (each with its Qdrant default). */
export function selection(body: Json, check: Checker, defaults: { payload: boolean; vectors: boolean }): Selection {
  const s: Selection = { payload: defaults.payload, vectors: defaults.vectors };
  const wp = body.with_payload;
  if (typeof wp === "boolean") s.payload = wp;
  else if (Array.isArray(wp)) {
    s.payload = true;
    s.include = keyList(wp, "with_payload", check);
  } else if (isObject(wp)) {
    s.payload = true;
    if ("include" in wp) s.include = keyList(wp.include, "with_payload.include", check);
    else if ("exclude" in wp) s.exclude = keyList(wp.exclude, "with_payload.exclude", check);
    else check.fail("with_payload", "must be true, false, a list of keys, { include } or { exclude }");
  } else if (wp !== undefined && wp !== null)
    check.fail("with_payload", "must be true, false, a list of keys, { include } or { exclude }");
  const wv = body.with_vector ?? body.with_vectors;
  if (typeof wv === "boolean") s.vectors = wv;
  else if (Array.isArray(wv)) {
    s.vectors = true;
    s.vectorNames = keyList(wv, "with_vector", check);
  } else if (wv !== undefined && wv !== null)
    check.fail("with_vector", "must be true, false or a list of vector names");
  return s;
}

export function readOptions(s: Selection): ReadOptions {
  return { withPayload: s.payload, withVectors: s.vectors };
}

/** The value at a dotted path, if any. */
function at(payload: Json, path: string): { found: boolean; value?: unknown } {
  let v: unknown = payload;
  for (const seg of path.split(".")) {
    if (!isObject(v) || !Object.hasOwn(v, seg)) return { found: false };
    v = v[seg];
  }
  return { found: true, value: v };
}

/** Sets a value at a dotted path, creating objects on the way. */
function put(payload: Json, path: string, value: unknown): void {
  const segs = path.split(".");
  let o = payload;
  for (const seg of segs.slice(0, -1)) {
    if (!isObject(o[seg])) o[seg] = {};
    o = o[seg] as Json;
  }
  o[segs[segs.length - 1]] = value;
}

/** Removes the value at a dotted path, if there is one. */
export function removeAt(payload: Json, path: string): void {
  const segs = path.split(".");
  let o: unknown = payload;
  for (const seg of segs.slice(0, -1)) {
    if (!isObject(o)) return;
    o = o[seg];
  }
  if (isObject(o)) delete o[segs[segs.length - 1]];
}

function cutPayload(payload: Json, s: Selection): Json {
  if (s.include) {
    const out: Json = {};
    for (const key of s.include) {
      const v = at(payload, key);
      if (v.found) put(out, key, v.value);
    }
    return out;
  }
  if (s.exclude) {
    const out = structuredClone(payload);
    for (const key of s.exclude) removeAt(out, key);
    return out;
  }
  return payload;
}

/** A Quiver record as a Qdrant point (without a score). */
export function point(r: RecordOutput, schema: CollectionSchema, s: Selection): Json {
  const out: Json = { id: pointId(r.id) };
  out.payload = s.payload ? cutPayload(r.payload ?? {}, s) : null;
  if (s.vectors) {
    const vectors = r.vectors ?? {};
    const unnamed = isUnnamed(schema);
    // Beside sparse vectors, Qdrant names the unnamed dense vector "".
    const besideSparse = unnamed && Object.keys(schema.vectors).length > 1;
    if (unnamed && !besideSparse && !s.vectorNames) out.vector = vectors[UNNAMED_VECTOR] ?? null;
    else {
      const names = (s.vectorNames ?? Object.keys(vectors)).map((n) => (unnamed && n === "" ? UNNAMED_VECTOR : n));
      out.vector = Object.fromEntries(
        names
          .filter((n) => Object.hasOwn(vectors, n))
          .map((n) => [besideSparse && n === UNNAMED_VECTOR ? "" : n, vectors[n]]),
      );
    }
  } else out.vector = null;
  return out;
}

/**
 * A Qdrant point's vector (a bare array, or named ones: dense arrays and sparse `{ indices, values }`,
 * "" naming the unnamed one) as Quiver record fields.
 */
function vectorFields(v: unknown, path: string, check: Checker): Pick<RecordInput, "vector" | "vectors"> {
  if (Array.isArray(v)) {
    if (v.length > 0 && Array.isArray(v[0])) throw unsupported("Qdrant", "multivectors");
    return { vector: check.vector(v, path) };
  }
  if (isObject(v)) {
    if ("indices" in v) {
      check.fail(path, "a sparse vector goes under its name: { name: { indices, values } }");
      return {};
    }
    const vectors: NonNullable<RecordInput["vectors"]> = {};
    for (const [name, value] of Object.entries(v)) {
      const key = name === "" ? UNNAMED_VECTOR : name;
      if (isObject(value)) {
        const sparse = check.sparse(value, `${path}.${name}`);
        if (sparse) vectors[key] = sparse;
        continue;
      }
      if (Array.isArray(value) && Array.isArray(value[0])) throw unsupported("Qdrant", "multivectors");
      const vec = check.vector(value, `${path}.${name}`);
      if (vec) vectors[key] = vec;
    }
    return { vectors };
  }
  if (typeof v === "string") throw unsupported("Qdrant", "inference (documents or images in place of vectors)");
  check.fail(path, "must be a vector or an object of named vectors");
  return {};
}

function payloadOf(p: unknown, path: string, check: Checker): Json | undefined {
  if (p === undefined || p === null) return undefined;
  if (isObject(p)) return p;
  check.fail(path, "must be an object");
  return undefined;
}

/** The records of an upsert body, in its list form (`points`) or its batch form (`batch`). */
export function upsertRecords(body: Json, check: Checker): RecordInput[] {
  const records: RecordInput[] = [];
  if (Array.isArray(body.points)) {
    body.points.forEach((p, i) => {
      const at = `points[${i}]`;
      if (!isObject(p)) {
        check.fail(at, "must be a point { id, vector, payload }");
        return;
      }
      const id = quiverId(p.id, `${at}.id`, check);
      const vec = vectorFields(p.vector, `${at}.vector`, check);
      const payload = payloadOf(p.payload, `${at}.payload`, check);
      if (id !== undefined) records.push({ id, ...vec, ...(payload ? { payload } : {}) });
    });
    return records;
  }
  const batch = check.object(body.batch, "batch");
  if (!batch) {
    check.fail("", "must have points (a list) or batch ({ ids, vectors, payloads })");
    return records;
  }
  const ids = check.array(batch.ids, "batch.ids") ?? [];
  const payloads = check.array(batch.payloads, "batch.payloads");
  const named = isObject(batch.vectors);
  const vectors = named ? (batch.vectors as Json) : check.array(batch.vectors, "batch.vectors");
  ids.forEach((raw, i) => {
    const id = quiverId(raw, `batch.ids[${i}]`, check);
    const vec = named
      ? vectorFields(
          Object.fromEntries(
            Object.entries(vectors as Json).map(([n, list]) => [n, Array.isArray(list) ? list[i] : undefined]),
          ),
          `batch.vectors[${i}]`,
          check,
        )
      : vectorFields((vectors as unknown[] | undefined)?.[i], `batch.vectors[${i}]`, check);
    const payload = payloadOf(payloads?.[i], `batch.payloads[${i}]`, check);
    if (id !== undefined) records.push({ id, ...vec, ...(payload ? { payload } : {}) });
  });
  return records;
}
