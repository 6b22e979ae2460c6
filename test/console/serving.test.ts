/**
 * How the server serves the console, without a browser: content types, cache headers (hashed assets
 * immutable, the index revalidated), the Content-Security-Policy, no key needed for the page but the
 * API still keyed, unknown files 404 and writes 405; and GET /v1/key, which tells the console what
 * the signed-in key may do.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { loadConsoleAssets } from "../../src/node/console-assets.js";
import { CONSOLE_CSP } from "../../src/server/console.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../server/helpers.js";

let t: TestServer;
let assets: NonNullable<ReturnType<typeof loadConsoleAssets>>;

before(async () => {
  const loaded = loadConsoleAssets();
  assert.ok(loaded, "dist/console is missing: npm run build (it runs build:console)");
  assets = loaded;
  t = await startTestServer({ console: assets });
});
after(() => t.close());

test("the index is served at /console and /console/ without a key, revalidated, under the CSP", async () => {
  for (const path of ["/console", "/console/"]) {
    const r = await t.call("GET", path, { key: null });
    assert.equal(r.status, 200, path);
    assert.equal(r.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(r.headers.get("cache-control"), "no-cache");
    assert.equal(r.headers.get("content-security-policy"), CONSOLE_CSP);
    assert.equal(r.headers.get("x-content-type-options"), "nosniff");
    assert.match(r.text, /<div id="app">/);
    // The CSP forbids inline scripts, so the page must have none: every script is a file.
    for (const m of r.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      assert.match(m[1], /\bsrc="\/console\/assets\/[^"]+\.js"/, "a script without src");
      assert.equal(m[2].trim(), "", "an inline script");
    }
  }
});

test("the CSP allows no inline script and no inline style element; eval only for regl's compiled draw calls", () => {
  const directives = Object.fromEntries(
    CONSOLE_CSP.split(";").map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name, values];
    }),
  );
  assert.deepEqual(directives["default-src"], ["'none'"]);
  assert.deepEqual(directives["script-src"], ["'self'", "'unsafe-eval'"]);
  assert.deepEqual(directives["style-src"], ["'self'"]);
  assert.deepEqual(directives["connect-src"], ["'self'"]);
  assert.deepEqual(directives["frame-ancestors"], ["'none'"]);
  assert.ok(!CONSOLE_CSP.includes("unsafe-inline"));
});

test("hashed assets are immutable, with their content types; source maps are not served", async () => {
  const files = [...assets.keys()].filter((f) => f.startsWith("assets/"));
  assert.ok(files.some((f) => f.endsWith(".js")) && files.some((f) => f.endsWith(".css")), files.join(", "));
  for (const f of files) {
    const r = await t.call("GET", `/console/${f}`, { key: null });
    assert.equal(r.status, 200, f);
    assert.equal(r.headers.get("cache-control"), "public, max-age=31536000, immutable", f);
    const type = f.endsWith(".js")
      ? "text/javascript; charset=utf-8"
      : f.endsWith(".css")
        ? "text/css; charset=utf-8"
        : null;
    if (type) assert.equal(r.headers.get("content-type"), type, f);
  }
  assert.ok(![...assets.keys()].some((f) => f.endsWith(".map")));
});

test("an unknown console file is 404, a write is 405, and the API behind it still needs a key", async () => {
  assert.equal((await t.call("GET", "/console/assets/nope.js", { key: null })).status, 404);
  assert.equal((await t.call("POST", "/console/", { key: null, raw: "x" })).status, 405);
  assert.equal((await t.call("GET", "/v1/collections", { key: null })).status, 401);
});

test("GET /v1/key describes the key making the request, and nothing secret", async () => {
  const admin = await t.call("GET", "/v1/key", { key: ADMIN_KEY });
  assert.equal(admin.status, 200);
  assert.deepEqual(admin.json, { id: "admin", name: "admin", scope: "admin" });
  const { key, record } = await t.server.keys.create({ name: "tenant-a", scope: "read", prefix: "a-" });
  const mine = await t.call("GET", "/v1/key", { key });
  assert.equal(mine.status, 200);
  assert.deepEqual(mine.json, { id: record.id, name: "tenant-a", scope: "read", prefix: "a-" });
  assert.ok(!mine.text.includes(key) && !mine.text.includes("hash"));
  assert.equal((await t.call("GET", "/v1/key", { key: "not-a-key-0123456789" })).status, 401);
  assert.ok("/v1/key" in (t.server.app.openapi.paths as Record<string, unknown>));
});

test("GET /v1/recovery gives an admin what opening the database found, and no one else", async () => {
  const admin = await t.call("GET", "/v1/recovery", { key: ADMIN_KEY });
  assert.equal(admin.status, 200);
  assert.deepEqual(admin.json.recovery.damage, []);
  assert.ok(Array.isArray(admin.json.recovery.warnings));
  assert.equal(typeof admin.json.recovery.operationsReplayed, "number");
  const { key } = await t.server.keys.create({ name: "reader", scope: "read", prefix: "" });
  assert.equal((await t.call("GET", "/v1/recovery", { key })).status, 403);
});
