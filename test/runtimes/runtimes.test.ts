/**
 * Quiver under Bun and Deno, whose binaries come from the pinned `bun` and `deno` devDependencies:
 * the on-disk smoke workload (smoke-child.ts) must give the same answers as under Node, before and
 * after reopening, and `quiver serve` must answer /healthz under Bun. A runtime whose binary is
 * absent (an install without optional dependencies) is skipped with a message saying so.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "../../..");
const CHILD = join(HERE, "smoke-child.js");
const CLI = join(ROOT, "dist/src/cli/main.js");
const bin = (name: string) => join(ROOT, "node_modules/.bin", name);
const run = promisify(execFile);

const EXPECTED = { count: 3, vector: ["a", "b"], filtered: ["a", "c"], text: ["a"] };

function absent(name: string): string | false {
  return existsSync(bin(name)) ? false : `${name} is not installed (npm install without optional dependencies?)`;
}

for (const [runtime, args] of [
  ["node", [CHILD]],
  ["bun", [CHILD]],
  // No --node-modules-dir flag: Deno must find the analyzers' npm packages on its own.
  ["deno", ["run", "--allow-all", CHILD]],
] as const) {
  const skip = runtime === "node" ? false : absent(runtime);
  test(`${runtime}: a database on disk answers vector, filtered and text queries, before and after reopening`, {
    skip,
  }, async () => {
    const exe = runtime === "node" ? process.execPath : bin(runtime);
    const { stdout } = await run(exe, [...args], { cwd: tmpdir(), timeout: 20_000 });
    assert.deepEqual(JSON.parse(stdout.trim().split("\n").pop()!), { before: EXPECTED, after: EXPECTED });
  });
}

test("bun: quiver serve answers /healthz", { skip: absent("bun") }, async () => {
  const path = await mkdtemp(join(tmpdir(), "quiver-bun-serve-"));
  const child = spawn(bin("bun"), [CLI, "serve", "--db", path, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    let out = "";
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening address within 15 s:\n${out}`)), 15_000);
      const onData = (d: Buffer) => {
        out += d;
        const m = /http:\/\/[\w.:[\]-]+/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.on("exit", (code) => reject(new Error(`bun exited (${code}):\n${out}`)));
    });
    const res = await fetch(`${url}/healthz`);
    assert.equal(res.status, 200);
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => (child.exitCode === null ? child.once("exit", r) : r(null)));
    await rm(path, { recursive: true, force: true });
  }
});
