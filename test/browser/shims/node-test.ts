/**
 * A browser stand-in for the part of `node:test` the shared suites use (describe, it/test, hooks):
 * tests are registered, then `runRegistered()` runs them in order and returns one result per test,
 * which the Node side (test/browser/chromium.test.ts) turns back into node:test results.
 */

type Fn = () => unknown | Promise<unknown>;

export interface BrowserTestResult {
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
}

interface Suite {
  name: string;
  tests: Array<{ name: string; fn: Fn }>;
  before: Fn[];
  after: Fn[];
  beforeEach: Fn[];
  afterEach: Fn[];
}

const root: Suite = { name: "", tests: [], before: [], after: [], beforeEach: [], afterEach: [] };
const suites: Suite[] = [];
let current = root;

export function describe(name: string, body: () => void): void {
  const outer = current;
  const suite: Suite = {
    name: outer.name ? `${outer.name} > ${name}` : name,
    tests: [],
    before: [],
    after: [],
    beforeEach: [...outer.beforeEach],
    afterEach: [...outer.afterEach],
  };
  suites.push(suite);
  current = suite;
  try {
    body();
  } finally {
    current = outer;
  }
}

/** `it(name, fn)` or `it(name, options, fn)`; a `skip` option is refused: nothing is skipped silently. */
export function it(name: string, a: Fn | { skip?: unknown }, b?: Fn): void {
  const fn = typeof a === "function" ? a : b;
  if (typeof a === "object" && a.skip)
    throw new Error(`${name}: skipped tests are not supported in the browser runner`);
  if (!fn) throw new Error(`${name}: no test function`);
  current.tests.push({ name, fn });
}
export const test = it;
export const before = (fn: Fn): void => void current.before.push(fn);
export const after = (fn: Fn): void => void current.after.push(fn);
export const beforeEach = (fn: Fn): void => void current.beforeEach.push(fn);
export const afterEach = (fn: Fn): void => void current.afterEach.push(fn);

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ""}` : String(e);
}

/** Runs every test registered so far (then forgets them), each with its suite's hooks. */
export async function runRegistered(prefix: string): Promise<BrowserTestResult[]> {
  const results: BrowserTestResult[] = [];
  const all = [root, ...suites.splice(0)];
  for (const suite of all) {
    for (const h of suite.before) await h();
    for (const t of suite.tests.splice(0)) {
      const name = `${prefix}: ${suite.name ? `${suite.name} > ` : ""}${t.name}`;
      const started = performance.now();
      try {
        for (const h of suite.beforeEach) await h();
        try {
          await t.fn();
        } finally {
          for (const h of suite.afterEach) await h();
        }
        results.push({ name, ok: true, ms: performance.now() - started });
      } catch (e) {
        results.push({ name, ok: false, error: describeError(e), ms: performance.now() - started });
      }
    }
    for (const h of suite.after) await h();
  }
  return results;
}

export default test;
