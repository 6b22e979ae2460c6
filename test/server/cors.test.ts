/**
 * CORS on the server, through the Node adapter as `quiver serve --cors-origin` runs it: an allowed
 * origin's preflight is answered (methods, the key headers) without a key, its requests get
 * Access-Control-Allow-Origin but still need a key; a disallowed origin's preflight is refused and
 * its answers carry no allow header; requests without Origin are unchanged; CORS is off by default.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ADMIN_KEY, startTestServer } from "./helpers.js";
import { open } from "../../src/index.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";
import { startQuiverServer } from "../../src/server/index.js";
import { isQuiverError } from "../../src/core/errors/errors.js";

const ALLOWED = "http://app.example.test:5173";
const OTHER = "https://evil.example.test";

function preflight(url: string, origin: string, method = "POST") {
  return fetch(`${url}/v1/collections/docs/query`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": method,
      "access-control-request-headers": "authorization, content-type",
    },
  });
}

const listFrom =
  (origin: string | null, key: string | null = ADMIN_KEY) =>
  (url: string) =>
    fetch(`${url}/v1/collections`, {
      headers: { ...(origin ? { origin } : {}), ...(key ? { authorization: `Bearer ${key}` } : {}) },
    });

test("an allowed origin's preflight is answered without a key, with the methods and the key headers", async () => {
  const s = await startTestServer({ corsOrigins: [ALLOWED] });
  try {
    const res = await preflight(s.url, ALLOWED);
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), ALLOWED);
    const methods = res.headers.get("access-control-allow-methods")?.split(/,\s*/) ?? [];
    for (const m of ["GET", "POST", "PUT", "DELETE"]) assert.ok(methods.includes(m), `${m} in ${methods}`);
    const headers = res.headers.get("access-control-allow-headers")?.split(/,\s*/) ?? [];
    for (const h of ["authorization", "x-api-key", "api-key", "x-chroma-token", "content-type"])
      assert.ok(headers.includes(h), `${h} in ${headers}`);
    assert.match(res.headers.get("vary") ?? "", /origin/i);
    assert.ok(Number(res.headers.get("access-control-max-age")) > 0);
  } finally {
    await s.close();
  }
});

test("an allowed origin's requests carry Allow-Origin and Vary, and still need a key", async () => {
  const s = await startTestServer({ corsOrigins: [ALLOWED] });
  try {
    const ok = await listFrom(ALLOWED)(s.url);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("access-control-allow-origin"), ALLOWED);
    assert.match(ok.headers.get("vary") ?? "", /origin/i);
    // The page may read the units and request id the client reports.
    assert.match(ok.headers.get("access-control-expose-headers") ?? "", /quiver-read-units/);
    const keyless = await listFrom(ALLOWED, null)(s.url);
    assert.equal(keyless.status, 401);
    // Readable by the page, so it can tell the user the key is missing.
    assert.equal(keyless.headers.get("access-control-allow-origin"), ALLOWED);
    const wrong = await listFrom(ALLOWED, "not-a-key-0123456789")(s.url);
    assert.equal(wrong.status, 401);
  } finally {
    await s.close();
  }
});

test("a disallowed origin's preflight is refused, and its answers carry no Allow-Origin", async () => {
  const s = await startTestServer({ corsOrigins: [ALLOWED] });
  try {
    const pre = await preflight(s.url, OTHER);
    assert.equal(pre.status, 403);
    assert.equal(pre.headers.get("access-control-allow-origin"), null);
    assert.equal(pre.headers.get("access-control-allow-methods"), null);
    assert.equal(((await pre.json()) as { code: string }).code, "FORBIDDEN");
    const res = await listFrom(OTHER)(s.url);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    assert.match(res.headers.get("vary") ?? "", /origin/i);
  } finally {
    await s.close();
  }
});

test("requests without Origin are served as before; with no origins listed, CORS is off", async () => {
  const on = await startTestServer({ corsOrigins: [ALLOWED] });
  try {
    const res = await listFrom(null)(on.url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
  } finally {
    await on.close();
  }
  const off = await startTestServer();
  try {
    const pre = await preflight(off.url, ALLOWED);
    assert.equal(pre.headers.get("access-control-allow-origin"), null);
    assert.notEqual(pre.status, 204);
    const res = await listFrom(ALLOWED)(off.url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    assert.equal(res.headers.get("vary"), null);
  } finally {
    await off.close();
  }
});

test('"*" admits any origin; a malformed origin is rejected before serving, every one with its path', async () => {
  const s = await startTestServer({ corsOrigins: ["*"] });
  try {
    const pre = await preflight(s.url, OTHER, "PUT");
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), OTHER);
  } finally {
    await s.close();
  }
  const dir = new MemoryDirectory();
  const db = await open(dir);
  try {
    await assert.rejects(
      startQuiverServer({
        db,
        dir,
        adminKey: ADMIN_KEY,
        corsOrigins: ["https://ok.test", "https://a.test/path", "a.test"],
      }),
      (e: unknown) =>
        isQuiverError(e, "INVALID_ARGUMENT") &&
        e.problems.map((p) => p.path).join() === "corsOrigins[1],corsOrigins[2]",
    );
  } finally {
    await db.close();
  }
});

test("a streamed answer (/mcp, a web Response) gets the CORS headers too", async () => {
  const dir = new MemoryDirectory();
  const db = await open(dir);
  const server = await startQuiverServer({
    db,
    dir,
    adminKey: ADMIN_KEY,
    corsOrigins: [ALLOWED],
    mcp: async () => new Response("streamed", { status: 200, headers: { "content-type": "text/event-stream" } }),
  });
  try {
    const res = await server.app.fetch(
      new Request("http://quiver.test/mcp", {
        method: "POST",
        headers: { origin: ALLOWED, authorization: `Bearer ${ADMIN_KEY}` },
        body: "{}",
      }),
    );
    assert.equal(await res.text(), "streamed");
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    assert.equal(res.headers.get("access-control-allow-origin"), ALLOWED);
    assert.match(res.headers.get("vary") ?? "", /origin/i);
  } finally {
    await server.flush();
    await db.close();
  }
});
