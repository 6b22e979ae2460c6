// A time budget while a request runs: the read path checks a deadline at safe points (exact-scan
// chunks, filter and scroll loops, posting lists, graph rounds) and stops with TIMEOUT; a delete by
// filter stops only before it is logged; the server answers 504 and keeps serving. Clocks are driven
// by the tests (one millisecond per reading), so nothing here depends on the machine's speed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Deadline, open, QuiverError, type Collection } from "../../src/index.js";
import { startTestServer } from "./helpers.js";

const N = 8_000;

/** A clock that advances one millisecond each time it is read. */
function tickingClock(): () => number {
  let t = 0;
  return () => t++;
}

/** N records with a 4-d vector, a payload field only every 1,000th record matches, and a text. */
async function fill(c: { upsert: Collection["upsert"] }, n = N): Promise<void> {
  for (let start = 0; start < n; start += 4_000) {
    const records = [];
    for (let i = start; i < Math.min(n, start + 4_000); i++) {
      records.push({
        id: `r${String(i).padStart(6, "0")}`,
        vectors: { v: [i % 7, i % 11, i % 13, 1] },
        payload: { rare: i % 1_000 === 0, body: `word${i % 50} common text` },
      });
    }
    await c.upsert(records);
  }
}

const isTimeout = (e: unknown) => e instanceof QuiverError && e.code === "TIMEOUT";

test("each read path stops with TIMEOUT once its deadline passes, and the database is unharmed", async () => {
  const db = await open();
  const c = await db.createCollection("docs", { vectors: { v: { dim: 4, metric: "l2" } }, text: { body: {} } });
  await fill(c);
  // 5 ms on a clock read once per check: a loop making more than 5 checks must stop.
  const tight = () => ({ deadline: Deadline.after(5, tickingClock()) });
  const textBefore = await c.query({ text: "word1 word2 word3 word4 word5 word6 word7 word8 common", limit: 5 });

  // An exact scan under a filter walking every payload (a check per 1,024: 8 checks).
  await assert.rejects(c.query({ vector: [1, 2, 3, 1], filter: { rare: true } }, tight()), isTimeout);
  // BM25: one check per posting list, nine lists.
  await assert.rejects(c.query({ text: "word1 word2 word3 word4 word5 word6 word7 word8 common" }, tight()), isTimeout);
  // Scroll looking for a rare match; count over a scanned filter.
  await assert.rejects(c.scroll({ filter: { rare: true }, limit: 100 }, tight()), isTimeout);
  await assert.rejects(c.count({ rare: true }, tight()), isTimeout);
  // Delete by filter times out while choosing its records: nothing is logged, nothing deleted.
  await assert.rejects(c.deleteByFilter({ rare: true }, tight()), isTimeout);
  assert.equal(await c.count({ rare: true }), N / 1_000);

  // The BM25 accumulator was left clean by the interrupted scoring: same hits, same scores.
  assert.deepEqual(
    await c.query({ text: "word1 word2 word3 word4 word5 word6 word7 word8 common", limit: 5 }),
    textBefore,
  );
  // With room to finish, the same calls succeed.
  const roomy = { deadline: Deadline.after(60_000, () => performance.now()) };
  assert.equal((await c.query({ vector: [1, 2, 3, 1], filter: { rare: true } }, roomy)).hits.length, N / 1_000);
  assert.equal((await c.deleteByFilter({ rare: true }, roomy)).deleted, N / 1_000);
  await db.close();
});

test("a graph search checks its deadline before it starts", async () => {
  const db = await open();
  const c = await db.createCollection("docs", {
    vectors: { v: { dim: 4, metric: "l2", index: { type: "hnsw" } } },
  });
  await fill(c, 1_000);
  // An expired deadline stops the search before its first round.
  const expired = { deadline: Deadline.after(-1, () => 0) };
  await assert.rejects(c.query({ vector: [1, 2, 3, 1] }, expired), isTimeout);
  assert.equal((await c.query({ vector: [1, 2, 3, 1] })).hits.length, 10);
  await db.close();
});

test("over HTTP: an expensive query past --request-timeout-ms answers 504 TIMEOUT; the server keeps serving", async () => {
  // 6 ms: the request's own checks (one after its body, one per scan chunk) fit; a filter walking
  // 8,000 payloads (8 more) does not.
  const t = await startTestServer({ serverLimits: { requestTimeoutMs: 6 }, now: tickingClock(), keepLogs: true });
  try {
    const schema = { vectors: { v: { dim: 4, metric: "l2" } } };
    assert.equal((await t.call("PUT", "/v1/collections/docs", { body: { schema } })).status, 200);
    await fill(await t.db.collection("docs"));
    const slow = await t.call("POST", "/v1/collections/docs/query", {
      body: { vector: [1, 2, 3, 1], filter: { rare: true } },
    });
    assert.equal(slow.status, 504);
    assert.equal(slow.json.code, "TIMEOUT");
    assert.equal(slow.headers.get("quiver-read-units"), "0");
    const cheap = await t.call("POST", "/v1/collections/docs/query", { body: { vector: [1, 2, 3, 1], limit: 1 } });
    assert.equal(cheap.status, 200);
    assert.equal(cheap.json.hits.length, 1);
    const del = await t.call("POST", "/v1/collections/docs/delete-by-filter", { body: { filter: { rare: true } } });
    assert.equal(del.status, 504);
    assert.equal((await t.call("POST", "/v1/collections/docs/count", { body: {} })).json.count, N);
    assert.deepEqual(
      t.logs.filter((l) => l.status === 504).map((l) => l.code),
      ["TIMEOUT", "TIMEOUT"],
    );
  } finally {
    await t.close();
  }
});
