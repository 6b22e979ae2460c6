/**
 * Sparse vectors (index -> weight, e.g. SPLADE or BM25 term weights): the stored form (indices
 * ascending and unique, float32 weights), the two input forms users give, and their validation
 * with every problem and its path. Pure; the database calls it before anything reaches the WAL.
 */
import type { Problem } from "../../errors/errors.js";

/** A sparse vector as stored: `indices` strictly ascending, `values[i]` the weight of `indices[i]`. */
export interface SparseVector {
  indices: Uint32Array;
  values: Float32Array;
}

/**
 * What callers give: `{ indices, values }` (any order, no repeated index), or a plain object map
 * from index to weight, e.g. `{ "17": 0.4, "2051": 1.3 }`.
 */
export type SparseVectorInput = { indices: ArrayLike<number>; values: ArrayLike<number> } | Record<string, number>;

/** Largest index a sparse vector may hold: indices are stored as u32. */
export const MAX_SPARSE_INDEX = 0xffff_ffff;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

const isArrayLike = (v: unknown): v is ArrayLike<unknown> => Array.isArray(v) || ArrayBuffer.isView(v);

/** Whether `v` has the shape of a sparse vector input (as opposed to a dense array or a text). */
export function looksSparse(v: unknown): boolean {
  return isObject(v);
}

/**
 * Checks one sparse vector input and returns it in stored form (sorted by index), or null with
 * every problem pushed. `maxNonZeros` is the documented limit (Limits.maxSparseNonZeros); a vector
 * over it is reported with `tooLarge` set so the caller can answer LIMIT_EXCEEDED.
 */
export function toSparseVector(
  input: unknown,
  path: string,
  maxNonZeros: number,
  problems: Problem[],
): { vector: SparseVector | null; tooLarge: boolean } {
  const before = problems.length;
  let indices: unknown[] = [];
  let values: unknown[] = [];
  let indexPath = (i: number) => `${path}.indices[${i}]`;
  let valuePath = (i: number) => `${path}.values[${i}]`;
  if (!isObject(input)) {
    problems.push({ path, message: "must be { indices: [...], values: [...] } or an object map { index: weight }" });
    return { vector: null, tooLarge: false };
  }
  const keys = Object.keys(input);
  if (keys.includes("indices") || keys.includes("values")) {
    if (!isArrayLike(input.indices))
      problems.push({ path: `${path}.indices`, message: "must be an array of integers" });
    if (!isArrayLike(input.values)) problems.push({ path: `${path}.values`, message: "must be an array of numbers" });
    for (const k of keys)
      if (k !== "indices" && k !== "values")
        problems.push({ path: `${path}.${k}`, message: "unknown field (expected indices, values)" });
    if (problems.length > before) return { vector: null, tooLarge: false };
    indices = Array.from(input.indices as ArrayLike<unknown>);
    values = Array.from(input.values as ArrayLike<unknown>);
    if (indices.length !== values.length) {
      problems.push({
        path,
        message: `indices and values must have the same length, got ${indices.length} and ${values.length}`,
      });
      return { vector: null, tooLarge: false };
    }
  } else {
    // An object map: its keys are the indices, as decimal integers.
    indices = keys.map((k) => (/^(0|[1-9][0-9]*)$/.test(k) ? Number(k) : k));
    values = keys.map((k) => input[k]);
    indexPath = (i: number) => `${path}.${keys[i]}`;
    valuePath = indexPath;
  }
  if (indices.length > maxNonZeros) {
    problems.push({
      path,
      message: `at most ${maxNonZeros} non-zero entries (maxSparseNonZeros), got ${indices.length}`,
    });
    return { vector: null, tooLarge: true };
  }
  const order = indices.map((_, i) => i);
  let indicesValid = true;
  indices.forEach((x, i) => {
    if (typeof x !== "number" || !Number.isInteger(x) || x < 0 || x > MAX_SPARSE_INDEX) {
      indicesValid = false;
      problems.push({
        path: indexPath(i),
        message: `an index must be an integer from 0 to ${MAX_SPARSE_INDEX}, got ${JSON.stringify(x)}`,
      });
    }
  });
  // Sorted by index (stable, so a repeat is reported at its later position).
  if (indicesValid) {
    order.sort((a, b) => (indices[a] as number) - (indices[b] as number));
    for (let j = 1; j < order.length; j++)
      if (indices[order[j]] === indices[order[j - 1]])
        problems.push({ path: indexPath(order[j]), message: `index ${indices[order[j]]} appears more than once` });
  }
  values.forEach((x, i) => {
    // Float32 overflow turns large doubles into Infinity, so the stored value is checked too.
    if (typeof x !== "number" || !Number.isFinite(x) || !Number.isFinite(Math.fround(x)))
      problems.push({
        path: valuePath(i),
        message: `must be a finite number (float32 range), got ${typeof x === "number" ? x : JSON.stringify(x)}`,
      });
  });
  if (problems.length > before) return { vector: null, tooLarge: false };
  const out: SparseVector = { indices: new Uint32Array(order.length), values: new Float32Array(order.length) };
  for (let j = 0; j < order.length; j++) {
    out.indices[j] = indices[order[j]] as number;
    out.values[j] = values[order[j]] as number;
  }
  return { vector: out, tooLarge: false };
}

/** The dot product of two stored sparse vectors (a merge of their sorted indices), in float64. */
export function sparseDot(a: SparseVector, b: SparseVector): number {
  let i = 0;
  let j = 0;
  let sum = 0;
  const ai = a.indices;
  const bi = b.indices;
  while (i < ai.length && j < bi.length) {
    if (ai[i] === bi[j]) sum += a.values[i++] * b.values[j++];
    else if (ai[i] < bi[j]) i++;
    else j++;
  }
  return sum;
}

/** The JSON form returned to callers: plain arrays. */
export function sparseToJson(v: SparseVector): { indices: number[]; values: number[] } {
  return { indices: Array.from(v.indices), values: Array.from(v.values) };
}
