/**
 * The app's web-standard face: `app.fetch(Request) => Response`, as Bun, Deno and edge workers call
 * it, with no HTTP server in between. Node serves the lighter `exchange` seam, so this test keeps the
 * fetch wrapper honest: same statuses, bodies, headers, body limits and key checks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, MemoryDirectory } from "../../src/index.js";
import { startQuiverServer } from "../../src/server/index.js";

const KEY = "web-fetch-admin-key-0123456789";

async function setup() {
  const dir = new MemoryDirectory();
  const db = await open(dir);
  const server = await startQuiverServer({ db, dir, adminKey: KEY, serverLimits: { maxBodyBytes: 4096 } });
  const call = (method: string, path: string, body?: unknown, key: string | null = KEY) =>
    server.app.fetch(
      new Request(`http://quiver.test${path}`, {
        method,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      }),
    );
  return {
    db,
    server,
    call,
    close: async () => {
      await server.flush();
      await db.close();
    },
  };
}

test("fetch(Request) answers like the Node server: create, upsert, query, units and request id", async () => {
  const s = await setup();
  try {
    const created = await s.call("PUT", "/v1/collections/docs", {
      schema: { vectors: { v: { dim: 3, metric: "l2" } } },
    });
    assert.equal(created.status, 200, await created.clone().text());
    const up = await s.call("POST", "/v1/collections/docs/upsert", {
      records: [
        { id: "a", vector: [0, 0, 1] },
        { id: "b", vector: [5, 5, 5] },
      ],
    });
    assert.equal(up.status, 200);
    assert.ok(Number(up.headers.get("quiver-write-units")) > 0);
    const q = await s.call("POST", "/v1/collections/docs/query", { vector: [0, 0, 0.9], limit: 1 });
    assert.equal(q.status, 200);
    assert.equal(q.headers.get("content-type"), "application/json");
    assert.match(q.headers.get("x-request-id") ?? "", /.+/);
    assert.ok(Number(q.headers.get("quiver-read-units")) > 0);
    const body = (await q.json()) as { hits: { id: string }[] };
    assert.deepEqual(
      body.hits.map((h) => h.id),
      ["a"],
    );
  } finally {
    await s.close();
  }
});

test("fetch(Request) errors: 401 without a key, 400 naming the field, 413 past the body limit, 404 for no route", async () => {
  const s = await setup();
  try {
    const anon = await s.call("GET", "/v1/collections", undefined, null);
    assert.equal(anon.status, 401);
    assert.equal(anon.headers.get("www-authenticate"), 'Bearer realm="quiver"');
    await s.call("PUT", "/v1/collections/docs", { schema: { vectors: { v: { dim: 3, metric: "l2" } } } });
    const bad = await s.call("POST", "/v1/collections/docs/query", { vector: [0, 0, 1], limit: "ten" });
    assert.equal(bad.status, 400);
    const err = (await bad.json()) as { code: string; path: string };
    assert.equal(err.code, "INVALID_ARGUMENT");
    assert.equal(err.path, "limit");
    const big = await s.call(
      "POST",
      "/v1/collections/docs/upsert",
      JSON.stringify({ records: [{ id: "x".repeat(5000), vector: [1, 2, 3] }] }),
    );
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { code: string }).code, "PAYLOAD_TOO_LARGE");
    const none = await s.call("GET", "/v2/nothing");
    assert.equal(none.status, 404);
  } finally {
    await s.close();
  }
});
