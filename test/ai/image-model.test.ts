/**
 * The offline image embedder with its real weights (MobileNetV2 shipped inside nsfwjs, tfjs on the
 * CPU): 1,280 normalised numbers per image, and a colour-shifted and a resized copy of a scene
 * nearer their original than scenes of other classes are; two worker threads give the same
 * vectors. Five small images: the pure-JS backend embeds about one image per CPU-second.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { offlineImageEmbedder, OFFLINE_IMAGE_MODEL_ID } from "../../src/embed/node/image-mobilenet.js";
import { encodeJpeg } from "../../src/embed/node/image-codec.js";
import { drawScene, SCENE_CLASSES, transformScene } from "../../bench/image-scenes.js";

test("the offline embedder ranks a scene's transformed copies above other classes", async () => {
  const original = drawScene(SCENE_CLASSES[2], 0);
  const images = [
    original,
    transformScene(original, "colour"),
    encodeJpeg(transformScene(original, "resize"), 85),
    drawScene(SCENE_CLASSES[0], 0),
    drawScene(SCENE_CLASSES[1], 0),
  ];
  const e = offlineImageEmbedder();
  assert.equal(e.id, OFFLINE_IMAGE_MODEL_ID);
  const vs = await e.embedImages(images);
  assert.equal(vs.length, 5);
  for (const v of vs) {
    assert.equal(v.length, 1280);
    assert.ok(Math.abs(v.reduce((s, x) => s + x * x, 0) - 1) < 1e-4, "unit length");
  }
  const cos = (i: number, j: number) => vs[i].reduce((s, x, k) => s + x * vs[j][k], 0);
  const otherClasses = Math.max(cos(0, 3), cos(0, 4));
  assert.ok(cos(0, 1) > otherClasses, `colour copy ${cos(0, 1)} vs other classes ${otherClasses}`);
  assert.ok(cos(0, 2) > otherClasses, `resized JPEG copy ${cos(0, 2)} vs other classes ${otherClasses}`);
  // Two worker threads split the batch (3 + 2 images) and give back the same vectors in the same order.
  const pooled = offlineImageEmbedder({ threads: 2 });
  try {
    const ws = await pooled.embedImages(images);
    assert.equal(ws.length, 5);
    ws.forEach((w, i) => {
      const same = w.reduce((s, x, k) => s + x * vs[i][k], 0);
      assert.ok(same > 0.9999, `image ${i}: cosine ${same} between the thread's vector and this one's`);
    });
  } finally {
    await pooled.close();
  }
});
