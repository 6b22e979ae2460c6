/**
 * The text-image embedder (CLIP on transformers.js) wired end to end on a tiny CLIP-shaped model
 * written at test time (test/support/tiny-clip.ts; no real weights exist here): texts and images in
 * one space, refusals of a missing or incomplete model folder, the dimension check of an ingest, and
 * `quiver ingest` / `query --text` / `query --image` through it.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { open, type QuiverError } from "../../src/index.js";
import type { RgbaImage } from "../../src/embed/image.js";
import { encodeJpeg, encodePng } from "../../src/embed/node/image-codec.js";
import { imageSchema, ingestImages } from "../../src/embed/node/image-ingest.js";
import { transformersImageEmbedder, type TransformersImageEmbedder } from "../../src/embed/node/image-transformers.js";
import { TINY_CLIP_DIM, writeTinyClip } from "../support/tiny-clip.js";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "main.js");
const run = promisify(execFile);

let dir: string;
let modelPath: string;
let clip: TransformersImageEmbedder;

/** A picture mostly of one colour, with a grey stripe so no two are identical. */
function picture(rgb: number[], stripe: number, width = 48, height = 40): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      data.set(x >= stripe && x < stripe + 4 ? [128, 128, 128, 255] : [...rgb, 255], (y * width + x) * 4);
  return { width, height, data };
}
const RED = [220, 40, 40];
const GREEN = [40, 200, 60];
const BLUE = [40, 60, 220];

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

before(() => {
  dir = mkdtempSync(join(tmpdir(), "quiver-clip-"));
  modelPath = writeTinyClip(join(dir, "tiny-clip"));
  clip = transformersImageEmbedder({ modelPath });
});

after(async () => {
  await clip.close();
  rmSync(dir, { recursive: true, force: true });
});

test("texts and images land in one space: each colour word is nearest its colour's pictures", async () => {
  assert.equal(clip.dim, TINY_CLIP_DIM);
  assert.equal(clip.id, "transformers.js:clip:tiny-clip");
  const images = await clip.embedImages([
    picture(RED, 2),
    encodePng(picture(GREEN, 10)),
    encodeJpeg(picture(BLUE, 20), 90),
  ]);
  const texts = await clip.embedTexts(["a photo of a red car", "GREEN", "blue car"]);
  for (const v of [...images, ...texts]) {
    assert.equal(v.length, TINY_CLIP_DIM);
    assert.ok(Math.abs(dot(v, v) - 1) < 1e-5, "normalised");
  }
  texts.forEach((t, i) => {
    const scores = images.map((im) => dot(t, im));
    assert.equal(scores.indexOf(Math.max(...scores)), i, `text ${i} finds image ${i} (${scores})`);
  });
  assert.deepEqual(await clip.embed(["blue car"]), [texts[2]], "embed is embedTexts (a text Embedder for queries)");
});

test("a SigLIP export (pooled outputs, texts padded to the full length) embeds texts and images alike", async () => {
  const siglip = transformersImageEmbedder({
    modelPath: writeTinyClip(join(dir, "tiny-siglip"), { architecture: "siglip" }),
  });
  try {
    assert.equal(siglip.id, "transformers.js:siglip:tiny-siglip");
    assert.equal(siglip.dim, TINY_CLIP_DIM);
    const images = await siglip.embedImages([picture(RED, 2), picture(BLUE, 20)]);
    const [blue] = await siglip.embedTexts(["a blue car"]);
    assert.ok(dot(blue, images[1]) > dot(blue, images[0]), "the blue picture is nearer to 'a blue car'");
  } finally {
    await siglip.close();
  }
});

test("a missing or incomplete model folder is refused at once, naming every missing file", () => {
  assert.throws(
    () => transformersImageEmbedder({ modelPath: join(dir, "nowhere") }),
    (e: QuiverError) => e.code === "NOT_FOUND" && /no model folder/.test(e.problems[0].message),
  );
  const partial = writeTinyClip(join(dir, "partial"), { omit: ["tokenizer.json", "onnx/vision_model.onnx"] });
  assert.throws(
    () => transformersImageEmbedder({ modelPath: partial }),
    (e: QuiverError) =>
      e.code === "INVALID_ARGUMENT" &&
      JSON.stringify(e.problems.map((p) => p.path)) ===
        JSON.stringify(["modelPath/tokenizer.json", "modelPath/onnx/vision_model.onnx"]),
  );
  assert.throws(
    () => transformersImageEmbedder({ modelPath, dtype: "q8" }),
    (e: QuiverError) => e.problems.some((p) => p.path === "modelPath/onnx/text_model_quantized.onnx"),
    "q8 reads the quantized files, which this folder lacks",
  );
  const bert = writeTinyClip(join(dir, "bert"));
  writeFileSync(join(bert, "config.json"), JSON.stringify({ model_type: "bert", projection_dim: 4 }));
  assert.throws(
    () => transformersImageEmbedder({ modelPath: bert }),
    (e: QuiverError) =>
      e.problems[0].path === "modelPath/config.json/model_type" && /"bert"/.test(e.problems[0].message),
  );
});

test("an ingest refuses an embedder whose width differs from the collection's, before embedding anything", async () => {
  const db = await open();
  try {
    const coll = await db.createCollection("photos", imageSchema(320));
    const folder = join(dir, "one");
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "red.png"), encodePng(picture(RED, 0)));
    await assert.rejects(
      ingestImages(coll, [folder], { embedder: clip }),
      (e: QuiverError) => e.code === "DIMENSION_MISMATCH" && e.problems[0].path === "embedder",
    );
    assert.equal(await coll.count(), 0);
  } finally {
    await db.close();
  }
});

test("quiver ingest --image-embedder clip, then query --text finds pictures by words and --image by a copy", async () => {
  const pics = join(dir, "pics");
  for (const c of ["red", "green", "blue"]) mkdirSync(join(pics, c), { recursive: true });
  writeFileSync(join(pics, "red", "a.jpg"), encodeJpeg(picture(RED, 4), 90));
  writeFileSync(join(pics, "red", "b.png"), encodePng(picture(RED, 30)));
  writeFileSync(join(pics, "green", "c.png"), encodePng(picture(GREEN, 8)));
  writeFileSync(join(pics, "blue", "d.jpg"), encodeJpeg(picture(BLUE, 12), 90));
  writeFileSync(join(pics, "blue", "e.png"), encodePng(picture(BLUE, 40)));
  const query = join(dir, "query.jpg");
  writeFileSync(query, encodeJpeg(picture(GREEN, 20, 64, 64), 70));
  const env = { ...process.env, QUIVER_CLIP_MODEL: modelPath };
  const cli = async (...args: string[]) =>
    (await run(process.execPath, [MAIN, "--db", join(dir, "db"), ...args], { env })).stdout;
  const ingested = JSON.parse(await cli("ingest", "photos", pics, "--image-embedder", "clip", "--json"));
  assert.deepEqual([ingested.images, ingested.embedded], [5, 5]);
  const byText = JSON.parse(await cli("query", "photos", "--text", "a red car", "--json", "--limit", "2"));
  assert.equal(byText.embedder, "transformers.js:clip:tiny-clip");
  assert.deepEqual(byText.hits.map((h: { documentId: string }) => h.documentId).sort(), ["red/a.jpg", "red/b.png"]);
  const byImage = JSON.parse(await cli("query", "photos", "--image", query, "--json", "--limit", "1"));
  assert.equal(byImage.hits[0].documentId, "green/c.png");
  const again = JSON.parse(await cli("ingest", "photos", pics, "--json"));
  assert.deepEqual([again.unchanged, again.embedded], [5, 0], "the collection keeps its CLIP model");
  await assert.rejects(
    run(process.execPath, [MAIN, "--db", join(dir, "db"), "query", "photos", "--text", "red"], {
      env: { ...process.env, QUIVER_CLIP_MODEL: "" },
    }),
    (e: { stderr: string }) => /transformers\.js:clip:tiny-clip, which is not configured here/.test(e.stderr),
    "without the model configured, a text query says which model it needs",
  );
});
