/**
 * The `quiver` command line end to end: each test spawns the built bin against a fresh temp --db
 * and checks round trips (import, query, stats, export, re-import), error reports and the demo.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { seededRandom as rng } from "../../src/core/util/prng.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "quiver-cli-test-"));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

function tempDir(name: string): string {
  const d = join(root, `${name}-${dirs++}`);
  mkdirSync(d);
  return d;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function quiver(db: string, ...args: string[]): Run {
  const r = spawnSync(process.execPath, [MAIN, "--db", db, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Run): Run {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** Random vectors already rounded to float32, so stored and original values compare exactly. */
function vectors(n: number, dim: number, seed: number): number[][] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: dim }, () => Math.fround(r() * 2 - 1)));
}

function count(db: string, name: string): number {
  const stats = JSON.parse(ok(quiver(db, "stats", "--json")).stdout) as {
    collections: { name: string; count: number }[];
  };
  return stats.collections.find((c) => c.name === name)?.count ?? -1;
}

function writeJsonl(path: string, records: unknown[]): void {
  writeFileSync(path, `${records.map((r) => JSON.stringify(r)).join("\n")}\n`);
}

function l2(a: number[], b: number[]): number {
  return Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0));
}

test("import --jsonl then query: the record equal to the query is the top hit with score 0 (l2)", () => {
  const db = tempDir("db");
  const vs = vectors(60, 8, 1);
  const file = join(tempDir("in"), "records.jsonl");
  writeJsonl(
    file,
    vs.map((vector, i) => ({ id: `r${i}`, vector, payload: { n: i, tag: i % 2 ? "odd" : "even" } })),
  );
  const imp = ok(quiver(db, "import", "docs", "--jsonl", file, "--dim", "8", "--metric", "euclidean", "--batch", "7"));
  assert.match(imp.stdout, /imported 60 records in [\d.]+ s \([\d,]+ records\/s\)/);
  const q = JSON.parse(
    ok(quiver(db, "query", "docs", "--vector", JSON.stringify(vs[17]), "--limit", "3", "--json")).stdout,
  );
  assert.equal(q.hits.length, 3);
  assert.equal(q.hits[0].id, "r17");
  assert.ok(Math.abs(q.hits[0].score) < 1e-6, `score ${q.hits[0].score}`);
  assert.deepEqual(q.hits[0].payload, { n: 17, tag: "odd" });
  const second = Number(q.hits[1].id.slice(1));
  assert.ok(Math.abs(-l2(vs[second], vs[17]) - q.hits[1].score) < 1e-5, "second hit's score is its negated distance");
  // A filter excludes the exact match; the table mode prints the plan.
  const t = ok(quiver(db, "query", "docs", "--vector", JSON.stringify(vs[17]), "--filter", '{"tag":"even"}'));
  assert.doesNotMatch(t.stdout, /\br17\b/);
  assert.match(t.stdout, /plan: exact-filtered .* 30 candidates/);
  // The planner's estimate (60 records are counted whole) and its choice: one exact pass.
  assert.match(t.stdout, /filter: scan on an estimate of 30 \(30-30, from count\)/);
});

test("import --threads 2: the batches past the graph's threshold are built by both threads, and answer exactly", () => {
  const db = tempDir("db");
  const data = tempDir("data");
  const dim = 8;
  // 12,000 rows in batches of 2,000: the graph appears at 10,000 (ANN_MIN_RECORDS), the last batch is
  // a bulk write linked in parallel (test/database/parallel-build.test.ts checks that such a write is).
  const base = vectors(12_000, dim, 21);
  const queries = vectors(5, dim, 22);
  writeFileSync(join(data, "meta.json"), JSON.stringify({ dim, nBase: 12_000, nQuery: 5, metric: "euclidean", k: 1 }));
  writeFileSync(join(data, "base.f32"), Buffer.from(Float32Array.from(base.flat()).buffer));
  writeFileSync(join(data, "query.f32"), Buffer.from(Float32Array.from(queries.flat()).buffer));
  assert.match(
    ok(quiver(db, "import", "v", "--data", data, "--batch", "2000", "--threads", "2")).stdout,
    /imported 12,?000 records/,
  );
  const stats = JSON.parse(ok(quiver(db, "stats", "--json")).stdout);
  assert.equal(stats.collections[0].vectors[0].index, "hnsw");
  for (let row = 0; row < 5; row++) {
    const nearest = base.map((v, i) => ({ i, d: l2(v, queries[row]) })).sort((a, b) => a.d - b.d)[0];
    const q = JSON.parse(ok(quiver(db, "query", "v", "--data", data, "--row", String(row), "--json")).stdout);
    assert.equal(q.hits[0].id, String(nearest.i), `query row ${row}`);
  }
});

test("import --data of a dataset folder, stats, query --data --row, and a schema mismatch", () => {
  const db = tempDir("db");
  const data = tempDir("data");
  const dim = 8;
  const base = vectors(200, dim, 2);
  const queries = vectors(3, dim, 3);
  writeFileSync(join(data, "meta.json"), JSON.stringify({ dim, nBase: 200, nQuery: 3, metric: "euclidean", k: 1 }));
  writeFileSync(join(data, "base.f32"), Buffer.from(Float32Array.from(base.flat()).buffer));
  writeFileSync(join(data, "query.f32"), Buffer.from(Float32Array.from(queries.flat()).buffer));
  const imp = ok(quiver(db, "import", "bench", "--data", data, "--batch", "64"));
  assert.match(imp.stdout, /imported 200 records/);
  ok(quiver(db, "import", "half", "--data", data, "--limit", "50"));

  const stats = JSON.parse(ok(quiver(db, "stats", "--json")).stdout);
  const bench = stats.collections.find((c: { name: string }) => c.name === "bench");
  assert.equal(bench.count, 200);
  assert.deepEqual(bench.schema.vectors, { vector: { dim: 8, metric: "l2" } });
  assert.equal(count(db, "half"), 50);
  assert.match(ok(quiver(db, "stats")).stdout, /bench\s+200\b/);

  const nearest = base.map((v, i) => ({ i, d: l2(v, queries[1]) })).sort((a, b) => a.d - b.d)[0];
  const q = JSON.parse(ok(quiver(db, "query", "bench", "--data", data, "--row", "1", "--json")).stdout);
  assert.equal(q.hits[0].id, String(nearest.i));
  assert.ok(Math.abs(q.hits[0].score + nearest.d) < 1e-4);

  // Importing the same data again is an upsert of the same ids; into a collection of another dimension it is refused.
  ok(quiver(db, "import", "bench", "--data", data));
  assert.equal(count(db, "bench"), 200);
  const other = join(tempDir("in"), "one.jsonl");
  writeJsonl(other, [{ id: "x", vector: [1, 2, 3] }]);
  ok(quiver(db, "import", "small", "--jsonl", other, "--dim", "3", "--metric", "l2"));
  const bad = quiver(db, "import", "small", "--data", data);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /error \[DIMENSION_MISMATCH\]/);
  assert.match(bad.stderr, /at schema\.vectors\.vector\.dim: collection "small" has dim 3, the input has 8/);
});

test("export then import into another collection gives identical records", () => {
  const db = tempDir("db");
  const dir = tempDir("io");
  const vs = vectors(2500, 5, 4);
  const records = vs.map((vector, i) => ({
    id: `id-${i}`,
    vector,
    payload: i % 3 ? { i, s: 'é ✓ "q"', nested: { a: [1, null, true] } } : {},
  }));
  writeJsonl(join(dir, "in.jsonl"), records);
  ok(quiver(db, "import", "a", "--jsonl", join(dir, "in.jsonl"), "--dim", "5", "--metric", "dot"));
  const exp = ok(quiver(db, "export", "a", "--out", join(dir, "a.jsonl")));
  assert.match(exp.stdout, /exported 2,500 records/);
  ok(quiver(db, "import", "b", "--jsonl", join(dir, "a.jsonl"), "--dim", "5", "--metric", "dot"));
  const fromB = ok(quiver(db, "export", "b")).stdout;
  assert.equal(
    fromB,
    readFileSync(join(dir, "a.jsonl"), "utf8"),
    "re-imported collection exports byte for byte the same",
  );
  const lines = fromB
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, records.length);
  const byId = new Map(lines.map((r) => [r.id, r]));
  for (const r of records)
    assert.deepEqual(byId.get(r.id), { id: r.id, vectors: { vector: r.vector }, payload: r.payload }, r.id);
});

test("import --jsonl is all or nothing: every bad line (vector, duplicate id, JSON) reported, nothing written, no collection left", () => {
  const db = tempDir("db");
  const file = join(tempDir("in"), "bad.jsonl");
  const good = vectors(6, 4, 5);
  const lines = [
    JSON.stringify({ id: "a", vector: good[0] }),
    JSON.stringify({ id: "b", vector: good[1] }),
    JSON.stringify({ id: "c", vector: good[2] }),
    JSON.stringify({ id: "d", vector: [1, 2, 3] }),
    JSON.stringify({ id: "b", vector: good[4] }),
    "{not json",
    JSON.stringify({ id: "f", vector: good[5] }),
  ];
  writeFileSync(file, `${lines.join("\n")}\n`);
  // Batches of 2, so the bad lines fall in different batches of the check.
  const r = quiver(db, "import", "t", "--jsonl", file, "--batch", "2");
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /error \[DIMENSION_MISMATCH\]: 3 lines of .*bad\.jsonl are not valid records; nothing was imported/,
  );
  assert.match(r.stderr, /at bad\.jsonl:4 vector: expected 4 numbers, got 3/);
  assert.match(r.stderr, /at bad\.jsonl:5 id: "b" is also the id on line 2/);
  assert.match(r.stderr, /at bad\.jsonl:6: /);
  const stats = JSON.parse(ok(quiver(db, "stats", "--json")).stdout) as { collections: unknown[] };
  assert.deepEqual(stats.collections, [], "no empty collection left behind");

  // An existing collection receives nothing either.
  ok(quiver(db, "import", "t", "--jsonl", file, "--limit", "2"));
  assert.equal(quiver(db, "import", "t", "--jsonl", file).code, 1);
  assert.equal(count(db, "t"), 2);

  const s = ok(quiver(db, "import", "u", "--jsonl", file, "--skip-invalid", "--batch", "2"));
  assert.match(s.stderr, /skipped bad\.jsonl:4 vector: expected 4 numbers, got 3/);
  assert.match(s.stderr, /skipped bad\.jsonl:5 id: "b" is also the id on line 2/);
  assert.match(s.stderr, /skipped bad\.jsonl:6: /);
  assert.match(s.stderr, /creating collection "u" \(vector: dim 4 from line 1, cosine\)/);
  assert.equal(count(db, "u"), 4);
  const got = JSON.parse(
    ok(quiver(db, "query", "u", "--vector", JSON.stringify(good[1]), "--limit", "1", "--json")).stdout,
  );
  assert.equal(got.hits[0].id, "b", "the first b is kept, the duplicate skipped");

  writeFileSync(file, "{not json\n");
  const none = quiver(db, "import", "v", "--jsonl", file, "--skip-invalid");
  assert.equal(none.code, 1);
  assert.match(none.stderr, /has no valid record; collection "v" was not created/);
});

test("query on a missing collection exits 1 with NOT_FOUND; bad options exit 1 naming the option", () => {
  const db = tempDir("db");
  const jsonl = join(db, "..", `one-${dirs}.jsonl`);
  writeJsonl(jsonl, [{ id: "a", vector: [1, 2, 3] }]);
  ok(quiver(db, "import", "real", "--jsonl", jsonl, "--dim", "3", "--metric", "l2"));
  const r = quiver(db, "query", "ghost", "--vector", "[1,2,3]");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error \[NOT_FOUND\]: collection "ghost" does not exist/);
  assert.equal(r.stdout, "");
  const j = quiver(db, "query", "ghost", "--vector", "[1,2");
  assert.equal(j.code, 1);
  assert.match(j.stderr, /at --vector: is not valid JSON/);
  const both = quiver(db, "query", "ghost");
  assert.equal(both.code, 1);
  assert.match(both.stderr, /give exactly one of --text "question", --vector JSON or --data DIR --row N/);
});

test("demo loads the sample, answers (brute-force checks pass; the graph query is also checked with exact: true), and skips the load the second time", () => {
  const db = tempDir("db");
  const first = ok(quiver(db, "demo"));
  assert.match(first.stdout, /loaded 20,000 records/);
  assert.equal((first.stdout.match(/brute-force check: PASS/g) ?? []).length, 4, first.stdout);
  assert.doesNotMatch(first.stdout, /FAIL/);
  assert.match(first.stdout, /search check: PASSED/);
  // 20,000 records: the plain query runs on the HNSW graph, and the demo says how much it found.
  assert.match(first.stdout, /\(hnsw, 20,000 candidates\)/);
  assert.match(first.stdout, /graph search found \d+\/5 of the true top 5/);
  assert.match(first.stdout, /quiver stats --db/);
  const second = ok(quiver(db, "demo"));
  assert.match(second.stdout, /already loaded \(20,000 records\); skipping the load/);
  assert.match(second.stdout, /search check: PASSED/);
  assert.equal(count(db, "sample"), 20_000);
});

test("ingest then query --text: hybrid by default, one hit per document with where it is, --mode and --json", async (t) => {
  const { localModelAvailable } = await import("../../src/index.js");
  if (!(await localModelAvailable())) return t.skip("the local model is not installed");
  const db = tempDir("ask");
  const docs = tempDir("ask-docs");
  writeFileSync(
    join(docs, "proxy.md"),
    "# Networking\n\n## Proxies\n\nSet the registry proxy with npm config set proxy http://host:8080.\n",
  );
  writeFileSync(join(docs, "bread.md"), "# Bread\n\nMix flour, water, salt and yeast, then bake in a hot oven.\n");
  ok(quiver(db, "ingest", "kb", docs));
  const asked = JSON.parse(ok(quiver(db, "query", "kb", "--text", "how do I configure a proxy?", "--json")).stdout);
  assert.equal(asked.mode, "hybrid");
  assert.equal(asked.hits.length, 2, "one hit per document");
  assert.equal(asked.hits[0].documentId, "proxy.md");
  assert.deepEqual(asked.hits[0].headings, ["Networking", "Proxies"]);
  assert.equal(typeof asked.hits[0].start, "number");
  const text = JSON.parse(ok(quiver(db, "query", "kb", "--text", "proxy", "--mode", "text", "--json")).stdout);
  assert.equal(text.mode, "text");
  assert.deepEqual(
    text.hits.map((h: { documentId: string }) => h.documentId),
    ["proxy.md"],
    "BM25 matches only the document with the word",
  );
  const table = ok(quiver(db, "query", "kb", "--text", "baking bread", "--limit", "1")).stdout;
  assert.match(table, /bread\.md/);
  assert.match(table, /hybrid search/);
  const bad = quiver(db, "query", "kb", "--text", "x", "--mode", "fuzzy");
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--mode/);
});

test("ingest --min-size: short sections run on into the next by default, and stand alone with --min-size 0", async (t) => {
  const { localModelAvailable } = await import("../../src/index.js");
  if (!(await localModelAvailable())) return t.skip("the local model is not installed");
  const docs = tempDir("minsize-docs");
  const sections = ["Install", "Configure", "Run", "Stop"].map(
    (h) => `## ${h}\n\nHow to ${h.toLowerCase()} it, in one line.`,
  );
  writeFileSync(join(docs, "guide.md"), `# Guide\n\n${sections.join("\n\n")}\n`);
  const merged = JSON.parse(ok(quiver(tempDir("minsize-a"), "ingest", "kb", docs, "--json")).stdout);
  assert.equal(merged.chunks, 1, "every section is under the default 200 characters: one chunk");
  const apart = JSON.parse(ok(quiver(tempDir("minsize-b"), "ingest", "kb", docs, "--min-size", "0", "--json")).stdout);
  assert.equal(apart.chunks, 4, "one chunk per section");
  const bad = quiver(tempDir("minsize-c"), "ingest", "kb", docs, "--min-size", "-1");
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--min-size/);
});

test("ingest ids: two README.md from two roots are two documents; another file's id is refused before writing; skips summarised", async (t) => {
  const { localModelAvailable } = await import("../../src/index.js");
  if (!(await localModelAvailable())) return t.skip("the local model is not installed");
  const db = tempDir("ids");
  const top = tempDir("ids-src");
  for (const d of ["a", "b", "c", "a/node_modules/x", "a/.git", "a/old"]) mkdirSync(join(top, d), { recursive: true });
  writeFileSync(join(top, "a", "README.md"), "# A\n\nAlpha project readme about apples.\n");
  writeFileSync(join(top, "b", "README.md"), "# B\n\nBeta project readme about bananas.\n");
  writeFileSync(join(top, "c", "README.md"), "# C\n\nGamma project readme about cherries.\n");
  writeFileSync(join(top, "a", "node_modules", "x", "README.md"), "# X\n\ndependency\n");
  writeFileSync(join(top, "a", ".git", "notes.md"), "# git\n");
  writeFileSync(join(top, "a", "old", "legacy.md"), "# Legacy\n\nold text\n");
  writeFileSync(join(top, "a", "logo.png"), "png");
  const both = ok(quiver(db, "ingest", "kb", join(top, "a"), join(top, "b"), "--exclude", "old/**"));
  assert.match(
    both.stderr,
    /2 documents to ingest; skipped 4 entries: .*1 node_modules.*/,
    "node_modules, the dot folder, the excluded folder and the png are counted",
  );
  assert.match(both.stderr, /1 hidden \(dot\) entry/);
  assert.match(both.stderr, /1 matches --exclude/);
  assert.match(both.stderr, /1 unsupported type \(\.png\)/);
  const asked = JSON.parse(ok(quiver(db, "query", "kb", "--text", "readme", "--mode", "text", "--json")).stdout);
  assert.deepEqual(asked.hits.map((h: { documentId: string }) => h.documentId).sort(), ["a/README.md", "b/README.md"]);
  // c/README.md alone gets the id "README.md"; then b's file alone would reuse it for another file.
  ok(quiver(db, "ingest", "kb", join(top, "c", "README.md")));
  const before = count(db, "kb");
  const clash = quiver(db, "ingest", "kb", join(top, "b", "README.md"));
  assert.equal(clash.code, 1);
  assert.match(clash.stderr, /DUPLICATE_ID/);
  assert.match(clash.stderr, /document id "README\.md" already holds .*c\/README\.md/);
  assert.equal(count(db, "kb"), before, "nothing written");
  // Two roots with the same name in one run: an error before the database is touched.
  mkdirSync(join(top, "x", "docs"), { recursive: true });
  mkdirSync(join(top, "y", "docs"), { recursive: true });
  writeFileSync(join(top, "x", "docs", "guide.md"), "# X guide\n");
  writeFileSync(join(top, "y", "docs", "guide.md"), "# Y guide\n");
  const same = quiver(db, "ingest", "kb", join(top, "x", "docs"), join(top, "y", "docs"));
  assert.equal(same.code, 1);
  assert.match(same.stderr, /would have the same document id "docs\/guide\.md"/);
  assert.equal(count(db, "kb"), before);
});

test("ingest again: an unchanged folder embeds and writes nothing; removed files are reported, and deleted with --prune", async (t) => {
  const { localModelAvailable } = await import("../../src/index.js");
  if (!(await localModelAvailable())) return t.skip("the local model is not installed");
  const db = tempDir("again");
  const docs = tempDir("again-docs");
  writeFileSync(join(docs, "keep.md"), "# Keep\n\nThis file stays where it is and never changes.\n");
  writeFileSync(join(docs, "gone.md"), "# Gone\n\nThis file is deleted after the first ingest.\n");
  const first = JSON.parse(ok(quiver(db, "ingest", "kb", docs, "--json")).stdout);
  assert.equal(first.embedded, 2);
  const again = JSON.parse(ok(quiver(db, "ingest", "kb", docs, "--json")).stdout);
  assert.deepEqual([again.embedded, again.upserted, again.unchanged], [0, 0, 2]);
  rmSync(join(docs, "gone.md"));
  const reported = ok(quiver(db, "ingest", "kb", docs));
  assert.match(reported.stdout, /1 unchanged, 0 embedded, 0 written/);
  assert.match(reported.stdout, /1 stored documents' files are gone \(delete them with --prune\): .*gone\.md/);
  assert.equal(count(db, "kb"), 2, "reported, not deleted");
  const pruned = JSON.parse(ok(quiver(db, "ingest", "kb", docs, "--prune", "--json")).stdout);
  assert.deepEqual(
    pruned.removedFiles.map((d: { id: string }) => d.id),
    ["gone.md"],
  );
  assert.equal(pruned.pruned, 1);
  assert.equal(count(db, "kb"), 1);
});

test("read commands on a path without a database fail with 'no Quiver database at' and create nothing", () => {
  const empty = tempDir("not-a-db");
  writeFileSync(join(empty, "notes.txt"), "a folder of something else");
  for (const args of [["stats"], ["query", "docs", "--vector", "[1]"], ["export", "docs"]]) {
    for (const path of [empty, join(empty, "missing")]) {
      const r = quiver(path, ...args);
      assert.equal(r.code, 1, `${args[0]} on ${path}: ${r.stderr}`);
      assert.match(r.stderr, /no Quiver database at /);
    }
  }
  assert.deepEqual(readdirSync(empty), ["notes.txt"], "nothing created");
});

test("collections, create --schema and drop --yes: list with counts, a schema file's problems with paths, no drop without --yes", () => {
  const db = tempDir("db");
  const dir = tempDir("in");
  const schema = join(dir, "schema.json");
  writeFileSync(schema, JSON.stringify({ vectors: { v: { dim: 3, metric: "l2" } }, indexes: { lang: "keyword" } }));
  assert.match(
    ok(quiver(db, "create", "kb", "--schema", schema)).stdout,
    /created collection "kb" \(vectors: v\(3, l2\)\)/,
  );
  writeJsonl(join(dir, "r.jsonl"), [{ id: "x", vector: [1, 2, 3], payload: { lang: "en" } }]);
  ok(quiver(db, "import", "kb", "--jsonl", join(dir, "r.jsonl")));
  assert.match(ok(quiver(db, "collections")).stdout, /kb\s+1\s+v\(3, l2\)/);
  const listed = JSON.parse(ok(quiver(db, "collections", "--json")).stdout);
  assert.deepEqual(
    listed.collections.map((c: { name: string; count: number }) => [c.name, c.count]),
    [["kb", 1]],
  );

  writeFileSync(schema, JSON.stringify({ vectors: { v: { dim: 0, metric: "l2" } } }));
  const bad = quiver(db, "create", "other", "--schema", schema);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /at schema\.vectors\.v\.dim: /);

  const unconfirmed = spawnSync(process.execPath, [MAIN, "--db", db, "drop", "kb"], { encoding: "utf8", input: "" });
  assert.equal(unconfirmed.status, 1);
  assert.match(unconfirmed.stderr, /at --yes: dropping "kb" deletes its 1 records for good/);
  assert.equal(count(db, "kb"), 1);
  assert.match(ok(quiver(db, "drop", "kb", "--yes")).stdout, /dropped collection "kb" \(1 records\)/);
  assert.equal(count(db, "kb"), -1);
  assert.equal(quiver(db, "drop", "kb", "--yes").code, 1);
});

test("mcp takes --db like every command; its old --data still works with a deprecation warning", () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", input: "" });
  const viaDb = join(tempDir("mcp"), "db");
  const r = run("mcp", "--db", viaDb);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`serving ${viaDb.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&")} over stdio`));
  assert.doesNotMatch(r.stderr, /deprecated/);
  assert.ok(readdirSync(viaDb).includes("MANIFEST"));

  const viaData = join(tempDir("mcp"), "db");
  const d = run("mcp", "--data", viaData);
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stderr, /warning: --data is deprecated for mcp; use --db /);
  assert.ok(readdirSync(viaData).includes("MANIFEST"));

  const both = run("--db", viaDb, "mcp", "--data", viaData);
  assert.equal(both.status, 1);
  assert.match(both.stderr, /at --data: names another database than --db/);
});

test("the README's command-line examples run as written in an empty folder, and no doc points at data a user does not have", () => {
  const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = /```sh cli\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, "README has a ```sh cli block");
  const dir = tempDir("readme");
  const script = `quiver() { "${process.execPath}" "${MAIN}" "$@"; }\n${block[1].replaceAll("npx quiver ", "quiver ")}`;
  // A guard against a hang, not a speed check: each example is a process start, which on a loaded
  // 2-core machine took over 120 s for the whole block.
  const r = spawnSync("bash", ["-e", "-c", script], { cwd: dir, encoding: "utf8", timeout: 300_000 });
  assert.equal(r.status, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stdout, /1 {2}c {3}0\.99/, "the filtered query answers c first");
  assert.match(r.stdout, /dropped collection "notes"/);
  for (const doc of ["README.md", ...readdirSync(join(ROOT, "docs")).map((f) => join("docs", f))]) {
    if (!doc.endsWith(".md")) continue;
    const text = readFileSync(join(ROOT, doc), "utf8");
    for (const code of text.matchAll(/```sh[^\n]*\n([\s\S]*?)```/g))
      assert.doesNotMatch(code[1], /\.\.\/shared\//, `${doc} has an example on ../shared`);
  }
});
