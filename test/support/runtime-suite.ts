/**
 * One suite, three runtimes: the database, directory-conformance, server-app and client test files
 * (dist/test/{database,storage,server}) run again under Bun (`bun test`) and Deno (`deno test`),
 * which both execute `node:test` files (test/runtimes/suite-bun.test.ts, suite-deno.test.ts: two
 * files, so the runner overlaps them with the rest). Every file there runs unless NODE_ONLY names it
 * with the reason; each runtime must start every file, pass every test it ran, and skip only the
 * tests KNOWN_SKIPS lists (each skips itself naming the runtime's defect).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { missingRuntime, type Runtime } from "./runtimes.js";

const DIST = join(dirname(fileURLToPath(import.meta.url)), "../..");
const ROOT = join(DIST, "..");
const FOLDERS = ["test/database", "test/storage", "test/server"];

/** Files that run under Node only, and why (each is a Node process test or a timed one, not a runtime check). */
export const NODE_ONLY: Record<string, string> = {
  "test/server/serve-cli.test.js":
    "drives `quiver serve` as a Node process; runtimes.test.ts serves under Bun and Deno instead",
  "test/server/soak.test.js": "45 s of load measured by the clock; one runtime is enough for a timed run",
  "test/database/heap-limit-process.test.js":
    "fills a Node child's V8 heap (--max-old-space-size); Bun has no such limit, and heap-limit.test.ts checks the refusal everywhere",
  "test/database/readers-process.test.js":
    "a 10 s paced writer in a Node child; cross-runtime readers are covered by the SIGKILL trials' reopen",
};

/** Tests that skip themselves under one runtime, each saying why in its skip reason; no other skip passes. */
export const KNOWN_SKIPS: Record<"bun" | "deno", string[]> = {
  bun: ["connections past maxConnections are refused at accept"],
  deno: ["a thread that dies fails the search it runs; the other serves on; with none left, every search fails"],
};

function suiteFiles(): string[] {
  return FOLDERS.flatMap((folder) =>
    readdirSync(join(DIST, folder))
      .filter((f) => f.endsWith(".test.js"))
      .map((f) => `${folder}/${f}`),
  )
    .filter((f) => !(f in NODE_ONLY))
    .sort();
}

function run(runtime: Runtime, files: string[]): Promise<{ code: number | null; out: string }> {
  const exe = join(ROOT, "node_modules/.bin", runtime);
  const paths = files.map((f) => `./${f}`);
  // Bun's default 5 s per test is shorter than some of the files' own budgets.
  const args = runtime === "bun" ? ["test", "--timeout", "120000", ...paths] : ["test", "-A", "--no-check", ...paths];
  // Colour codes off, so the summary lines parse; Node's path for the lock tests' other process.
  const env = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", QUIVER_NODE: process.execPath };
  return new Promise((resolve, reject) => {
    const child = spawn(exe, args, { cwd: DIST, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, out }));
  });
}

/** passed / failed / skipped from each runner's summary. */
function summary(runtime: Runtime, out: string): { passed: number; failed: number; skipped: number } {
  const n = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
  if (runtime === "bun")
    return { passed: n(/^\s*(\d+) pass$/m), failed: n(/^\s*(\d+) fail$/m), skipped: n(/^\s*(\d+) skip$/m) || 0 };
  return {
    passed: n(/(\d+) passed/),
    failed: n(/(\d+) failed/),
    skipped: n(/(\d+) ignored/) || 0,
  };
}

/**
 * Each failed test once, with its error, kept short: CI shows the head of a failure message, so the
 * failing test's name and error come before the runner's tail. Bun prints a test's error above its
 * "(fail)" line, among one JSON event line per test; Deno prints them all in an "ERRORS" section at the
 * end, before a "FAILURES" list of names.
 */
export function failureReport(runtime: "bun" | "deno", out: string): string[] {
  const lines = out.split("\n").filter((l) => !l.includes("bun:test:run {"));
  if (runtime === "deno") {
    const start = lines.findIndex((l) => /^\s*ERRORS\s*$/.test(l));
    if (start < 0) return [];
    const end = lines.findIndex((l, i) => i > start && /^\s*FAILURES\s*$/.test(l));
    return lines.slice(start, end < 0 ? start + 80 : Math.min(end, start + 80));
  }
  // The runner lists the failures again in its summary: each once.
  const failed = new Set<string>();
  return lines.flatMap((l, i) => {
    if (!/^\s*\(fail\)/.test(l) || failed.has(l.trim())) return [];
    failed.add(l.trim());
    return lines.slice(Math.max(0, i - 25), i + 1);
  });
}

/** Registers the test that runs the suite's files under `runtime`. */
export function suiteUnder(runtime: "bun" | "deno"): void {
  const files = suiteFiles();
  test(`${runtime}: the database, directory, server-app and client tests pass (${files.length} files)`, {
    skip: missingRuntime(runtime),
    timeout: 10 * 60_000,
  }, async (t) => {
    t.diagnostic(
      `Node only: ${Object.entries(NODE_ONLY)
        .map(([f, why]) => `${f} (${why})`)
        .join("; ")}`,
    );
    const { code, out } = await run(runtime, files);
    const s = summary(runtime, out);
    const tail = [...failureReport(runtime, out), "...", ...out.split("\n").slice(-12)].join("\n");
    assert.equal(s.failed, 0, `${runtime}: ${s.failed} failed\n${tail}`);
    assert.equal(code, 0, `${runtime} exited ${code}\n${tail}`);
    assert.equal(s.skipped, KNOWN_SKIPS[runtime].length, `${runtime} skipped ${s.skipped}\n${tail}`);
    for (const name of KNOWN_SKIPS[runtime]) assert.ok(out.includes(name), `${runtime}: no "${name}"\n${tail}`);
    // Every file ran: each runner names a file as it starts it.
    const ran = (f: string) => (runtime === "bun" ? out.includes(`${f}:`) : out.includes(`from ./${f}`));
    assert.deepEqual(
      files.filter((f) => !ran(f)),
      [],
      `${runtime}: files that ran no tests\n${tail}`,
    );
    assert.ok(s.passed >= files.length, `${runtime}: only ${s.passed} tests passed for ${files.length} files\n${tail}`);
    t.diagnostic(
      `${runtime}: ${s.passed} passed, 0 failed, ${s.skipped} skipped (${KNOWN_SKIPS[runtime].join("; ") || "none"}) in ${files.length} files`,
    );
  });
}
