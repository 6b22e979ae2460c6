/**
 * WebP decoding in the offline image path (libwebp as WebAssembly, from @jsquash/webp): lossless
 * files give back their pixels exactly (alpha too), lossy ones close; animated, oversized and
 * corrupt files are refused with INVALID_ARGUMENT naming the file; an ingest of a folder mixing
 * JPEG, PNG and WebP embeds all three and stores a thumbnail for the WebP record. Every WebP file
 * is encoded at test time by libwebp's own encoder (test/support/webp-encode.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open, QuiverError } from "../../src/index.js";
import {
  l2Normalize,
  resizeRgba,
  sniffImageFormat,
  type ImageEmbedder,
  type RgbaImage,
} from "../../src/embed/image.js";
import { decodeImage, encodeJpeg, encodePng, toRgba, webpHeader } from "../../src/embed/node/image-codec.js";
import { imageSchema, ingestImages } from "../../src/embed/node/image-ingest.js";
import { drawScene, SCENE_CLASSES } from "../../bench/image-scenes.js";
import { encodeWebp } from "../support/webp-encode.js";

/** A scene whose alpha runs 0..255 across each row, so alpha (and colour under alpha 0) must survive. */
function withAlphaRamp(img: RgbaImage): RgbaImage {
  const data = new Uint8Array(img.data);
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) data[(y * img.width + x) * 4 + 3] = Math.round((x / (img.width - 1)) * 255);
  return { width: img.width, height: img.height, data };
}

const meanAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>, channel: number) => {
  let sum = 0;
  for (let i = channel; i < a.length; i += 4) sum += Math.abs(a[i] - b[i]);
  return sum / (a.length / 4);
};

async function refusal(f: () => Promise<unknown>): Promise<QuiverError> {
  try {
    await f();
  } catch (e) {
    assert.ok(e instanceof QuiverError, String(e));
    assert.equal(e.code, "INVALID_ARGUMENT");
    return e;
  }
  assert.fail("expected INVALID_ARGUMENT");
}

const riffChunk = (fourcc: string, payload: Uint8Array) => {
  const out = new Uint8Array(8 + payload.length + (payload.length % 2));
  out.set(Buffer.from(fourcc, "latin1"));
  new DataView(out.buffer).setUint32(4, payload.length, true);
  out.set(payload, 8);
  return out;
};
const u24 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255];
const riffWebp = (...chunks: Uint8Array[]) => riffChunk("RIFF", Buffer.concat([Buffer.from("WEBP"), ...chunks]));

test("lossless WebP decodes to exactly the source pixels, alpha included; lossy WebP to close ones", async () => {
  const img = withAlphaRamp(drawScene(SCENE_CLASSES[1], 3, 48));
  const lossless = await encodeWebp(img, { lossless: true });
  assert.equal(sniffImageFormat(lossless), "webp");
  assert.deepEqual(webpHeader(lossless), { width: 48, height: 48, animated: false });
  const back = await decodeImage(lossless, "a.webp");
  assert.deepEqual([back.width, back.height], [48, 48]);
  assert.ok(Buffer.from(back.data).equals(Buffer.from(img.data)), "every RGBA byte equal");
  // Bytes inside a larger buffer (as a file read into a pool would be) decode the same.
  const padded = new Uint8Array(lossless.length + 7);
  padded.set(lossless, 7);
  assert.ok(Buffer.from((await decodeImage(padded.subarray(7))).data).equals(Buffer.from(img.data)));

  const opaque = drawScene(SCENE_CLASSES[2], 1, 64);
  const lossy = await encodeWebp(opaque, { quality: 85 });
  assert.equal(String.fromCharCode(...lossy.subarray(12, 16)), "VP8 ", "a plain lossy bitstream");
  const near = await decodeImage(lossy, "b.webp");
  assert.deepEqual([near.width, near.height], [64, 64]);
  for (const c of [0, 1, 2]) assert.ok(meanAbsDiff(near.data, opaque.data, c) < 8, `channel ${c} close`);
  assert.ok(
    near.data.every((v, i) => i % 4 !== 3 || v === 255),
    "opaque stays opaque",
  );
  assert.ok(!Buffer.from(near.data).equals(Buffer.from(opaque.data)), "lossy really is lossy here");

  const lossyAlpha = await encodeWebp(img, { quality: 85 });
  assert.equal(String.fromCharCode(...lossyAlpha.subarray(12, 16)), "VP8X", "alpha needs the extended format");
  const alpha = await decodeImage(lossyAlpha, "c.webp");
  assert.ok(meanAbsDiff(alpha.data, img.data, 3) < 1, "alpha kept (alpha_quality 100)");
  // The decoded pixels are the caller's own: decoding again does not overwrite them.
  const first = Buffer.from(back.data);
  await decodeImage(lossy);
  assert.ok(Buffer.from(back.data).equals(first));
  assert.ok(Buffer.from((await toRgba(lossless)).data).equals(Buffer.from(img.data)));
});

test("corrupt, animated and oversized WebP files are refused with INVALID_ARGUMENT naming the file", async () => {
  const still = await encodeWebp(drawScene(SCENE_CLASSES[0], 0, 16), { lossless: true });
  const cut = await refusal(() => decodeImage(still.subarray(0, 40), "photos/cut.webp"));
  assert.equal(cut.problems[0].path, "photos/cut.webp");
  assert.match(cut.problems[0].message, /cannot decode this WEBP file/);
  const scrambled = new Uint8Array(still);
  scrambled.fill(0xa5, 21);
  assert.match((await refusal(() => decodeImage(scrambled, "x.webp"))).problems[0].message, /cannot decode this WEBP/);

  // Two frames of the still image, in the extended format with the animation flag (0x02).
  const frame = still.subarray(12); // its VP8L chunk
  const anmf = (duration: number) =>
    riffChunk(
      "ANMF",
      Buffer.concat([Buffer.from([...u24(0), ...u24(0), ...u24(15), ...u24(15), ...u24(duration), 0]), frame]),
    );
  const animated = riffWebp(
    riffChunk("VP8X", new Uint8Array([0x02, 0, 0, 0, ...u24(15), ...u24(15)])),
    riffChunk("ANIM", new Uint8Array([0, 0, 0, 0, 0, 0])),
    anmf(100),
    anmf(100),
  );
  assert.deepEqual(webpHeader(animated), { width: 16, height: 16, animated: true });
  const a = await refusal(() => decodeImage(animated, "loop.webp"));
  assert.equal(a.problems[0].path, "loop.webp");
  assert.match(a.problems[0].message, /animated WebP is not decoded/);

  // A 16384 x 16384 canvas is refused from its header, before libwebp allocates a gigabyte.
  const huge = riffWebp(riffChunk("VP8X", new Uint8Array([0, 0, 0, 0, ...u24(16383), ...u24(16383)])));
  assert.match(
    (await refusal(() => decodeImage(huge, "big.webp"))).problems[0].message,
    /16384 x 16384 exceeds 100 megapixels/,
  );

  const gif = new Uint8Array([...Buffer.from("GIF89a"), 1, 0, 1, 0]);
  assert.match(
    (await refusal(() => decodeImage(gif, "g.gif"))).problems[0].message,
    /GIF is recognised but not decoded/,
  );
});

test("ingesting a folder of JPEG, PNG and WebP embeds all three and stores a thumbnail for the WebP record", async () => {
  const dir = mkdtempSync(join(tmpdir(), "quiver-webp-"));
  try {
    const pics = join(dir, "pics");
    const scenes = SCENE_CLASSES.slice(0, 3).map((cls, i) => drawScene(cls, i, 40 + i * 8));
    mkdirSync(pics);
    writeFileSync(join(pics, "a.jpg"), encodeJpeg(scenes[0], 90));
    writeFileSync(join(pics, "b.png"), encodePng(scenes[1]));
    writeFileSync(join(pics, "c.webp"), await encodeWebp(scenes[2], { quality: 80 }));
    writeFileSync(join(pics, "broken.webp"), (await encodeWebp(scenes[2], { lossless: true })).subarray(0, 50));
    const embedder: ImageEmbedder = {
      id: "test:mean-colour",
      dim: 3,
      embedImages: (images) =>
        Promise.all(
          images.map(async (im, i) => {
            const px = resizeRgba(await toRgba(im, `images[${i}]`), 1, 1).data;
            return l2Normalize(Float32Array.from([px[0] + 1, px[1] + 1, px[2] + 1]));
          }),
        ),
    };
    const db = await open(join(dir, "db"));
    try {
      const coll = await db.createCollection("pics", imageSchema(3));
      const report = await ingestImages(coll, [pics], { embedder });
      assert.deepEqual([report.images, report.embedded], [4, 3]);
      assert.deepEqual(
        report.unreadable.map((u) => u.path),
        [join(pics, "broken.webp")],
      );
      assert.match(String(report.unreadable[0].reason), /cannot decode this WEBP/);
      const [c] = await coll.get(["c.webp"]);
      const p = c.payload as Record<string, unknown>;
      assert.deepEqual([p.documentId, p.fileName, p.width, p.height], ["c.webp", "c.webp", 56, 56]);
      const url = String(p.thumbnail);
      assert.match(url, /^data:image\/jpeg;base64,/);
      const thumb = await decodeImage(new Uint8Array(Buffer.from(url.slice(url.indexOf(",") + 1), "base64")));
      assert.deepEqual([thumb.width, thumb.height], [56, 56], "within 64 px, so kept at its size");
      for (const ch of [0, 1, 2])
        assert.ok(meanAbsDiff(thumb.data, scenes[2].data, ch) < 20, `thumbnail channel ${ch}`);
      const { hits } = await coll.query({ vector: { image: (await embedder.embedImages([scenes[2]]))[0] }, limit: 1 });
      assert.equal(hits[0].id, "c.webp", "the WebP record is searchable by its own pixels");
    } finally {
      await db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
