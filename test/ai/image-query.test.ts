/**
 * Queries of image collections by words and by a picture wherever a query comes from: the embedded
 * API, HTTP (the client, and the raw JSON shape `vector: { image: { base64 } }`), the MCP search tool,
 * and `quiver serve` started with QUIVER_CLIP_MODEL. The text-image model is the tiny CLIP-shaped one
 * written at test time (test/support/tiny-clip.ts); the refusals: words on an image-to-image-only
 * model, a collection whose model the database was not opened with, a picture on a collection that
 * is not an image collection, bad base64, and an empty image collection.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { connect, type QuiverClient } from "../../src/client/index.js";
import { l2Normalize, resizeRgba, type ImageEmbedder, type RgbaImage } from "../../src/embed/image.js";
import { encodeJpeg, encodePng, toRgba } from "../../src/embed/node/image-codec.js";
import { imageSchema, ingestImages } from "../../src/embed/node/image-ingest.js";
import { transformersImageEmbedder, type TransformersImageEmbedder } from "../../src/embed/node/image-transformers.js";
import { open, MemoryDirectory, type OpenDatabase, QuiverError } from "../../src/index.js";
import { QuiverTools } from "../../src/mcp/tools.js";
import { startQuiverServer, type QuiverApp } from "../../src/server/index.js";
import { startServe } from "../support/runtimes.js";
import { TINY_CLIP_DIM, writeTinyClip } from "../support/tiny-clip.js";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "main.js");
const KEY = "qk_image_query_admin_key_0123456789";
const run = promisify(execFile);

let dir: string;
let pics: string;
let modelPath: string;
let clip: TransformersImageEmbedder;
let db: OpenDatabase;
let app: QuiverApp;
let client: QuiverClient;

/** A picture mostly of one colour, with a grey stripe so no two are identical. */
function picture(rgb: number[], stripe: number, size = 48): RgbaImage {
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      data.set(x >= stripe && x < stripe + 4 ? [128, 128, 128, 255] : [...rgb, 255], (y * size + x) * 4);
  return { width: size, height: size, data };
}
const RED = [220, 40, 40];
const GREEN = [40, 200, 60];
const BLUE = [40, 60, 220];

/** An image-to-image model (no text side), like the offline MobileNet embedder: the mean colour. */
function meanColour(id: string): ImageEmbedder {
  return {
    id,
    dim: 3,
    embedImages: (images) =>
      Promise.all(
        images.map(async (im, i) => {
          const px = resizeRgba(await toRgba(im, `images[${i}]`), 1, 1).data;
          return l2Normalize(Float32Array.from([px[0] + 1, px[1] + 1, px[2] + 1]));
        }),
      ),
  };
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const GREEN_COPY = encodeJpeg(picture(GREEN, 20, 64), 70);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "quiver-image-query-"));
  modelPath = writeTinyClip(join(dir, "tiny-clip"));
  clip = transformersImageEmbedder({ modelPath });
  pics = join(dir, "pics");
  for (const c of ["red", "green", "blue"]) mkdirSync(join(pics, c), { recursive: true });
  writeFileSync(join(pics, "red", "a.jpg"), encodeJpeg(picture(RED, 4), 90));
  writeFileSync(join(pics, "red", "b.png"), encodePng(picture(RED, 30)));
  writeFileSync(join(pics, "green", "c.png"), encodePng(picture(GREEN, 8)));
  writeFileSync(join(pics, "blue", "d.jpg"), encodeJpeg(picture(BLUE, 12), 90));
  writeFileSync(join(pics, "blue", "e.png"), encodePng(picture(BLUE, 40)));
  // Opened with the CLIP model and an image-only one; "orphans" is made by a model it lacks.
  db = await open(undefined, { imageEmbedders: { clip, colour: meanColour("test:mean-colour") } });
  await ingestImages(await db.createCollection("photos", imageSchema(TINY_CLIP_DIM)), [pics], { embedder: clip });
  await ingestImages(await db.createCollection("colours", imageSchema(3)), [pics], {
    embedder: meanColour("test:mean-colour"),
  });
  await ingestImages(await db.createCollection("orphans", imageSchema(3)), [pics], {
    embedder: meanColour("test:elsewhere"),
  });
  await db.createCollection("empty", imageSchema(3));
  const docs = await db.createCollection("docs", { vectors: { v: { dim: 3, metric: "cosine" } } });
  await docs.upsert([{ id: "x", vector: [1, 0, 0] }]);
  app = (await startQuiverServer({ db, dir: new MemoryDirectory(), adminKey: KEY })).app;
  client = connect("http://quiver.test", { apiKey: KEY, fetch: (i, init) => app.fetch(new Request(i, init)) });
});

after(async () => {
  await db?.close();
  await clip?.close();
  rmSync(dir, { recursive: true, force: true });
});

const ids = (hits: { payload?: Record<string, unknown> | null }[]) =>
  hits.map((h) => h.payload?.documentId as string).sort();

test("over HTTP (the client): words find pictures through the CLIP model, a picture in base64 finds its copy", async () => {
  const photos = await client.collection("photos");
  const byWords = await photos.query({ vector: { image: "a red car" }, limit: 2 });
  assert.deepEqual(ids(byWords.hits), ["red/a.jpg", "red/b.png"]);
  // The one vector may be named or not, as for any text query.
  assert.deepEqual(ids((await photos.query({ vector: "blue car", limit: 2 })).hits), ["blue/d.jpg", "blue/e.png"]);
  const byPicture = await photos.query({ vector: { image: { base64: base64(GREEN_COPY) } }, limit: 1 });
  assert.deepEqual(ids(byPicture.hits), ["green/c.png"]);
  // The wire shape, as JSON; a data: URL is taken as well, and a filter applies as usual.
  const res = await app.fetch(
    new Request("http://quiver.test/v1/collections/photos/query", {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({
        vector: { image: { base64: `data:image/jpeg;base64,${base64(GREEN_COPY)}` } },
        filter: { documentId: { $ne: "green/c.png" } },
        limit: 1,
      }),
    }),
  );
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as { hits: { payload: Record<string, unknown> }[] };
  assert.equal(body.hits.length, 1);
  assert.notEqual(body.hits[0].payload.documentId, "green/c.png");
  // The image-only model answers pictures too.
  const colours = await client.collection("colours");
  const nearest = await colours.query({ vector: { image: { base64: base64(GREEN_COPY) } }, limit: 1 });
  assert.deepEqual(ids(nearest.hits), ["green/c.png"]);
});

test("refusals over HTTP: words on an image-only model, a model not bound, a picture elsewhere, bad base64, no images", async () => {
  const refused = async (collection: string, vector: unknown, code: string, pattern: RegExp, path?: string) => {
    const coll = await client.collection(collection);
    await assert.rejects(coll.query({ vector: vector as never, limit: 1 }), (e: QuiverError) => {
      assert.ok(e instanceof QuiverError, String(e));
      assert.equal(e.code, code, e.message);
      assert.match(e.message + JSON.stringify(e.problems), pattern);
      if (path) assert.equal(e.problems[0]?.path, path);
      return true;
    });
  };
  await refused(
    "colours",
    { image: "a red car" },
    "INVALID_ARGUMENT",
    /test:mean-colour embeds images only \(image-to-image\)/,
    "vector.image",
  );
  await refused(
    "orphans",
    { image: { base64: base64(GREEN_COPY) } },
    "INVALID_ARGUMENT",
    /test:elsewhere, an image embedder this database was not opened with/,
    "vector.image",
  );
  await refused(
    "docs",
    { v: { base64: base64(GREEN_COPY) } },
    "INVALID_ARGUMENT",
    /only an image collection searches/,
    "vector",
  );
  await refused(
    "photos",
    { image: { base64: "%%% not base64 %%%" } },
    "INVALID_ARGUMENT",
    /not valid base64/,
    "vector.image.base64",
  );
  await refused(
    "photos",
    { image: { base64: base64(new Uint8Array([1, 2, 3])) } },
    "INVALID_ARGUMENT",
    /not an image Quiver can read/,
    "vector.image.base64",
  );
  await refused("empty", { image: "red" }, "NOT_FOUND", /holds no images yet/);
  // A stray field beside base64 makes it no picture: refused by validation, at its path, not embedded.
  await refused("photos", { image: { base64: "", extra: 1 } }, "INVALID_ARGUMENT", /"path":"vector\.image/);
});

test("MCP search: words and a picture on an image collection; a picture elsewhere is refused", async () => {
  const tools = new QuiverTools(db);
  const call = async (args: Record<string, unknown>) => {
    const r = await tools.call("search", args);
    assert.ok(!r.isError, JSON.stringify(r.content));
    return r.structuredContent as { mode: string; hits: { payload: Record<string, unknown> }[] };
  };
  const byWords = await call({ collection: "photos", query: "a red car", limit: 2 });
  assert.equal(byWords.mode, "text-to-image");
  assert.deepEqual(ids(byWords.hits), ["red/a.jpg", "red/b.png"]);
  const byPicture = await call({ collection: "photos", image: base64(GREEN_COPY), limit: 1 });
  assert.equal(byPicture.mode, "image");
  assert.deepEqual(ids(byPicture.hits), ["green/c.png"]);
  const wordsOnImageOnly = await tools.call("search", { collection: "colours", query: "red" });
  assert.ok(wordsOnImageOnly.isError);
  assert.match(JSON.stringify(wordsOnImageOnly.content), /INVALID_ARGUMENT: .*embeds images only/);
  const elsewhere = await tools.call("search", { collection: "docs", image: base64(GREEN_COPY) });
  assert.ok(elsewhere.isError);
  assert.match(JSON.stringify(elsewhere.content), /not an image collection/);
});

test("quiver serve with QUIVER_CLIP_MODEL answers a query by words and by a picture over HTTP", async () => {
  const data = join(dir, "served");
  const env = { ...process.env, QUIVER_CLIP_MODEL: modelPath };
  await run(process.execPath, [MAIN, "--db", data, "ingest", "photos", pics, "--image-embedder", "clip", "--json"], {
    env,
  });
  const saved = process.env.QUIVER_CLIP_MODEL;
  process.env.QUIVER_CLIP_MODEL = modelPath;
  const server = await startServe("node", data).finally(() => {
    if (saved === undefined) delete process.env.QUIVER_CLIP_MODEL;
    else process.env.QUIVER_CLIP_MODEL = saved;
  });
  try {
    const key = /admin key \(shown once[^\n]*\n\s+(qk_\S+)/.exec(server.stdout())?.[1];
    assert.ok(key, server.stdout());
    const photos = await connect(server.url, { apiKey: key }).collection("photos");
    assert.deepEqual(ids((await photos.query({ vector: { image: "a green car" }, limit: 1 })).hits), ["green/c.png"]);
    const byPicture = await photos.query({
      vector: { image: { base64: base64(encodeJpeg(picture(BLUE, 2, 64), 80)) } },
      limit: 2,
    });
    assert.deepEqual(ids(byPicture.hits), ["blue/d.jpg", "blue/e.png"]);
  } finally {
    const stopped = await server.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
  }
});
