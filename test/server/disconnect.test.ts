// A client that disconnects halfway through its body is logged and counted as 499
// CLIENT_DISCONNECTED, not as a 500 with a stack trace.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect as connectTcp } from "node:net";
import { ADMIN_KEY, startTestServer } from "./helpers.js";

test("a body cut short by the client is a 499 in the log and the metrics, without a stack", async () => {
  const t = await startTestServer({ keepLogs: true });
  try {
    await t.db.createCollection("kb", { vectors: { v: { dim: 2, metric: "cosine" } } });
    const { port } = t.http;
    const socket = connectTcp(port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.write(
      "POST /v1/collections/kb/upsert HTTP/1.1\r\nHost: x\r\n" +
        `Authorization: Bearer ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"records": [`,
    );
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    for (let i = 0; i < 100 && !t.logs.some((l) => l.route.endsWith("/upsert")); i++)
      await new Promise((r) => setTimeout(r, 20));
    const entry = t.logs.find((l) => l.route.endsWith("/upsert"));
    assert.ok(entry, "the request was logged");
    assert.equal(entry.status, 499);
    assert.equal(entry.code, "CLIENT_DISCONNECTED");
    const metrics = (await t.call("GET", "/metrics")).text;
    assert.ok(
      metrics.includes(
        'quiver_http_requests_total{route="/v1/collections/{name}/upsert",method="POST",status="499"} 1',
      ),
    );
    assert.doesNotMatch(metrics, /status="500"/);
  } finally {
    await t.close();
  }
});
