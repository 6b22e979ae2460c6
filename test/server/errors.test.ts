/**
 * One error vocabulary end to end: every catalog code leaves the server with its catalog status
 * and comes back out of the client as the same code, message and problems; what is not the
 * server's answer (a refused connection, a proxy's page) becomes UNAVAILABLE on the client; the
 * OpenAPI document describes errors from the same catalog.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ERROR_CATALOG, type ErrorCode, isQuiverError, QuiverError } from "../../src/core/errors/errors.js";
import type { DatabaseApi } from "../../src/api/types.js";
import { MemoryDirectory } from "../../src/index.js";
import { startQuiverServer } from "../../src/server/index.js";
import { connect } from "../../src/client/index.js";
import { startTestServer } from "./helpers.js";

const ROOT = new URL("../../../", import.meta.url);

const KEY = "errors-test-admin-key-0123456789";
const CODES = Object.keys(ERROR_CATALOG) as ErrorCode[];

/** A server over a database whose every call fails with `failure()`, and a client wired to it without a socket. */
async function failingServer(failure: () => unknown) {
  const fail = async (): Promise<never> => {
    throw failure();
  };
  const db: DatabaseApi = {
    createCollection: fail,
    collection: fail,
    listCollections: fail,
    dropCollection: fail,
    stats: fail,
    checkpoint: fail,
    close: async () => undefined,
  };
  const server = await startQuiverServer({ db, dir: new MemoryDirectory(), adminKey: KEY });
  const fetch = (input: string | URL | Request, init?: RequestInit) => server.app.fetch(new Request(input, init));
  const client = connect("http://quiver.test", { apiKey: KEY, fetch });
  return { server, client, fetch };
}

test("every catalog code leaves the server with its catalog status and returns from the client as itself", async () => {
  let current: ErrorCode = "INTERNAL";
  const problems = [{ path: "records[2].id", message: "is wrong in a way only this test knows" }];
  const s = await failingServer(() => new QuiverError(current, `failing with ${current}`, { problems }));
  for (const code of CODES) {
    current = code;
    const res = await s.fetch("http://quiver.test/v1/stats", { headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(res.status, ERROR_CATALOG[code].status, code);
    const body = (await res.json()) as { code: string; message: string; path: string };
    assert.deepEqual(
      { code: body.code, message: body.message, path: body.path },
      { code, message: `failing with ${code}`, path: "records[2].id" },
    );
    await assert.rejects(s.client.stats(), (e: unknown) => {
      assert.ok(e instanceof QuiverError, String(e));
      assert.deepEqual(
        { code: e.code, message: e.message, problems: e.problems, status: e.httpStatus },
        { code, message: `failing with ${code}`, problems, status: ERROR_CATALOG[code].status },
      );
      return true;
    });
  }
});

test("a failure that is not a QuiverError is INTERNAL (500) and its message stays in the server log", async () => {
  const s = await failingServer(() => new TypeError("secret detail at /home/someone/db"));
  const res = await s.fetch("http://quiver.test/v1/stats", { headers: { authorization: `Bearer ${KEY}` } });
  assert.equal(res.status, ERROR_CATALOG.INTERNAL.status);
  const text = await res.text();
  assert.equal(JSON.parse(text).code, "INTERNAL");
  assert.ok(!text.includes("secret"), text);
  await assert.rejects(s.client.stats(), (e: unknown) => isQuiverError(e, "INTERNAL"));
});

test("a method a path does not accept is METHOD_NOT_ALLOWED with the catalog's status", async () => {
  const s = await failingServer(() => new QuiverError("INTERNAL", "unused"));
  const res = await s.fetch("http://quiver.test/v1/stats", {
    method: "DELETE",
    headers: { authorization: `Bearer ${KEY}` },
  });
  assert.equal(res.status, ERROR_CATALOG.METHOD_NOT_ALLOWED.status);
  assert.equal(((await res.json()) as { code: string }).code, "METHOD_NOT_ALLOWED");
  await assert.rejects(s.client.request("DELETE", "/v1/stats"), (e: unknown) => isQuiverError(e, "METHOD_NOT_ALLOWED"));
});

test("the client reports a refused connection as UNAVAILABLE (it cannot know whether the server acted)", async () => {
  // A port that was just listening and is now closed refuses connections.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const client = connect(`http://127.0.0.1:${port}`, { apiKey: KEY });
  await assert.rejects(client.listCollections(), (e: unknown) => {
    assert.ok(isQuiverError(e, "UNAVAILABLE"), String(e));
    assert.match((e as Error).message, /cannot reach the Quiver server/);
    return true;
  });
});

test("answers that are not the server's own map by the catalog: unparsable is UNAVAILABLE, a bare status its code", async () => {
  const answer = (status: number, body: string) => async () => new Response(body, { status });
  const cases: [number, string, ErrorCode][] = [
    [502, "<html>Bad Gateway</html>", "UNAVAILABLE"], // a proxy's page
    [200, "<html>captive portal</html>", "UNAVAILABLE"],
    [503, "{}", "UNAVAILABLE"], // no code: something in between failed
    [413, "{}", "PAYLOAD_TOO_LARGE"], // the only code with 413
    [429, '{"message":"slow down"}', "QUOTA_EXCEEDED"],
    [409, "{}", "INVALID_ARGUMENT"], // several codes share 409: none can be claimed
    [400, '{"code":"__proto__","message":"x"}', "INVALID_ARGUMENT"], // not a catalog code
    [400, '{"code":"toString","message":"x"}', "INVALID_ARGUMENT"],
  ];
  for (const [status, body, code] of cases) {
    const client = connect("http://quiver.test", { fetch: answer(status, body) });
    await assert.rejects(client.listCollections(), (e: unknown) => {
      assert.ok(isQuiverError(e, code), `${status} ${body}: got ${String(e)}`);
      return true;
    });
  }
});

test("the OpenAPI document describes errors from the catalog: its codes, and only catalog statuses", async () => {
  const s = await failingServer(() => new QuiverError("INTERNAL", "unused"));
  const doc = s.server.app.openapi as {
    paths: Record<string, Record<string, { responses: Record<string, { description?: string; $ref?: string }> }>>;
    components: { schemas: { Error: { properties: { code: { enum: string[] } } } } };
  };
  assert.deepEqual(doc.components.schemas.Error.properties.code.enum, CODES);
  const statuses = new Set(CODES.map((c) => String(ERROR_CATALOG[c].status)));
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      for (const [status, r] of Object.entries(op.responses)) {
        if (status === "200" || status === "default") continue;
        assert.ok(statuses.has(status), `${method} ${path} documents ${status}, which no catalog code has`);
        // Every code with that status is named, with the catalog's own summary.
        for (const c of CODES.filter((x) => String(ERROR_CATALOG[x].status) === status))
          assert.ok(r.description?.includes(`${c} (${status}): ${ERROR_CATALOG[c].summary}`), `${path} ${status} ${c}`);
      }
      assert.ok(op.responses.default, `${method} ${path} has no default error response`);
    }
  }
  const upsert = doc.paths["/v1/collections/{name}/upsert"].post.responses;
  for (const status of ["400", "401", "403", "404", "413", "429"]) assert.ok(upsert[status], `upsert lacks ${status}`);
  assert.equal(doc.paths["/healthz"].get.responses["401"], undefined, "a public route cannot answer 401");
});

test("running out of WebAssembly memory in a write is RESOURCE_EXHAUSTED (507) over HTTP", async () => {
  const s = await startTestServer();
  const grow = WebAssembly.Memory.prototype.grow;
  try {
    await s.admin.createCollection("big", { vectors: { v: { dim: 64, metric: "dot" } } });
    const records = Array.from({ length: 2000 }, (_, i) => ({ id: `r${i}`, vector: new Array(64).fill(i % 7) }));
    // The engine refusing to grow is what a memory-starved process sees.
    WebAssembly.Memory.prototype.grow = () => {
      throw new RangeError("WebAssembly.Memory.grow(): Maximum memory size exceeded");
    };
    const res = await s.call("POST", "/v1/collections/big/upsert", { body: { records } });
    assert.equal(res.status, ERROR_CATALOG.RESOURCE_EXHAUSTED.status, res.text);
    assert.equal(res.json.code, "RESOURCE_EXHAUSTED");
    assert.match(res.json.message, /could not grow the memory/);
  } finally {
    WebAssembly.Memory.prototype.grow = grow;
    await s.close();
  }
});

test("docs/server.md's error table is the catalog, and the README names every code", () => {
  const doc = readFileSync(new URL("docs/server.md", ROOT), "utf8");
  const rows = [...doc.matchAll(/^\| `([A-Z_]+)` +\| (\d+) +\| (user|system) +\| (.+?) +\|$/gm)].map((m) => m.slice(1));
  assert.deepEqual(
    rows,
    CODES.map((c) => [c, String(ERROR_CATALOG[c].status), ERROR_CATALOG[c].kind, ERROR_CATALOG[c].summary]),
  );
  const readme = readFileSync(new URL("README.md", ROOT), "utf8");
  const paragraph = readme.slice(readme.indexOf("Every failure is a `QuiverError`"), readme.indexOf("Nothing invalid"));
  for (const c of CODES) assert.ok(paragraph.includes(`\`${c}\``), `README's error paragraph lacks ${c}`);
});
