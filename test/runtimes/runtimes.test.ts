/**
 * Quiver under Node, Bun and Deno (test/support/runtimes.ts: Bun and Deno from their pinned npm
 * packages): the on-disk smoke workload (smoke-child.ts) gives the same answers in each, before
 * and after reopening; `quiver serve` under each answers a client's round trip (create, upsert,
 * query by vector and text), a browser's preflight for a `--cors-origin`, and stops cleanly on
 * SIGTERM with every write on disk. A runtime whose binary is absent is skipped, saying why.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { connect } from "../../src/client/index.js";
import { open } from "../../src/index.js";
import { missingRuntime, RUNTIMES, runtimeCommand, startServe } from "../support/runtimes.js";

const CHILD = join(dirname(fileURLToPath(import.meta.url)), "smoke-child.js");
const run = promisify(execFile);

const EXPECTED = { count: 3, vector: ["a", "b"], filtered: ["a", "c"], text: ["a"] };
const ORIGIN = "http://localhost:5173";

for (const runtime of RUNTIMES) {
  test(`${runtime}: a database on disk answers vector, filtered and text queries, before and after reopening`, {
    skip: missingRuntime(runtime),
  }, async () => {
    const [exe, args] = runtimeCommand(runtime, CHILD);
    const { stdout } = await run(exe, args, { cwd: tmpdir(), timeout: 20_000 });
    assert.deepEqual(JSON.parse(stdout.trim().split("\n").pop()!), { before: EXPECTED, after: EXPECTED });
  });

  test(`${runtime}: quiver serve answers a client's create, upsert and query, a CORS preflight, and stops cleanly`, {
    skip: missingRuntime(runtime),
  }, async () => {
    const data = await mkdtemp(join(tmpdir(), `quiver-serve-${runtime}-`));
    const server = await startServe(runtime, data, ["--cors-origin", ORIGIN]);
    try {
      const key = /admin key \(shown once[^\n]*\n\s+(qk_\S+)/.exec(server.stdout())?.[1];
      assert.ok(key, server.stdout());
      const db = connect(server.url, { apiKey: key });
      const docs = await db.createCollection("docs", {
        vectors: { v: { dim: 3, metric: "cosine", index: { type: "hnsw" } } },
        text: { body: {} },
      });
      await docs.upsert([
        { id: "a", vector: [1, 0, 0], payload: { body: "lighthouse keeper" } },
        { id: "b", vector: [0, 1, 0], payload: { body: "harbour master" } },
      ]);
      const byVector = await docs.query({ vector: [0.1, 0.9, 0], limit: 1 });
      assert.deepEqual(
        byVector.hits.map((h) => h.id),
        ["b"],
      );
      assert.equal(byVector.plan.strategy, "hnsw");
      const byText = await docs.query({ text: "lighthouse", limit: 1 });
      assert.deepEqual(
        byText.hits.map((h) => h.id),
        ["a"],
      );
      await db.close();
      const preflight = await fetch(`${server.url}/v1/collections/docs/query`, {
        method: "OPTIONS",
        headers: { origin: ORIGIN, "access-control-request-method": "POST" },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get("access-control-allow-origin"), ORIGIN);
    } finally {
      const stopped = await server.stop();
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(stopped.stderr, /stopped cleanly/);
    }
    // Closed cleanly: the records are there for the next opener (Node, here).
    const db = await open(data);
    assert.equal(await (await db.collection("docs")).count(), 2);
    await db.close();
    await rm(data, { recursive: true, force: true });
  });
}
