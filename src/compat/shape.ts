/**
 * Small checks shared by the foreign-API translators (Qdrant, Chroma): they read untyped JSON
 * bodies, so every field is checked here and each problem recorded with its path, and a request
 * is rejected whole (INVALID_ARGUMENT) before anything reaches the database.
 */
import { QuiverError, type Problem } from "../core/errors/errors.js";
import { sparseToJson, toSparseVector } from "../core/index/sparse/sparse-vector.js";

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Collects problems while a body is read; `done()` throws them all at once. */
export class Checker {
  readonly problems: Problem[] = [];

  fail(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  object(v: unknown, path: string): Json | undefined {
    if (v === undefined || v === null) return undefined;
    if (isObject(v)) return v;
    this.fail(path, "must be an object");
    return undefined;
  }

  array(v: unknown, path: string): unknown[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v)) return v;
    this.fail(path, "must be an array");
    return undefined;
  }

  int(v: unknown, path: string, min = 0): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "number" && Number.isInteger(v) && v >= min) return v;
    this.fail(path, `must be an integer >= ${min}`);
    return undefined;
  }

  number(v: unknown, path: string): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "number" && Number.isFinite(v)) return v;
    this.fail(path, "must be a finite number");
    return undefined;
  }

  bool(v: unknown, path: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "boolean") return v;
    this.fail(path, "must be true or false");
    return undefined;
  }

  string(v: unknown, path: string): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "string") return v;
    this.fail(path, "must be a string");
    return undefined;
  }

  /** An array of strings (absent: undefined). */
  strings(v: unknown, path: string): string[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
    this.fail(path, "must be an array of strings");
    return undefined;
  }

  /** A vector: a non-empty array of finite numbers. */
  vector(v: unknown, path: string): number[] | undefined {
    if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number" && Number.isFinite(x)))
      return v as number[];
    this.fail(path, "must be a non-empty array of finite numbers");
    return undefined;
  }

  /**
   * A sparse vector `{ indices, values }`, checked whole here (indices unique non-negative integers,
   * values finite, equal lengths) and returned sorted by index; the size limit is the database's.
   */
  sparse(v: unknown, path: string): { indices: number[]; values: number[] } | undefined {
    const { vector } = toSparseVector(v, path, Number.POSITIVE_INFINITY, this.problems);
    return vector ? sparseToJson(vector) : undefined;
  }

  /** Throws every problem found as one INVALID_ARGUMENT error. */
  done(): void {
    if (this.problems.length > 0) throw QuiverError.fromProblems("INVALID_ARGUMENT", this.problems);
  }
}

/** A foreign API's feature Quiver does not offer: answered 501 with the feature named. */
export function unsupported(api: string, feature: string): QuiverError {
  return new QuiverError(
    "UNSUPPORTED",
    `${api}: ${feature} is not supported by Quiver (see docs/compat-${api.toLowerCase()}.md)`,
  );
}
