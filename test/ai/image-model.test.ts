/**
 * The offline image embedder with its real weights (MobileNetV2 shipped inside nsfwjs): 320
 * normalised numbers per image, and a colour-shifted and a resized copy of a scene nearer their
 * original than scenes of other classes are; two worker threads give the same vectors; the wasm
 * backend (the default) and the pure-JS CPU backend give the same vectors, so a collection's
 * vectors stay comparable whichever backend a machine has.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { offlineImageEmbedder, OFFLINE_IMAGE_MODEL_ID } from "../../src/embed/node/image-mobilenet.js";
import { encodeJpeg } from "../../src/embed/node/image-codec.js";
import { drawScene, SCENE_CLASSES, transformScene } from "../../bench/image-scenes.js";

test("the offline embedder finds each scene's colour-shifted and resized JPEG copies among 24 images", async () => {
  // An original of each class with two copies: 24 images, so other classes' copies compete too.
  const images = SCENE_CLASSES.flatMap((cls) => {
    const original = drawScene(cls, 0);
    return [original, transformScene(original, "colour"), encodeJpeg(transformScene(original, "resize"), 85)];
  });
  const e = offlineImageEmbedder({ backend: "wasm" });
  assert.equal(e.id, OFFLINE_IMAGE_MODEL_ID);
  const vs = await e.embedImages(images);
  assert.equal(vs.length, images.length);
  for (const v of vs) {
    assert.equal(v.length, 320);
    assert.ok(Math.abs(v.reduce((s, x) => s + x * x, 0) - 1) < 1e-4, "unit length");
  }
  const cos = (i: number, j: number) => vs[i].reduce((s, x, k) => s + x * vs[j][k], 0);
  for (let q = 0; q < images.length; q += 3) {
    const ranked = vs
      .map((_, j) => j)
      .filter((j) => j !== q)
      .sort((a, b) => cos(q, b) - cos(q, a));
    // The colour copy is the nearest; the resized JPEG copy is among the 10 nearest (what recall@10 counts).
    assert.equal(ranked.indexOf(q + 1), 0, `class ${q / 3}: colour copy at rank ${ranked.indexOf(q + 1) + 1}`);
    assert.ok(ranked.indexOf(q + 2) < 10, `class ${q / 3}: resized JPEG copy at rank ${ranked.indexOf(q + 2) + 1}`);
  }
  const firstFive = images.slice(0, 5);
  // Two worker threads split the batch (3 + 2 images) and give back the same vectors in the same order.
  const pooled = offlineImageEmbedder({ threads: 2 });
  try {
    const ws = await pooled.embedImages(firstFive);
    assert.equal(ws.length, 5);
    ws.forEach((w, i) => {
      const same = w.reduce((s, x, k) => s + x * vs[i][k], 0);
      assert.ok(same > 0.9999, `image ${i}: cosine ${same} between the thread's vector and this one's`);
    });
  } finally {
    await pooled.close();
  }
});

test("the CPU backend gives the wasm backend's vectors", async () => {
  const images = [drawScene(SCENE_CLASSES[3], 1), drawScene(SCENE_CLASSES[5], 2)];
  const [wasm, cpu] = await Promise.all(
    (["wasm", "cpu"] as const).map((backend) => offlineImageEmbedder({ backend, threads: 1 })),
  );
  try {
    const a = await wasm.embedImages(images);
    const b = await cpu.embedImages(images);
    a.forEach((v, i) => {
      const same = v.reduce((s, x, k) => s + x * b[i][k], 0);
      assert.ok(same > 0.9999, `image ${i}: cosine ${same} between the wasm and CPU backends' vectors`);
    });
  } finally {
    await Promise.all([wasm.close(), cpu.close()]);
  }
});
