/**
 * The request path's shortcuts keep its answers: JSON written as a string carries its length in bytes
 * (not characters) on a kept-alive connection, cached routings still name the right collection past the
 * cache's bound and beside paths that need URL parsing, and a body that arrives in parts is read whole.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect as tcp } from "node:net";
import { ADMIN_KEY, startTestServer, type TestServer } from "./helpers.js";

/** The complete HTTP responses at the start of `bytes`, each body cut by its own content-length (bytes). */
function responses(bytes: Buffer): { status: number; body: string }[] {
  const out: { status: number; body: string }[] = [];
  let at = 0;
  for (;;) {
    const headEnd = bytes.indexOf("\r\n\r\n", at);
    if (headEnd < 0) return out;
    const head = bytes.subarray(at, headEnd).toString();
    const length = Number(/content-length: (\d+)/i.exec(head)?.[1]);
    if (headEnd + 4 + length > bytes.length) return out;
    out.push({
      status: Number(head.split(" ")[1]),
      body: bytes.subarray(headEnd + 4, headEnd + 4 + length).toString(),
    });
    at = headEnd + 4 + length;
  }
}

/** Writes `parts` on one connection, 30 ms apart, and resolves with the first `count` responses read back. */
function exchange(s: TestServer, parts: Buffer[], count: number): Promise<{ status: number; body: string }[]> {
  const { port } = new URL(s.url);
  return new Promise((resolve, reject) => {
    const socket = tcp(Number(port), "127.0.0.1");
    let got = Buffer.alloc(0);
    socket.on("data", (c: Buffer) => {
      got = Buffer.concat([got, c]);
      const done = responses(got);
      if (done.length >= count) {
        socket.destroy();
        resolve(done.slice(0, count));
      }
    });
    socket.on("error", reject);
    socket.on("connect", async () => {
      for (const p of parts) {
        socket.write(p);
        await new Promise((r) => setTimeout(r, 30));
      }
    });
  });
}

function post(path: string, body: string): Buffer {
  return Buffer.from(
    `POST ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${ADMIN_KEY}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

test("an answer with text past ASCII is sized in bytes: two answers on one connection parse apart", async () => {
  const s = await startTestServer();
  try {
    await s.admin.createCollection("t", { vectors: { v: { dim: 2, metric: "l2" } } });
    const text = "héllo ✓ 🎯 ünïcödé";
    await (await s.admin.collection("t")).upsert([{ id: "é1", vector: [1, 0], payload: { text } }]);
    const q = post("/v1/collections/t/query", JSON.stringify({ vector: [1, 0], limit: 1, withPayload: true }));
    const answers = await exchange(s, [Buffer.concat([q, q])], 2);
    for (const a of answers) {
      assert.equal(a.status, 200);
      const parsed = JSON.parse(a.body) as { hits: { id: string; payload: { text: string } }[] };
      assert.equal(parsed.hits[0].id, "é1");
      assert.equal(parsed.hits[0].payload.text, text);
    }
  } finally {
    await s.close();
  }
});

test("a body sent in three parts, apart in time, is read whole", async () => {
  const s = await startTestServer();
  try {
    await s.admin.createCollection("t", { vectors: { v: { dim: 3, metric: "l2" } } });
    await (await s.admin.collection("t")).upsert([
      { id: "near", vector: [1, 2, 3] },
      { id: "far", vector: [-9, -9, -9] },
    ]);
    const whole = post("/v1/collections/t/query", JSON.stringify({ vector: [1, 2, 3], limit: 2 }));
    const head = whole.indexOf("\r\n\r\n") + 4;
    const mid = head + 10;
    const [a] = await exchange(s, [whole.subarray(0, head), whole.subarray(head, mid), whole.subarray(mid)], 1);
    assert.equal(a.status, 200, a.body);
    assert.deepEqual(
      (JSON.parse(a.body) as { hits: { id: string }[] }).hits.map((h) => h.id),
      ["near", "far"],
    );
  } finally {
    await s.close();
  }
});

test("routings stay right past the routing cache's bound and beside paths that need URL parsing", async () => {
  const s = await startTestServer();
  try {
    for (const name of ["a", "b"]) {
      await s.admin.createCollection(name, { vectors: { v: { dim: 1, metric: "l2" } } });
      await (await s.admin.collection(name)).upsert([{ id: `in-${name}`, vector: [1] }]);
    }
    const idsAt = async (path: string) => {
      const r = await s.call("POST", path, { body: { vector: [1], limit: 1 } });
      assert.equal(r.status, 200, r.text);
      return (r.json as { hits: { id: string }[] }).hits.map((h) => h.id);
    };
    assert.deepEqual(await idsAt("/v1/collections/a/query"), ["in-a"]);
    assert.deepEqual(await idsAt("/v1/collections/b/query"), ["in-b"]);
    // 1,100 other routed paths (each a collection that does not exist) go through the cache and past its bound.
    for (let i = 0; i < 1_100; i++) {
      const r = await s.call("POST", `/v1/collections/none-${i}/query`, { body: { vector: [1], limit: 1 } });
      assert.equal(r.status, 404);
    }
    assert.deepEqual(await idsAt("/v1/collections/b/query"), ["in-b"]);
    assert.deepEqual(await idsAt("/v1/collections/a/query"), ["in-a"]);
    // Percent-encoding and a query string take URL parsing; they name the same collection.
    assert.deepEqual(await idsAt("/v1/collections/%61/query"), ["in-a"]);
    assert.deepEqual(await idsAt("/v1/collections/b/query?x=1"), ["in-b"]);
    // A method the path does not allow is still told apart from a path with no route.
    assert.equal((await s.call("GET", "/v1/collections/a/query")).status, 405);
    assert.equal((await s.call("GET", "/v1/nothing-here")).status, 404);
  } finally {
    await s.close();
  }
});
