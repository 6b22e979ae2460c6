/**
 * Keys are checked before a body is read: a large upload with a read-only key (or no key, or to a
 * collection outside the key's reach) is answered while the client has sent only its first chunk,
 * and the server has read none of it. Oversized bodies get 413 without (or while) reading.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { ADMIN_KEY, startTestServer, type TestServer } from "./helpers.js";

const GIB = 1 << 30;

/**
 * Starts an upload announcing `declared` bytes (or chunked), sends one 64 KiB chunk (more while
 * `keepSending` and no answer came), and waits for the answer. A raw socket, not an HTTP client: the
 * server answers and closes while the body is still being sent, and a client may then fail its next
 * write (EPIPE, ECONNRESET) before it reports the answer it already received (bun's did, under load).
 */
function upload(
  s: TestServer,
  path: string,
  key: string | null,
  declared: number | null,
  keepSending = false,
): Promise<{ status: number; body: string; sent: number }> {
  return new Promise((resolve, reject) => {
    const url = new URL(s.url);
    const socket = connect(Number(url.port), url.hostname);
    const head = [`POST ${path} HTTP/1.1`, `host: ${url.host}`, "content-type: application/json"];
    if (key) head.push(`authorization: Bearer ${key}`);
    head.push(declared !== null ? `content-length: ${declared}` : "transfer-encoding: chunked");
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const framed = declared !== null ? chunk : Buffer.concat([Buffer.from("10000\r\n"), chunk, Buffer.from("\r\n")]);
    let sent = 0;
    let received = Buffer.alloc(0);
    let answer: { status: number; body: string } | null = null;
    /** The answer once its head and as many body bytes as it declares have arrived. */
    const parse = (): { status: number; body: string } | null => {
      const end = received.indexOf("\r\n\r\n");
      if (end < 0) return null;
      const headText = received.subarray(0, end).toString("latin1");
      const length = Number(/^content-length:\s*(\d+)/im.exec(headText)?.[1] ?? Number.NaN);
      const body = received.subarray(end + 4);
      if (!(body.length >= length)) return null;
      return { status: Number(headText.split(" ")[1]), body: body.subarray(0, length).toString("utf8") };
    };
    const pump = () => {
      while (!answer && keepSending && sent < 64 * chunk.length && !socket.destroyed) {
        sent += chunk.length;
        if (!socket.write(framed)) return void socket.once("drain", pump);
      }
    };
    socket.on("data", (d: Buffer) => {
      received = Buffer.concat([received, d]);
      answer ??= parse();
      if (answer) {
        socket.destroy();
        resolve({ ...answer, sent });
      }
    });
    // Failed writes once the server has answered and closed are expected; the answer decides.
    socket.on("error", () => undefined);
    socket.on("close", () => answer ?? reject(new Error(`no complete answer after ${sent} bytes`)));
    socket.write(`${head.join("\r\n")}\r\n\r\n`);
    socket.write(framed);
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
