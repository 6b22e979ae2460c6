/**
 * Images without the model: pure-JS decoding and its refusals, resizing and thumbnails, the HTTP
 * multimodal provider against a fake server on loopback, image ingest (payload, resume, changed and
 * unreadable files, a collection's embedder kept), `quiver ingest` / `query --image` / `query --text`
 * / `doctor` end to end through that provider, all on small generated scenes.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { open, QuiverError } from "../../src/index.js";
import { EmbedderError } from "../../src/embed/embedder.js";
import {
  l2Normalize,
  resizeRgba,
  sniffImageFormat,
  type ImageEmbedder,
  type RgbaImage,
} from "../../src/embed/image.js";
import { httpImageEmbedder } from "../../src/embed/image-http.js";
import { encode as encodePngFile } from "fast-png";
import { decodeImage, encodeJpeg, encodePng, toRgba, thumbnailDataUrl } from "../../src/embed/node/image-codec.js";
import { imageSchema, ingestImages } from "../../src/embed/node/image-ingest.js";
import { drawScene, SCENE_CLASSES, transformScene } from "../../bench/image-scenes.js";
import { encodeWebp } from "../support/webp-encode.js";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "main.js");
const run = promisify(execFile);

/** A stand-in model: the image's 8 x 8 RGB grid, centred and normalised (copies stay close, classes differ). */
function gridVector(img: RgbaImage): Float32Array {
  const px = resizeRgba(img, 8, 8).data;
  const v = new Float32Array(192);
  for (let i = 0; i < 64; i++) for (let c = 0; c < 3; c++) v[i * 3 + c] = px[i * 4 + c] / 255 - 0.3;
  return l2Normalize(v);
}

const gridEmbedder: ImageEmbedder = {
  id: "test:grid",
  dim: 192,
  maxBatch: 2,
  embedImages: (images) => Promise.all(images.map(async (im, i) => gridVector(await toRgba(im, `images[${i}]`)))),
};

const solid = (rgb: number[], size = 16): RgbaImage => {
  const data = new Uint8Array(size * size * 4);
  for (let i = 0; i < size * size; i++) data.set([...rgb, 255], i * 4);
  return { width: size, height: size, data };
};

let server: Server;
let baseURL: string;
const requests: { input: { image?: string; text?: string }[]; auth?: string }[] = [];
let failNext = 0;

before(async () => {
  // A multimodal API: images embedded by the grid, a colour word by its solid colour's grid.
  const colours: Record<string, number[]> = { red: [220, 40, 40], blue: [40, 70, 220] };
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      if (failNext > 0) {
        failNext--;
        res.writeHead(503, { "content-type": "application/json" }).end('{"error":{"message":"overloaded"}}');
        return;
      }
      answer(body, req.headers.authorization, res).catch((e) =>
        res.writeHead(500).end(JSON.stringify({ error: { message: String(e) } })),
      );
    });
  });
  const answer = async (body: string, auth: string | undefined, res: import("node:http").ServerResponse) => {
    const { input } = JSON.parse(body) as { input: { image?: string; text?: string }[] };
    requests.push({ input, auth });
    const data = await Promise.all(
      input.map(async (x, index) => {
        const img = x.image
          ? await decodeImage(new Uint8Array(Buffer.from(x.image.slice(x.image.indexOf(",") + 1), "base64")))
          : solid(colours[x.text ?? ""] ?? [0, 0, 0], 64);
        // Unnormalised on purpose: the provider normalises. Reversed order: it sorts by index.
        return { index, embedding: Array.from(gridVector(img), (v) => v * 3) };
      }),
    );
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ data: data.reverse() }));
  };
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  baseURL = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}/v1`;
});

after(() => server.close());

test("JPEG and PNG decode to RGBA; GIF, junk and mismatched RGBA are refused with their path", async () => {
  const img = drawScene(SCENE_CLASSES[0], 0, 32);
  const png = encodePng(img);
  assert.equal(sniffImageFormat(png), "png");
  assert.deepEqual((await decodeImage(png)).data, img.data, "PNG is lossless");
  const jpg = encodeJpeg(img, 90);
  assert.equal(sniffImageFormat(jpg), "jpeg");
  const back = await decodeImage(jpg);
  assert.deepEqual([back.width, back.height], [32, 32]);
  const err = async (f: () => Promise<unknown>) => {
    try {
      await f();
    } catch (e) {
      assert.ok(e instanceof QuiverError);
      return e;
    }
    assert.fail("expected a QuiverError");
  };
  const gif = new Uint8Array([...Buffer.from("GIF89a"), 1, 0, 1, 0]);
  const g = await err(() => decodeImage(gif, "a.gif"));
  assert.equal(g.code, "INVALID_ARGUMENT");
  assert.match(g.problems[0].message, /GIF is recognised but not decoded/);
  assert.equal(g.problems[0].path, "a.gif");
  assert.match((await err(() => decodeImage(new Uint8Array([1, 2, 3]), "x"))).problems[0].message, /not an image/);
  assert.match((await err(() => decodeImage(jpg.subarray(0, 40), "cut.jpg"))).problems[0].message, /cannot decode/);
  const bad = await err(() => toRgba({ width: 4, height: 4, data: new Uint8Array(10) }, "images[3]"));
  assert.equal(bad.problems[0].path, "images[3]");
});

test("PNG colour types decode to the same RGBA: grey, grey + alpha, 16-bit, palette with alpha, 1-bit grey", async () => {
  // 3 x 2 pixels written in each of PNG's layouts by fast-png's encoder, each against the RGBA it must give.
  const grey = [0, 128, 255, 64, 32, 200];
  const rgba = (rows: number[][]) => new Uint8Array(rows.flat());
  const cases: { name: string; png: Parameters<typeof encodePngFile>[0]; want: Uint8Array }[] = [
    {
      name: "8-bit grey",
      png: { width: 3, height: 2, channels: 1, depth: 8, data: new Uint8Array(grey) },
      want: rgba(grey.map((g) => [g, g, g, 255])),
    },
    {
      name: "grey + alpha",
      png: { width: 3, height: 2, channels: 2, depth: 8, data: new Uint8Array(grey.flatMap((g) => [g, 255 - g])) },
      want: rgba(grey.map((g) => [g, g, g, 255 - g])),
    },
    {
      name: "16-bit RGB",
      png: {
        width: 3,
        height: 2,
        channels: 3,
        depth: 16,
        data: new Uint16Array(grey.flatMap((g) => [g * 257, 0, 65535 - g * 257])),
      },
      want: rgba(grey.map((g) => [g, 0, 255 - g, 255])),
    },
    {
      name: "palette with alpha",
      png: {
        width: 3,
        height: 2,
        channels: 1,
        depth: 8,
        // The translucent entry first: fast-png's encoder writes only the alphas below 255 into tRNS.
        palette: [
          [0, 0, 255, 100],
          [255, 0, 0, 255],
        ],
        data: new Uint8Array([0, 1, 1, 0, 0, 1]),
      },
      want: rgba([0, 1, 1, 0, 0, 1].map((i) => (i ? [255, 0, 0, 255] : [0, 0, 255, 100]))),
    },
    {
      name: "1-bit grey",
      // Each row starts on a byte: 101 then 010, from the high bit.
      png: { width: 3, height: 2, channels: 1, depth: 1, data: new Uint8Array([0b10100000, 0b01000000]) },
      want: rgba([1, 0, 1, 0, 1, 0].map((b) => [b * 255, b * 255, b * 255, 255])),
    },
  ];
  for (const c of cases) {
    const img = await decodeImage(encodePngFile(c.png), c.name);
    assert.deepEqual([img.width, img.height], [3, 2], c.name);
    assert.deepEqual(Array.from(img.data), Array.from(c.want), c.name);
  }
  // A header claiming 20000 x 20000 is refused before anything is inflated.
  const huge = encodePng({ width: 1, height: 1, data: new Uint8Array(4) });
  new DataView(huge.buffer, huge.byteOffset).setUint32(16, 20000);
  new DataView(huge.buffer, huge.byteOffset).setUint32(20, 20000);
  await assert.rejects(decodeImage(huge, "big.png"), (e: QuiverError) => {
    assert.equal(e.code, "INVALID_ARGUMENT");
    assert.match(e.problems[0].message, /20000 x 20000 exceeds 100 megapixels/);
    return e.problems[0].path === "big.png";
  });
});

test("resizing averages when shrinking; the thumbnail is a JPEG within 64 px keeping the aspect ratio", async () => {
  // A fine checkerboard shrunk 8x is grey, not one of its two colours (bilinear alone would alias).
  const data = new Uint8Array(64 * 64 * 4);
  for (let y = 0; y < 64; y++)
    for (let x = 0; x < 64; x++) data.set((x + y) % 2 ? [255, 255, 255, 255] : [0, 0, 0, 255], (y * 64 + x) * 4);
  const small = resizeRgba({ width: 64, height: 64, data }, 8, 8);
  assert.ok(small.data.every((v, i) => (i % 4 === 3 ? v === 255 : Math.abs(v - 128) <= 1)));
  const wide = { width: 200, height: 100, data: new Uint8Array(200 * 100 * 4).fill(200) };
  const url = thumbnailDataUrl(wide);
  assert.match(url, /^data:image\/jpeg;base64,/);
  const thumb = await decodeImage(new Uint8Array(Buffer.from(url.split(",")[1], "base64")));
  assert.deepEqual([thumb.width, thumb.height], [64, 32]);
});

test("the HTTP provider sends data URLs and texts, returns normalised vectors in input order, and maps failures", async () => {
  requests.length = 0;
  const e = httpImageEmbedder({ baseURL, apiKey: "k1", model: "clip", dim: 192, encode: encodePng });
  const red = solid([220, 40, 40]);
  const [a, b] = await e.embedImages([encodeJpeg(red), solid([40, 70, 220])]);
  assert.match(requests[0].input[0].image ?? "", /^data:image\/jpeg;base64,/);
  assert.match(requests[0].input[1].image ?? "", /^data:image\/png;base64,/, "RGBA is encoded as PNG");
  assert.equal(requests[0].auth, "Bearer k1");
  assert.ok(Math.abs(a.reduce((s, x) => s + x * x, 0) - 1) < 1e-5, "normalised");
  const [t] = await e.embedTexts!(["red"]);
  const dot = (x: Float32Array, y: Float32Array) => x.reduce((s, v, i) => s + v * y[i], 0);
  assert.ok(dot(t, a) > dot(t, b), "the word red is nearer the red image (order kept despite reversed data)");
  const noEncode = httpImageEmbedder({ baseURL, model: "clip" });
  await assert.rejects(noEncode.embedImages([red]), (err: QuiverError) => err.problems[0].path === "images[0]");
  failNext = 1;
  await assert.rejects(
    e.embedImages([encodeJpeg(red)]),
    (err: unknown) => err instanceof EmbedderError && err.retryable && /overloaded/.test(err.message),
  );
});

test("image ingest stores payloads without re-embedding unchanged files, re-embeds changed ones, and reports unreadable ones", async () => {
  const dir = mkdtempSync(join(tmpdir(), "quiver-images-"));
  try {
    mkdirSync(join(dir, "pics", "sub"), { recursive: true });
    writeFileSync(join(dir, "pics", "a.jpg"), encodeJpeg(drawScene(SCENE_CLASSES[0], 0, 40)));
    writeFileSync(join(dir, "pics", "sub", "b.png"), encodePng(drawScene(SCENE_CLASSES[1], 0, 48)));
    writeFileSync(join(dir, "pics", "broken.jpg"), "not a jpeg");
    writeFileSync(join(dir, "pics", "notes.txt"), "text is left out");
    const db = await open(join(dir, "db"));
    try {
      const coll = await db.createCollection("pics", imageSchema(192));
      const first = await ingestImages(coll, [join(dir, "pics")], { embedder: gridEmbedder });
      assert.equal(first.images, 3);
      assert.equal(first.embedded, 2);
      assert.deepEqual(
        first.unreadable.map((u) => u.path),
        [join(dir, "pics", "broken.jpg")],
      );
      const [b] = await coll.get(["sub/b.png"]);
      const p = b.payload as Record<string, unknown>;
      assert.deepEqual(
        [p.documentId, p.fileName, p.width, p.height, p.embedder],
        ["sub/b.png", "b.png", 48, 48, "test:grid"],
      );
      assert.match(String(p.thumbnail), /^data:image\/jpeg;base64,/);
      assert.match(String(p.imageHash), /^[0-9a-f]{64}$/);
      const again = await ingestImages(coll, [join(dir, "pics")], { embedder: gridEmbedder });
      assert.deepEqual([again.unchanged, again.embedded], [2, 0]);
      writeFileSync(join(dir, "pics", "a.jpg"), encodeJpeg(drawScene(SCENE_CLASSES[2], 0, 40)));
      const changed = await ingestImages(coll, [join(dir, "pics")], { embedder: gridEmbedder });
      assert.deepEqual([changed.unchanged, changed.embedded], [1, 1]);
      await assert.rejects(
        ingestImages(coll, [join(dir, "pics")], { embedder: { ...gridEmbedder, id: "other" } }),
        (e: QuiverError) => e.problems[0].path === "embedder" && /incomparable/.test(e.problems[0].message),
      );
    } finally {
      await db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("quiver ingest, query --image / --text and doctor on a folder of images, through the HTTP provider", async () => {
  const dir = mkdtempSync(join(tmpdir(), "quiver-images-cli-"));
  try {
    const pics = join(dir, "pics");
    mkdirSync(join(pics, "red"), { recursive: true });
    mkdirSync(join(pics, "blue"), { recursive: true });
    const red = drawScene(SCENE_CLASSES[0], 0, 64);
    writeFileSync(join(pics, "red", "one.jpg"), encodeJpeg(red, 90));
    writeFileSync(join(pics, "blue", "two.png"), encodePng(drawScene(SCENE_CLASSES[1], 0, 64)));
    writeFileSync(
      join(pics, "blue", "three.webp"),
      await encodeWebp(drawScene(SCENE_CLASSES[1], 1, 64), { lossless: true }),
    );
    copyFileSync(join(pics, "blue", "two.png"), join(pics, "blue", "two-again.png"));
    const query = join(dir, "query.webp");
    writeFileSync(query, await encodeWebp(transformScene(red, "colour"), { quality: 60 }));
    const env = { ...process.env, QUIVER_IMAGE_BASE_URL: baseURL, QUIVER_IMAGE_MODEL: "clip", QUIVER_IMAGE_DIM: "192" };
    const cli = async (...args: string[]) =>
      (await run(process.execPath, [MAIN, "--db", join(dir, "db"), ...args], { env })).stdout;
    const ingested = JSON.parse(await cli("ingest", "photos", pics, "--image-embedder", "http", "--json"));
    assert.deepEqual([ingested.images, ingested.embedded], [4, 4]);
    const byImage = JSON.parse(await cli("query", "photos", "--image", query, "--json", "--limit", "2"));
    assert.equal(byImage.hits[0].documentId, "red/one.jpg", "the colour-shifted copy finds its original");
    assert.equal(byImage.embedder, `http:${baseURL}:clip`);
    const byText = JSON.parse(await cli("query", "photos", "--text", "blue", "--json", "--limit", "2"));
    assert.ok(byText.hits.every((h: { documentId: string }) => h.documentId.startsWith("blue/")));
    const doctor = JSON.parse(await cli("doctor", "photos", "--json"));
    assert.equal(doctor.textField, "imageHash");
    assert.equal(doctor.exactDuplicates.count, 1, "byte-identical files");
    assert.deepEqual([doctor.exactDuplicates.examples[0].id, doctor.exactDuplicates.examples[0].of].sort(), [
      "blue/two-again.png",
      "blue/two.png",
    ]);
    rmSync(join(pics, "blue", "three.webp"));
    const pruned = JSON.parse(await cli("ingest", "photos", pics, "--prune", "--json"));
    assert.deepEqual(
      [pruned.unchanged, pruned.embedded, pruned.pruned],
      [3, 0, 1],
      "the collection's own embedder is reused",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
