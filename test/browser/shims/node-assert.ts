/**
 * A browser stand-in for the part of `node:assert/strict` the shared suites use. Comparisons follow
 * strict mode: Object.is for `equal`, structural equality (typed arrays and Maps included) for `deepEqual`.
 */

export class AssertionError extends Error {
  override name = "AssertionError";
}

function fail(message: string | undefined, detail: string): never {
  throw new AssertionError(message ? `${message} (${detail})` : detail);
}

const show = (v: unknown): string => {
  try {
    return JSON.stringify(v, (_k, x) => (ArrayBuffer.isView(x) ? Array.from(x as unknown as ArrayLike<number>) : x));
  } catch {
    return String(v);
  }
};

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Map && b instanceof Map) {
    return a.size === b.size && [...a].every(([k, v]) => b.has(k) && same(v, b.get(k)));
  }
  if (a instanceof Set && b instanceof Set) return a.size === b.size && [...a].every((v) => b.has(v));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => k in b && same((a as never)[k], (b as never)[k]));
}

export function ok(value: unknown, message?: string): asserts value {
  if (!value) fail(message, `expected a truthy value, got ${show(value)}`);
}
export function equal(actual: unknown, expected: unknown, message?: string): void {
  if (!Object.is(actual, expected)) fail(message, `expected ${show(expected)}, got ${show(actual)}`);
}
export function notEqual(actual: unknown, expected: unknown, message?: string): void {
  if (Object.is(actual, expected)) fail(message, `expected anything but ${show(expected)}`);
}
export function deepEqual(actual: unknown, expected: unknown, message?: string): void {
  if (!same(actual, expected)) fail(message, `expected ${show(expected)}, got ${show(actual)}`);
}
export function notDeepEqual(actual: unknown, expected: unknown, message?: string): void {
  if (same(actual, expected)) fail(message, `expected anything but ${show(expected)}`);
}
export function match(actual: string, re: RegExp, message?: string): void {
  if (!re.test(actual)) fail(message, `${show(actual)} does not match ${re}`);
}

type Check = ((e: unknown) => boolean) | RegExp | { code?: string; message?: RegExp | string };

function checkError(e: unknown, check: Check | undefined, message?: string): void {
  if (check === undefined) return;
  if (typeof check === "function") {
    if (check(e) !== true) fail(message, `the error did not pass the check: ${String(e)}`);
  } else if (check instanceof RegExp) {
    if (!check.test(String(e instanceof Error ? e.message : e))) fail(message, `${String(e)} does not match ${check}`);
  } else {
    const err = e as { code?: string; message?: string };
    if (check.code !== undefined && err.code !== check.code)
      fail(message, `expected code ${check.code}, got ${String(e)}`);
    const m = check.message;
    if (m !== undefined && !(typeof m === "string" ? err.message === m : m.test(err.message ?? ""))) {
      fail(message, `unexpected message: ${err.message}`);
    }
  }
}

export function throws(fn: () => unknown, check?: Check, message?: string): void {
  try {
    fn();
  } catch (e) {
    checkError(e, check, message);
    return;
  }
  fail(message, "expected the function to throw");
}
export async function rejects(
  p: Promise<unknown> | (() => Promise<unknown>),
  check?: Check,
  message?: string,
): Promise<void> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    checkError(e, check, message);
    return;
  }
  fail(message, "expected the promise to reject");
}

const assert = Object.assign((value: unknown, message?: string) => ok(value, message), {
  ok,
  equal,
  notEqual,
  deepEqual,
  notDeepEqual,
  strictEqual: equal,
  deepStrictEqual: deepEqual,
  match,
  throws,
  rejects,
  AssertionError,
});
export default assert;
