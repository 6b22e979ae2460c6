/**
 * The Chroma-compatible API (src/compat/chroma/, src/server/chroma-routes.ts) driven by the real
 * `chromadb` client, with embeddings the test supplies. The same scenario runs against Quiver and
 * against Chroma's own local server (the npm package's `chroma run`, as the benchmarks start it),
 * and the answers are compared: ids, their order, distances (float tolerance), documents and
 * metadata, in each space (l2, ip, cosine). Keys, scopes and Chroma's error shape are checked on Quiver.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ChromaClient } from "chromadb";
import { seededRandom } from "../../src/core/util/prng.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../server/helpers.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const CLI = join(ROOT, "node_modules/chromadb/dist/cli.mjs");

let s: TestServer;
let chroma: ChildProcess;
let chromaPath: string;
let chromaPort: number;

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
    srv.on("error", rej);
  });
}

before(async () => {
  s = await startTestServer();
  // Chroma's local server comes with the pinned chromadb devDependency; without it this suite fails, never skips.
  assert.ok(existsSync(CLI), `Chroma's local server is missing (${CLI}): run npm ci`);
  chromaPath = mkdtempSync(join(tmpdir(), "quiver-chroma-compat-"));
  chromaPort = await freePort();
  chroma = spawn(process.execPath, [CLI, "run", "--path", chromaPath, "--port", String(chromaPort)], {
    stdio: "ignore",
  });
  for (let i = 0; ; i++) {
    assert.equal(chroma.exitCode, null, "chroma run exited");
    try {
      if ((await fetch(`http://127.0.0.1:${chromaPort}/api/v2/heartbeat`)).ok) break;
    } catch {
      // not up yet
    }
    assert.ok(i < 300, "chroma run did not come up within 30 s");
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  chroma?.kill("SIGKILL");
  rmSync(chromaPath, { recursive: true, force: true });
  await s.close();
});

function quiverClient(key: string | undefined): ChromaClient {
  const port = Number(new URL(s.url).port);
  return new ChromaClient({ host: "127.0.0.1", port, headers: key ? { "x-chroma-token": key } : {} });
}

function chromaClient(): ChromaClient {
  return new ChromaClient({ host: "127.0.0.1", port: chromaPort });
}

const DIM = 6;
const N = 60;
const COLORS = ["red", "green", "blue"];
const WORDS = ["arrow", "bow", "quiver", "target", "feather"];

function data(seed: number) {
  const random = seededRandom(seed);
  const vec = () => Array.from({ length: DIM }, () => Math.round((random() * 2 - 1) * 1000) / 1000);
  return {
    ids: Array.from({ length: N }, (_, i) => `doc-${String(i).padStart(3, "0")}`),
    embeddings: Array.from({ length: N }, vec),
    documents: Array.from({ length: N }, (_, i) => `the ${WORDS[i % 5]} and the ${WORDS[(i * 3) % 5]} number ${i}`),
    metadatas: Array.from({ length: N }, (_, i) => ({
      color: COLORS[i % 3],
      n: i,
      even: i % 2 === 0,
      ...(i % 7 === 0 ? {} : { rare: i % 4 }),
    })),
    queries: Array.from({ length: 3 }, vec),
  };
}

/** The scenario: every answer it gets, in order, for comparison between the two servers. */
async function scenario(client: ChromaClient, space: "l2" | "ip" | "cosine"): Promise<unknown[]> {
  const d = data(space.length);
  const name = `scenario-${space}`;
  const out: unknown[] = [];
  const c = await client.createCollection({ name, configuration: { hnsw: { space } }, embeddingFunction: null });
  await c.add({
    ids: d.ids.slice(0, 40),
    embeddings: d.embeddings.slice(0, 40),
    documents: d.documents.slice(0, 40),
    metadatas: d.metadatas.slice(0, 40),
  });
  await c.upsert({
    ids: d.ids.slice(30),
    embeddings: d.embeddings.slice(30),
    documents: d.documents.slice(30),
    metadatas: d.metadatas.slice(30),
  });
  out.push(await c.count());
  const include = ["distances", "documents", "metadatas"] as never;
  const queries: Record<string, unknown>[] = [
    {},
    { where: { color: "red" } },
    { where: { $and: [{ n: { $gte: 10 } }, { n: { $lt: 40 } }] } },
    { where: { $or: [{ color: "blue" }, { even: true }] } },
    { where: { rare: { $ne: 1 } } },
    { where: { color: { $nin: ["red", "green"] } } },
    { where: { rare: { $in: [0, 2] } } },
    { whereDocument: { $contains: "quiver" } },
    { whereDocument: { $not_contains: "arrow" }, where: { color: "green" } },
    { ids: ["doc-001", "doc-002", "doc-050", "doc-059"] },
  ];
  for (const q of queries) {
    const r = await c.query({ queryEmbeddings: d.queries, nResults: 7, include, ...q });
    out.push({ q, ids: r.ids, distances: r.distances, documents: r.documents, metadatas: r.metadatas });
  }
  const sorted = (r: { ids: string[]; documents: unknown[]; metadatas: unknown[] }) =>
    r.ids
      .map((id, i) => ({ id, document: r.documents[i], metadata: r.metadatas[i] }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  out.push(sorted(await c.get({ ids: ["doc-005", "doc-045", "nope"] })));
  out.push(sorted(await c.get({ where: { color: "blue" }, whereDocument: { $contains: "bow" } })));
  // Chroma returns get() in insertion order, Quiver in id order: equal here, the ids were added sorted.
  out.push((await c.get({ limit: 5, offset: 3 })).ids);
  // An add of an existing id, and an upsert that sends no documents: what each keeps of the old record.
  await c.add({
    ids: ["doc-000"],
    embeddings: [d.queries[2]],
    documents: ["added again"],
    metadatas: [{ again: true }],
  });
  await c.upsert({ ids: ["doc-001"], embeddings: [d.embeddings[1]], metadatas: [{ color: "upserted" }] });
  out.push(sorted(await c.get({ ids: ["doc-000", "doc-001"] })));
  await c.update({ ids: ["doc-003", "doc-004"], metadatas: [{ color: "violet", extra: 1 }, { rare: null }] });
  // The client embeds documents sent without embeddings, so a new document travels with one.
  await c.update({ ids: ["doc-006"], documents: ["a rewritten document"], embeddings: [d.queries[1]] });
  out.push(sorted(await c.get({ ids: ["doc-003", "doc-004", "doc-006"] })));
  await c.delete({ ids: ["doc-010", "doc-011"] });
  await c.delete({ where: { color: "green" } });
  await c.delete({ whereDocument: { $contains: "feather" } });
  out.push(await c.count());
  const last = await c.query({ queryEmbeddings: d.queries.slice(0, 1), nResults: 10, include });
  out.push({ ids: last.ids, distances: last.distances });
  out.push((await client.getCollection({ name, embeddingFunction: undefined })).name);
  await client.deleteCollection({ name });
  return out;
}

/** Deep equality where numbers need only agree to `tol` (relative to their size). */
function close(a: unknown, b: unknown, path = "$"): void {
  if (typeof a === "number" && typeof b === "number") {
    assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `${path}: ${a} vs ${b}`);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    assert.equal(a.length, b.length, `${path}: length`);
    a.forEach((x, i) => {
      close(x, b[i], `${path}[${i}]`);
    });
    return;
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), `${path}: keys`);
    for (const k of Object.keys(a))
      close((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    return;
  }
  assert.deepEqual(a, b, path);
}

for (const space of ["l2", "ip", "cosine"] as const) {
  test(`the same scenario gives Chroma's answers on Quiver (space ${space})`, async () => {
    const fromChroma = await scenario(chromaClient(), space);
    const fromQuiver = await scenario(quiverClient(ADMIN_KEY), space);
    close(fromQuiver, fromChroma);
  });
}

test("keys: x-chroma-token and Bearer, a read key refused on writes, no key 401, identity; errors in Chroma's shape", async () => {
  const read = (
    await s.call("POST", "/v1/keys", { key: ADMIN_KEY, body: { name: "chroma-read", scope: "read", prefix: "" } })
  ).json.key as string;
  const admin = quiverClient(ADMIN_KEY);
  const c = await admin.getOrCreateCollection({ name: "keyed", embeddingFunction: null });
  await c.add({ ids: ["a"], embeddings: [[1, 2, 3]] });
  const reader = quiverClient(read);
  const rc = await reader.getCollection({ name: "keyed", embeddingFunction: undefined });
  assert.equal(await rc.count(), 1);
  await assert.rejects(rc.add({ ids: ["b"], embeddings: [[1, 2, 3]] }), { name: "ChromaForbiddenError" });
  await assert.rejects(quiverClient(undefined).listCollections(), { name: "ChromaAuthError" });
  const identity = await s.call("GET", "/api/v2/auth/identity", { key: read });
  assert.equal(identity.status, 200);
  assert.equal(identity.json.tenant, "default_tenant");
  const missing = await s.call("GET", "/api/v2/tenants/default_tenant/databases/default_database/collections/nope", {
    key: read,
  });
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error, "NotFoundError");
  assert.match(missing.json.message, /nope/);
  const bad = await s.call(
    "POST",
    `/api/v2/tenants/default_tenant/databases/default_database/collections/keyed/query`,
    {
      key: read,
      body: { query_embeddings: [[1, 2]], n_results: 1 },
    },
  );
  assert.equal(bad.status, 400);
  assert.equal(typeof bad.json.message, "string");
  const regex = await s.call(
    "POST",
    `/api/v2/tenants/default_tenant/databases/default_database/collections/keyed/get`,
    {
      key: read,
      body: { where_document: { $regex: "a.*" } },
    },
  );
  assert.equal(regex.status, 501);
  assert.match(regex.json.message, /\$regex/);
  const afterAdd = await admin.getCollection({ name: "keyed", embeddingFunction: undefined });
  assert.equal(afterAdd.id, c.id, "a collection keeps its id after the first add fixes its dimension");
});
