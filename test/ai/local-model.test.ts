/**
 * End to end with the real local model (Universal Sentence Encoder lite, installed from npm):
 * ingest a folder and get the right chunk for a question; memories expire on time; near-duplicate
 * memories merge. Small on purpose: the model embeds a few short texts per second on CI.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  open,
  localEmbedder,
  documentSchema,
  ingestDocuments,
  readDocuments,
  searchDocuments,
  MemoryStore,
  type Database,
} from "../../src/index.js";

let dir: string;
let db: Database;
const local = localEmbedder();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "quiver-ai-"));
  mkdirSync(join(dir, "docs", "sub"), { recursive: true });
  writeFileSync(
    join(dir, "docs", "install.md"),
    "# Installing Quiver\n\nQuiver installs from npm with one command: npm install quiverdb. There is no native binary to compile.\n\n## Requirements\n\nYou need Node.js 20 or later.\n",
  );
  writeFileSync(
    join(dir, "docs", "sub", "storage.html"),
    "<html><head><title>Storage</title></head><body><h1>Crash safety</h1><p>Every write is appended to a write-ahead log and fsynced before it is acknowledged, so a power failure never loses acknowledged data.</p></body></html>",
  );
  writeFileSync(
    join(dir, "docs", "bread.txt"),
    "To bake bread, mix flour, water, salt and yeast, let the dough rise for two hours, then bake it in a hot oven.\n",
  );
  writeFileSync(join(dir, "docs", "ignored.png"), "not text");
  db = await open(join(dir, "db"), { embedders: { local } });
});

after(async () => {
  await db.close();
  await local.close();
  rmSync(dir, { recursive: true, force: true });
});

test("ingest a folder, ask questions, get the right chunk", async () => {
  const coll = await db.createCollection("docs", documentSchema("local", 512));
  const docs = await readDocuments([join(dir, "docs")]);
  assert.deepEqual(docs.map((d) => d.id).sort(), ["bread.txt", "install.md", "sub/storage.html"]);
  const report = await ingestDocuments(db, coll, docs);
  // One chunk per file: install.md's short "Requirements" end joins the chunk before it.
  assert.equal(report.chunks, 3);
  const cases: [string, string, RegExp][] = [
    ["Which Node.js version is required?", "install.md", /Node\.js 20/],
    ["Can I lose data if the power goes out?", "sub/storage.html", /write-ahead log/],
    ["how long should dough rise", "bread.txt", /two hours/],
  ];
  for (const [question, doc, text] of cases) {
    const { hits } = await coll.query({ vector: question, limit: 1 });
    assert.equal(hits[0].payload!.documentId, doc, question);
    assert.match(String(hits[0].payload!.text), text, question);
  }
  const grouped = await searchDocuments(coll, { vector: "installing with npm", limit: 2 });
  assert.equal(grouped[0].documentId, "install.md");
});

test("memories expire on time; near-duplicates merge", async () => {
  // A controlled clock: expiry is checked against it exactly, however loaded the machine is.
  let clock = Date.now();
  const mem = await MemoryStore.open(db, { purgeIntervalMs: 0, now: () => clock });
  const first = await mem.remember({ session: "chat-1", text: "My favourite colour is blue." });
  const second = await mem.remember({ session: "chat-1", text: "My favorite color is blue." });
  assert.equal(second.merged, true, `similarity ${second.similarity}`);
  assert.equal(second.id, first.id);
  const unrelated = await mem.remember({ session: "chat-1", text: "I am flying to Tokyo next week." });
  assert.equal(unrelated.merged, false);
  await mem.remember({ session: "chat-1", text: "The door code is 4321.", ttlMs: 60_000 });
  let hits = await mem.recall("what is the code for the door?", { session: "chat-1", limit: 1 });
  assert.equal(hits[0].text, "The door code is 4321.");
  clock += 59_000;
  hits = await mem.recall("what is the code for the door?", { session: "chat-1", limit: 1 });
  assert.equal(hits[0].text, "The door code is 4321.", "still alive 1 s before its expiry");
  clock += 1_001;
  hits = await mem.recall("what is the code for the door?", { session: "chat-1" });
  assert.ok(
    hits.every((h) => !h.text.includes("4321")),
    "expired",
  );
  assert.equal((await mem.purgeExpired()).deleted, 1);
  const colour = await mem.recall("which colour do I like?", { session: "chat-1", limit: 1 });
  assert.equal(colour[0].mentions, 2);
  assert.equal(colour[0].text, "My favorite color is blue.");
});

test("the local model on two worker threads: vectors in the order of the texts, errors after close", async () => {
  const pooled = localEmbedder({ threads: 2 });
  try {
    const texts = Array.from(
      { length: 40 },
      (_, i) => `sentence number ${i} about ${["tea", "bikes", "ships", "code"][i % 4]}`,
    );
    // 40 texts are three jobs of 16 at most, run on both threads; each vector must be its own text's.
    const [all, one, last] = await Promise.all([
      pooled.embed(texts),
      pooled.embed([texts[7]]),
      pooled.embed([texts[39]]),
    ]);
    assert.equal(all.length, 40);
    const near = (a: Float32Array, b: Float32Array) => a.every((x, i) => Math.abs(x - b[i]) < 1e-4);
    assert.ok(near(all[7], one[0]), "text 7 got its own vector");
    assert.ok(near(all[39], last[0]), "text 39 got its own vector");
    assert.ok(!near(all[7], all[8]), "neighbours differ");
  } finally {
    await pooled.close();
  }
  await assert.rejects(pooled.embed(["x"]), /closed/);
});
