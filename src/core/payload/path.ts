/**
 * Resolution of dotted payload paths such as `authors.name`, shared by filter evaluation and payload
 * indexes so that both agree, record by record, on which values a path reaches.
 */

/**
 * Every value reached by `path` in `payload`. Arrays met along the way fan out into their elements
 * (so `authors.name` reaches each author's name); an array at the end contributes its elements, not
 * itself, which gives filters "contains" semantics on arrays. Arrays nested directly in arrays are not
 * flattened further, as in MongoDB.
 *
 * @example valuesAt({ authors: [{ name: "Ada" }, { name: "Alan" }] }, ["authors", "name"]) // ["Ada", "Alan"]
 */
export function valuesAt(payload: Record<string, unknown> | undefined, path: readonly string[]): unknown[] {
  const out: unknown[] = [];
  if (payload !== undefined) collect(payload, path, 0, out);
  return out;
}

function collect(cur: unknown, path: readonly string[], i: number, out: unknown[]): void {
  if (i === path.length) {
    if (Array.isArray(cur)) {
      for (const v of cur) out.push(v);
    } else if (cur !== undefined) {
      out.push(cur);
    }
    return;
  }
  if (Array.isArray(cur)) {
    // Only objects inside the array can hold the next segment; nested arrays and scalars reach nothing.
    for (const el of cur) {
      if (isObject(el)) collect(own(el, path[i]), path, i + 1, out);
    }
    return;
  }
  if (isObject(cur)) collect(own(cur, path[i]), path, i + 1, out);
}

/**
 * Whether some value reached by `path` (as `valuesAt` defines them) passes `test`, stopping at the
 * first that does. Allocation-free for the per-record hot path: `test` should be a module-level
 * function and `arg` carries its context (the filter node), so no closure is created per call.
 */
export function someValueAt<A>(
  payload: Record<string, unknown> | undefined,
  path: readonly string[],
  test: (value: unknown, arg: A) => boolean,
  arg: A,
): boolean {
  return payload !== undefined && some(payload, path, 0, test, arg);
}

function some<A>(
  cur: unknown,
  path: readonly string[],
  i: number,
  test: (v: unknown, a: A) => boolean,
  arg: A,
): boolean {
  if (i === path.length) {
    if (!Array.isArray(cur)) return cur !== undefined && test(cur, arg);
    for (let j = 0; j < cur.length; j++) if (test(cur[j], arg)) return true;
    return false;
  }
  if (Array.isArray(cur)) {
    for (let j = 0; j < cur.length; j++) {
      const el: unknown = cur[j];
      if (isObject(el) && some(own(el, path[i]), path, i + 1, test, arg)) return true;
    }
    return false;
  }
  return isObject(cur) && some(own(cur, path[i]), path, i + 1, test, arg);
}

/**
 * Whether `path` leads to anything at all in `payload`, including `null` or an empty array: the
 * meaning of `$exists: true`. Distinct from `valuesAt(...).length > 0`, which is false for `[]`.
 */
export function pathExists(payload: Record<string, unknown> | undefined, path: readonly string[]): boolean {
  return payload !== undefined && exists(payload, path, 0);
}

function exists(cur: unknown, path: readonly string[], i: number): boolean {
  if (i === path.length) return cur !== undefined;
  if (Array.isArray(cur)) {
    for (const el of cur) {
      if (isObject(el) && exists(own(el, path[i]), path, i + 1)) return true;
    }
    return false;
  }
  return isObject(cur) && exists(own(cur, path[i]), path, i + 1);
}

/** Splits a dotted field name; callers validate that no segment is empty. */
export function splitPath(field: string): string[] {
  return field.split(".");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Own properties only: `constructor` or `toString` must not "exist" in every payload. `Object.hasOwn`
 * costs more than the whole lookup, so it runs only when the value could be inherited from
 * Object.prototype (a function, or the `__proto__` accessor); JSON payloads never hold functions.
 */
function own(obj: Record<string, unknown>, key: string): unknown {
  const v = obj[key];
  if (v === undefined || (typeof v !== "function" && key !== "__proto__")) return v;
  return Object.hasOwn(obj, key) ? v : undefined;
}
