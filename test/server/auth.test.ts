/**
 * Authentication and authorization over a real server: every route declares what it requires
 * (and the declaration is enforced: 401 without a key, 403 without the scope, 404 outside the
 * key's reach), keys are stored only as hashes, revocation is immediate, quotas answer 429,
 * usage adds up, and /metrics and /healthz behave.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ROUTES, KEYS_FILE, USAGE_FILE, type Route } from "../../src/server/index.js";
import { MemoryDirectory } from "../../src/index.js";
import { seededRandom } from "../../src/core/util/prng.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "./helpers.js";

const KINDS = new Set(["public", "key", "admin", "collection"]);

/** A request to a route's template, with `{name}` / `{id}` filled in and a small valid body. */
function concrete(route: Route, name: string): { path: string; body?: unknown } {
  const path = route.path.replace("{name}", name).replace("{id}", "000000000001");
  const bodies: Record<string, unknown> = {
    createCollection: { schema: { vectors: { v: { dim: 2, metric: "l2" } } }, ifNotExists: true },
    upsert: { records: [{ id: "a", vector: [1, 2] }] },
    ids: { ids: ["a"] },
    get: { ids: ["a"] },
    deleteByFilter: { filter: { x: 1 } },
    count: {},
    scroll: {},
    query: { vector: [1, 2] },
    createKey: { scope: "read", prefix: "t-" },
  };
  return { path, body: route.body ? bodies[route.body] : undefined };
}

async function withServer(fn: (s: TestServer) => Promise<void>): Promise<void> {
  const s = await startTestServer();
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

test("every route declares what it requires, and the OpenAPI document lists exactly the routes", async () => {
  assert.ok(ROUTES.length >= 20);
  for (const r of ROUTES) {
    assert.ok(r.requires && KINDS.has(r.requires.kind), `${r.method} ${r.path} declares no requirement`);
    if (r.requires.kind === "collection")
      assert.ok(r.path.includes("{name}"), `${r.path}: a collection requirement needs {name}`);
    if (r.requires.kind === "public")
      assert.ok(["/healthz", "/openapi.json", "/docs"].includes(r.path), `${r.path} is public: is that intended?`);
  }
  await withServer(async (s) => {
    const doc = (await s.call("GET", "/openapi.json", { key: null })).json;
    const listed = Object.entries(doc.paths as Record<string, object>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    assert.deepEqual(listed.sort(), ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    for (const r of ROUTES.filter((x) => x.body))
      assert.ok(doc.paths[r.path][r.method.toLowerCase()].requestBody, `${r.path} documents its body`);
    const page = await s.call("GET", "/docs", { key: null });
    assert.equal(page.status, 200);
    assert.match(page.text, /POST \/v1\/collections\/\{name\}\/query/);
  });
});

test("the route table is enforced: 401 without a valid key, 403 without the scope, 404 outside the reach", async () => {
  await withServer(async (s) => {
    await s.admin.createCollection("t-mine", { vectors: { v: { dim: 2, metric: "l2" } } });
    await s.admin.createCollection("other", { vectors: { v: { dim: 2, metric: "l2" } } });
    const read = (await s.call("POST", "/v1/keys", { body: { scope: "read", prefix: "t-" } })).json.key as string;
    const write = (await s.call("POST", "/v1/keys", { body: { scope: "write", collections: ["t-mine"] } })).json
      .key as string;
    let checked = 0;
    for (const r of ROUTES) {
      const { path, body } = concrete(r, "t-mine");
      if (r.requires.kind === "public") {
        assert.equal(
          (await s.call(r.method, path, { key: null, body })).status,
          200,
          `${r.method} ${r.path} is public`,
        );
        continue;
      }
      const none = await s.call(r.method, path, { key: null, body });
      assert.equal(none.status, 401, `${r.method} ${r.path} without a key`);
      assert.equal(none.json.code, "UNAUTHORIZED");
      assert.equal(
        (await s.call(r.method, path, { key: `qk_000000000001_${"A".repeat(43)}`, body })).status,
        401,
        `${r.method} ${r.path} with a forged key`,
      );
      assert.equal((await s.call(r.method, path, { key: `${ADMIN_KEY}x`, body })).status, 401);
      if (r.requires.kind === "admin") {
        assert.equal(
          (await s.call(r.method, path, { key: write, body })).status,
          403,
          `${r.method} ${r.path} with a write key`,
        );
      }
      if (r.requires.kind === "collection") {
        const outside = concrete(r, "other");
        const hidden = await s.call(r.method, outside.path, { key: write, body: outside.body });
        assert.equal(hidden.status, 404, `${r.method} ${r.path} outside the reach`);
        assert.equal(hidden.json.message, 'collection "other" does not exist');
        if (r.requires.scope === "write")
          assert.equal(
            (await s.call(r.method, path, { key: read, body })).status,
            403,
            `${r.method} ${r.path} with a read key`,
          );
        const ok = await s.call(r.method, path, { key: r.requires.scope === "write" ? write : read, body });
        assert.ok(ok.status < 300, `${r.method} ${r.path} with the scope: ${ok.status} ${ok.text}`);
        await s.admin.createCollection("t-mine", { vectors: { v: { dim: 2, metric: "l2" } } }, { ifNotExists: true }); // after the drop route
      }
      checked++;
    }
    assert.ok(checked >= 17);
  });
});

test("keys are stored as hashes, listed without them, revoked at once; a generated admin key is never stored", async () => {
  const dir = new MemoryDirectory();
  const s = await startTestServer({ dir, adminKey: null });
  let generated: string;
  try {
    generated = s.server.generatedAdminKey!;
    assert.match(generated, /^qk_/);
    const created = await s.call("POST", "/v1/keys", {
      key: generated,
      body: { name: "svc", scope: "write", prefix: "t-", quota: { writeUnits: 100 } },
    });
    assert.equal(created.status, 201);
    const key = created.json.key as string;
    const file = new TextDecoder().decode(await dir.read(KEYS_FILE));
    assert.ok(
      !file.includes(generated) && !file.includes(key) && !file.includes(key.slice(16)),
      "no key in the key file",
    );
    const listed = await s.call("GET", "/v1/keys", { key: generated });
    assert.equal(listed.json.keys.length, 1);
    assert.equal(listed.json.keys[0].hash, undefined);
    assert.equal(listed.json.keys[0].key, undefined);
    assert.equal((await s.call("GET", "/v1/collections", { key })).status, 200);
    assert.equal((await s.call("DELETE", `/v1/keys/${created.json.id}`, { key: generated })).status, 200);
    assert.equal((await s.call("GET", "/v1/collections", { key })).status, 401);
    assert.equal(
      (await s.call("GET", "/v1/collections", { key: ADMIN_KEY })).status,
      401,
      "QUIVER_ADMIN_KEY is not in force when not given",
    );
  } finally {
    await s.close();
  }
  // Restart on the same directory: the stored admin hash is reused and nothing is printed again.
  const again = await startTestServer({ dir, adminKey: null });
  try {
    assert.equal(again.server.generatedAdminKey, undefined);
    assert.equal((await again.call("GET", "/v1/keys", { key: generated })).status, 200);
  } finally {
    await again.close();
  }
});

test("usage: every response reports its units, they add up per key and per collection, persist, and quotas answer 429", async () => {
  const dir = new MemoryDirectory();
  const s = await startTestServer({ dir });
  let keyId: string;
  let key: string;
  try {
    await s.admin.createCollection("t-a", { vectors: { v: { dim: 4, metric: "dot" } } });
    const created = (
      await s.call("POST", "/v1/keys", { body: { scope: "write", prefix: "t-", quota: { readUnits: 6 } } })
    ).json;
    key = created.key;
    keyId = created.id;
    let read = 0;
    let write = 0;
    const up = await s.call("POST", "/v1/collections/t-a/upsert", {
      key,
      body: {
        records: Array.from({ length: 100 }, (_, i) => ({
          id: `r${i}`,
          vector: [i, 1, 2, 3],
          payload: { text: "x".repeat(50) },
        })),
      },
    });
    assert.equal(up.status, 200);
    const bodyBytes = JSON.stringify({
      records: Array.from({ length: 100 }, (_, i) => ({
        id: `r${i}`,
        vector: [i, 1, 2, 3],
        payload: { text: "x".repeat(50) },
      })),
    }).length;
    assert.equal(
      Number(up.headers.get("quiver-write-units")),
      Math.ceil(bodyBytes / 4096),
      "write units = ceil(request bytes / 4096)",
    );
    write += Number(up.headers.get("quiver-write-units"));
    const q = await s.call("POST", "/v1/collections/t-a/query", { key, body: { vector: [1, 0, 0, 0], limit: 3 } });
    const responseBytes = new TextEncoder().encode(q.text).length;
    assert.equal(
      Number(q.headers.get("quiver-read-units")),
      1 + Math.ceil((100 * 4) / 100_000) + Math.ceil(responseBytes / 16384),
    );
    read += Number(q.headers.get("quiver-read-units"));
    const bad = await s.call("POST", "/v1/collections/t-a/query", { key, body: { vector: [1, 0] } });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get("quiver-read-units"), "0", "a failed request costs nothing");
    for (let i = 0; i < 10; i++) {
      const r = await s.call("POST", "/v1/collections/t-a/count", { key, body: {} });
      if (r.status === 429) {
        assert.equal(r.json.code, "QUOTA_EXCEEDED");
        break;
      }
      read += Number(r.headers.get("quiver-read-units"));
    }
    assert.ok(read >= 6, "stopped by the quota");
    const mine = (await s.call("GET", "/v1/usage", { key })).json;
    assert.equal(mine.keys.length, 1);
    assert.deepEqual([mine.keys[0].total.readUnits, mine.keys[0].total.writeUnits], [read, write]);
    assert.deepEqual(
      [mine.keys[0].collections["t-a"].readUnits, mine.keys[0].collections["t-a"].writeUnits],
      [read, write],
    );
    const all = (await s.call("GET", "/v1/usage")).json;
    assert.equal(
      all.collections["t-a"].readUnits,
      read + 0,
      "admin view sums per collection (the admin itself only created it)",
    );
    assert.equal(all.collections["t-a"].writeUnits, write + 1, "plus the admin's create");
  } finally {
    await s.close();
  }
  assert.ok((await dir.list()).includes(USAGE_FILE));
  const again = await startTestServer({ dir });
  try {
    const mine = (await again.call("GET", "/v1/usage", { key: key! })).json;
    assert.equal(mine.keys[0].key, keyId!);
    assert.ok(mine.keys[0].total.readUnits >= 6, "usage survived a restart");
    assert.equal(
      (await again.call("POST", "/v1/collections/t-a/count", { key: key!, body: {} })).status,
      429,
      "and so did the quota",
    );
  } finally {
    await again.close();
  }
});

test("/metrics needs the admin key and reports requests, latency and units; /healthz tells nothing else", async () => {
  await withServer(async (s) => {
    await s.admin.createCollection("m", { vectors: { v: { dim: 2, metric: "l2" } } });
    await (await s.admin.collection("m")).upsert([{ id: "a", vector: [1, 2] }]);
    assert.equal((await s.call("GET", "/metrics", { key: null })).status, 401);
    const m = await s.call("GET", "/metrics");
    assert.equal(m.status, 200);
    assert.match(m.headers.get("content-type")!, /text\/plain/);
    assert.match(
      m.text,
      /quiver_http_requests_total\{route="\/v1\/collections\/\{name\}\/upsert",method="POST",status="200"\} 1/,
    );
    assert.match(
      m.text,
      /quiver_http_request_duration_seconds_bucket\{route="\/v1\/collections\/\{name\}\/upsert",le="\+Inf"\} 1/,
    );
    assert.match(m.text, /quiver_write_units_total\{collection="m"\} 2/);
    assert.match(m.text, /quiver_collection_records\{collection="m"\} 1/);
    const h = await s.call("GET", "/healthz", { key: null });
    assert.deepEqual(h.json, { ok: true });
  });
});

test("structured request logs: one JSON line per request, with route, status, key id and units", async () => {
  const s = await startTestServer({ keepLogs: true });
  try {
    await s.admin.createCollection("l", { vectors: { v: { dim: 2, metric: "l2" } } });
    await s.call("POST", "/v1/collections/l/query", { body: { vector: [1] } });
    const [create, bad] = s.logs;
    assert.equal(create.route, "/v1/collections/{name}");
    assert.equal(create.status, 200);
    assert.equal(create.key, "admin");
    assert.equal(create.writeUnits, 1);
    assert.equal(bad.status, 400);
    assert.equal(bad.code, "DIMENSION_MISMATCH");
    assert.ok(typeof bad.ms === "number" && bad.requestId.length > 0);
  } finally {
    await s.close();
  }
});

test("errors name the field: unknown fields, bad JSON, unknown routes and methods", async () => {
  await withServer(async (s) => {
    await s.admin.createCollection("e", { vectors: { v: { dim: 2, metric: "l2" } } });
    const unknown = await s.call("POST", "/v1/collections/e/query", { body: { vector: [1, 2], limt: 3 } });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.path, "limt");
    const badJson = await s.call("POST", "/v1/collections/e/query", { raw: '{"vector": [1,' });
    assert.equal(badJson.status, 400);
    assert.equal(badJson.json.code, "INVALID_ARGUMENT");
    assert.equal((await s.call("GET", "/v2/nothing")).status, 404);
    assert.equal((await s.call("PATCH", "/v1/collections/e")).status, 405);
    const limit = await s.call("POST", "/v1/collections/e/query", { body: { vector: [1, 2], limit: 10_001 } });
    assert.deepEqual([limit.status, limit.json.code, limit.json.path], [422, "LIMIT_EXCEEDED", "limit"]);
  });
});

test("usage: a graph search is charged for the nodes it scored, an exact scan for every candidate", async () => {
  const s = await startTestServer();
  try {
    const dim = 64;
    await s.admin.createCollection("g", { vectors: { v: { dim, metric: "l2", index: { type: "hnsw" } } } });
    const random = seededRandom(7);
    const vec = () => Array.from({ length: dim }, () => random());
    for (let b = 0; b < 3; b++) {
      const records = Array.from({ length: 1000 }, (_, i) => ({ id: `r${b * 1000 + i}`, vector: vec() }));
      assert.equal((await s.call("POST", "/v1/collections/g/upsert", { body: { records } })).status, 200);
    }
    const units = (r: { text: string; headers: Headers }, work: number) =>
      1 + Math.ceil(work / 100_000) + Math.ceil(new TextEncoder().encode(r.text).length / 16384);
    const query = vec();
    const graph = await s.call("POST", "/v1/collections/g/query", {
      body: { vector: query, limit: 10, ef: 16, withPayload: false },
    });
    assert.equal(graph.status, 200);
    assert.ok(graph.json.plan.strategy.startsWith("hnsw"), graph.json.plan.strategy);
    const visited = graph.json.plan.ann.visited as number;
    assert.ok(visited > 0 && visited < 3000, `visited ${visited}`);
    assert.equal(Number(graph.headers.get("quiver-read-units")), units(graph, visited * dim));
    const exact = await s.call("POST", "/v1/collections/g/query", {
      body: { vector: query, limit: 10, exact: true, withPayload: false },
    });
    assert.equal(exact.json.plan.candidates, 3000);
    assert.equal(Number(exact.headers.get("quiver-read-units")), units(exact, 3000 * dim));
    assert.ok(Number(graph.headers.get("quiver-read-units")) < Number(exact.headers.get("quiver-read-units")));
  } finally {
    await s.close();
  }
});
