// Slow and numerous clients over loopback: a body that trickles in is cut once the request's time
// is up (408, connection closed, logged as 499), slow headers likewise, and connections past the
// cap are refused at accept.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect as connectTcp, type Socket } from "node:net";
import { ADMIN_KEY, startTestServer } from "./helpers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function open(port: number): Promise<{ socket: Socket; closed: Promise<string> }> {
  const socket = connectTcp(port, "127.0.0.1");
  let received = "";
  socket.on("data", (d) => (received += d.toString()));
  socket.on("error", () => undefined);
  const closed = new Promise<string>((resolve) => socket.once("close", () => resolve(received)));
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  return { socket, closed };
}

test("a body trickling in past requestTimeoutMs is cut with 408, and slow headers too", {
  timeout: 10_000,
}, async () => {
  const t = await startTestServer({
    keepLogs: true,
    connectionLimits: { requestTimeoutMs: 400, headersTimeoutMs: 300 },
  });
  try {
    await t.db.createCollection("kb", { vectors: { v: { dim: 2, metric: "cosine" } } });
    const slow = await open(t.http.port);
    slow.socket.write(
      "POST /v1/collections/kb/upsert HTTP/1.1\r\nHost: x\r\n" +
        `Authorization: Bearer ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`,
    );
    const started = Date.now();
    // One byte every 50 ms: never idle long enough for an idle timeout, never complete.
    const trickle = setInterval(() => slow.socket.writable && slow.socket.write(" "), 50);
    const answer = await slow.closed;
    clearInterval(trickle);
    const ms = Date.now() - started;
    assert.ok(ms < 3_000, `cut after ${ms} ms`);
    assert.match(answer, /^HTTP\/1\.1 408/);
    for (let i = 0; i < 50 && !t.logs.some((l) => l.route.endsWith("/upsert")); i++) await sleep(20);
    assert.equal(t.logs.find((l) => l.route.endsWith("/upsert"))?.status, 499);

    const headers = await open(t.http.port);
    headers.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    const trickleHeaders = setInterval(() => headers.socket.writable && headers.socket.write("X-A: b\r\n"), 50);
    assert.match(await headers.closed, /^HTTP\/1\.1 408/);
    clearInterval(trickleHeaders);
    assert.equal((await t.call("GET", "/healthz")).status, 200, "the server still answers");
  } finally {
    await t.close();
  }
});

/** Bun 1.4.5's node:http accepts past `maxConnections` (and destroying a socket in its "connection" event closes another one). */
const BUN_ACCEPTS_PAST_MAX =
  "Bun 1.4.5's node:http does not enforce maxConnections (docs/runtimes.md); Node and Deno do";

test("connections past maxConnections are refused at accept", {
  skip: process.versions.bun ? BUN_ACCEPTS_PAST_MAX : false,
}, async () => {
  const t = await startTestServer({ connectionLimits: { maxConnections: 2 } });
  try {
    const first = await open(t.http.port);
    const second = await open(t.http.port);
    const third = await open(t.http.port);
    assert.equal(await third.closed, "", "closed without an answer");
    first.socket.destroy();
    second.socket.destroy();
    await Promise.all([first.closed, second.closed]);
    await sleep(50);
    assert.equal((await t.call("GET", "/healthz")).status, 200, "a freed slot is usable again");
  } finally {
    await t.close();
  }
});
