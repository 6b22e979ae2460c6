/**
 * `quiver serve` as a process: binds 127.0.0.1 on an ephemeral port, prints the generated admin
 * key once (storing only its hash), serves the API, and on SIGTERM finishes cleanly so that every
 * acknowledged write is there after a restart.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "../../src/client/index.js";
import { startServe } from "../support/runtimes.js";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "main.js");

const serve = (data: string) => startServe("node", data);

test("quiver serve: generated admin key printed once, loopback only, clean SIGTERM keeps every write", async () => {
  const data = mkdtempSync(join(tmpdir(), "quiver-serve-"));
  try {
    const first = await serve(data);
    const key = /admin key \(shown once[^\n]*\n\s+(qk_\S+)/.exec(first.stdout())?.[1];
    assert.ok(key, first.stdout());
    const db = connect(first.url, { apiKey: key });
    const c = await db.createCollection("docs", { vectors: { v: { dim: 2, metric: "l2" } } });
    await c.upsert(Array.from({ length: 100 }, (_, i) => ({ id: `d${i}`, vector: [i, 1] })));
    const stopped = await first.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stderr, /stopped cleanly/);
    assert.ok(
      !readFileSync(join(data, "server-keys.json"), "utf8").includes(key.slice(16)),
      "the key file holds no key",
    );

    const second = await serve(data);
    assert.ok(!/qk_/.test(second.stdout()), "the admin key is not printed again");
    const again = connect(second.url, { apiKey: key });
    assert.equal(await (await again.collection("docs")).count(), 100);
    assert.equal((await fetch(`${second.url}/healthz`)).status, 200);
    assert.equal((await second.stop()).code, 0);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

test("quiver stats and quiver query work in other processes while quiver serve holds the database", async () => {
  const data = mkdtempSync(join(tmpdir(), "quiver-serve-readers-"));
  try {
    const server = await serve(data);
    const key = /admin key \(shown once[^\n]*\n\s+(qk_\S+)/.exec(server.stdout())?.[1];
    const db = connect(server.url, { apiKey: key });
    const c = await db.createCollection("docs", { vectors: { v: { dim: 2, metric: "l2" } } });
    await c.upsert(Array.from({ length: 50 }, (_, i) => ({ id: `d${i}`, vector: [i, 1] })));
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [MAIN, "--db", data, ...args], { encoding: "utf8", timeout: 60_000 });
    const stats = cli("stats", "--json");
    assert.equal(stats.status, 0, stats.stderr);
    assert.equal(JSON.parse(stats.stdout).collections[0].count, 50);
    const query = cli("query", "docs", "--vector", "[3, 1]", "--limit", "1", "--json");
    assert.equal(query.status, 0, query.stderr);
    assert.equal(JSON.parse(query.stdout).hits[0].id, "d3");
    // The server still writes, and a later reader sees it.
    await c.upsert([{ id: "late", vector: [100, 1] }]);
    assert.equal(JSON.parse(cli("stats", "--json").stdout).collections[0].count, 51);
    const stopped = await server.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

test("quiver serve --cors-origin: a malformed origin is refused before the database is created", () => {
  const parent = mkdtempSync(join(tmpdir(), "quiver-serve-cors-"));
  const data = join(parent, "db");
  try {
    const r = spawnSync(
      process.execPath,
      [MAIN, "serve", "--db", data, "--port", "0", "--cors-origin", "http://ok.test", "--cors-origin", "app.test/x"],
      { encoding: "utf8", timeout: 30_000 },
    );
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stderr, /corsOrigins\[1\].*app\.test\/x/);
    assert.equal(existsSync(data), false, "nothing was created");
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
