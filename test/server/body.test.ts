/**
 * Keys are checked before a body is read: a large upload with a read-only key (or no key, or to a
 * collection outside the key's reach) is answered while the client has sent only its first chunk,
 * and the server has read none of it. Oversized bodies get 413 without (or while) reading.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { ADMIN_KEY, startTestServer, type TestServer } from "./helpers.js";

const GIB = 1 << 30;

/** Starts an upload announcing `declared` bytes (or chunked), sends one 64 KiB chunk, and waits for the answer. */
function upload(
  s: TestServer,
  path: string,
  key: string | null,
  declared: number | null,
  keepSending = false,
): Promise<{ status: number; body: string; sent: number }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { "content-type": "application/json" };
    if (key) headers.authorization = `Bearer ${key}`;
    if (declared !== null) headers["content-length"] = declared;
    const req = request(`${s.url}${path}`, { method: "POST", headers });
    let sent = 0;
    let answered = false;
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const pump = () => {
      while (!answered && keepSending && sent < 64 * chunk.length) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
    };
    req.on("response", (res) => {
      answered = true;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => {
        req.destroy();
        resolve({ status: res.statusCode!, body, sent });
      });
    });
    req.on("error", (e) => (answered ? undefined : reject(e)));
    req.write(chunk);
    sent += chunk.length;
    pump();
    setTimeout(() => reject(new Error(`no answer after ${sent} bytes`)), 10_000).unref();
  });
}

test("a 1 GiB upload with a read-only key, no key, or outside the reach is refused before its body is read", async () => {
  const s = await startTestServer({ serverLimits: { maxBodyBytes: 1 << 20 } });
  try {
    await s.admin.createCollection("t-big", { vectors: { v: { dim: 2, metric: "l2" } } });
    const read = (await s.call("POST", "/v1/keys", { body: { scope: "read", prefix: "t-" } })).json.key as string;
    const write = (await s.call("POST", "/v1/keys", { body: { scope: "write", prefix: "t-" } })).json.key as string;
    const before = s.server.app.metrics.requestBodyBytesRead;

    const forbidden = await upload(s, "/v1/collections/t-big/upsert", read, GIB);
    assert.equal(forbidden.status, 403);
    assert.equal(JSON.parse(forbidden.body).code, "FORBIDDEN");
    assert.ok(forbidden.sent <= 64 * 1024, `answered after ${forbidden.sent} bytes`);

    assert.equal((await upload(s, "/v1/collections/t-big/upsert", null, GIB)).status, 401);
    assert.equal((await upload(s, "/v1/collections/other/upsert", write, GIB)).status, 404);
    const tooLarge = await upload(s, "/v1/collections/t-big/upsert", write, GIB);
    assert.equal(tooLarge.status, 413, "a write key, but the declared length is past maxBodyBytes");
    assert.equal(s.server.app.metrics.requestBodyBytesRead, before, "not one body byte was read");

    // Chunked (no declared length): read only up to the limit, then 413.
    const chunked = await upload(s, "/v1/collections/t-big/upsert", write, null, true);
    assert.equal(chunked.status, 413);
    const readBytes = s.server.app.metrics.requestBodyBytesRead - before;
    assert.ok(readBytes > 1 << 20 && readBytes <= (1 << 20) + 128 * 1024, `read ${readBytes} bytes`);

    // The server is still healthy and serves the admin.
    const ok = await s.call("POST", "/v1/collections/t-big/upsert", {
      key: ADMIN_KEY,
      body: { records: [{ id: "a", vector: [1, 2] }] },
    });
    assert.equal(ok.status, 200);
  } finally {
    await s.close();
  }
});
