/**
 * Image collections on a cluster (three nodes, two shards, in one process): the nodes are given
 * the input hook `quiver serve --cluster` builds from the environment (clusterInputFromEnv, here
 * with QUIVER_CLIP_MODEL naming the tiny CLIP-shaped model written at test time), so a query by
 * words or by a picture is embedded on the node that receives it and finds what one embedded
 * database with the same pictures finds. Without the image embedders the same query is refused.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { CollectionApi, DatabaseApi } from "../../src/api/types.js";
import { EmbedderRegistry } from "../../src/embed/bind.js";
import type { RgbaImage } from "../../src/embed/image.js";
import { encodeJpeg, encodePng } from "../../src/embed/node/image-codec.js";
import { clusterInputFromEnv } from "../../src/embed/node/config.js";
import { imageSchema, ingestImages } from "../../src/embed/node/image-ingest.js";
import { type TransformersImageEmbedder, transformersImageEmbedder } from "../../src/embed/node/image-transformers.js";
import { open } from "../../src/index.js";
import { InProcessCluster } from "../support/cluster-in-process.js";
import { TINY_CLIP_DIM, writeTinyClip } from "../support/tiny-clip.js";

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
const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const ids = (hits: { payload?: Record<string, unknown> | null }[]) =>
  hits.map((h) => h.payload?.documentId as string).sort();

describe("image embedders bound on cluster nodes", () => {
  let dir: string;
  let clip: TransformersImageEmbedder;
  let bound: ReturnType<typeof clusterInputFromEnv>;
  let cluster: InProcessCluster;
  let one: DatabaseApi;
  let onePhotos: CollectionApi;
  let photos: CollectionApi;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "quiver-cluster-images-"));
    const modelPath = writeTinyClip(join(dir, "tiny-clip"));
    clip = transformersImageEmbedder({ modelPath });
    const pics = join(dir, "pics");
    for (const c of ["red", "green", "blue"]) mkdirSync(join(pics, c), { recursive: true });
    writeFileSync(join(pics, "red", "a.jpg"), encodeJpeg(picture(RED, 4), 90));
    writeFileSync(join(pics, "red", "b.png"), encodePng(picture(RED, 30)));
    writeFileSync(join(pics, "green", "c.png"), encodePng(picture(GREEN, 8)));
    writeFileSync(join(pics, "blue", "d.jpg"), encodeJpeg(picture(BLUE, 12), 90));
    writeFileSync(join(pics, "blue", "e.png"), encodePng(picture(BLUE, 40)));
    bound = clusterInputFromEnv({ QUIVER_CLIP_MODEL: modelPath });
    cluster = new InProcessCluster({ leaseTtlMs: 4000, replicas: 1, input: bound.input });
    for (const id of ["n1", "n2", "n3"]) await cluster.start(id);
    one = await open(undefined, { imageEmbedders: { clip } });
    onePhotos = await one.createCollection("photos", imageSchema(TINY_CLIP_DIM));
    await ingestImages(onePhotos, [pics], { embedder: clip });
    const created = await cluster
      .db("n1")
      .createCollection("photos", imageSchema(TINY_CLIP_DIM), { shards: 2 } as never);
    await ingestImages(created, [pics], { embedder: clip });
    // Every shard's writes seen before reading (the ingest's acknowledgements are not returned).
    cluster.scope = { minSeq: await seqsAfterWrite(created) };
    photos = await cluster.db("n2").collection("photos");
  });

  after(async () => {
    await cluster?.close();
    await one?.close();
    await bound?.close();
    await clip?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a query by words and by a picture through a node finds what one node finds", async () => {
    assert.equal(await photos.count(), 5);
    const byWords = await photos.query({ vector: { image: "a red car" }, limit: 2 });
    assert.deepEqual(ids(byWords.hits), ["red/a.jpg", "red/b.png"]);
    const green = encodeJpeg(picture(GREEN, 20, 64), 70);
    for (const req of [
      { vector: { image: "blue car" }, limit: 3 },
      { vector: { image: { base64: base64(green) } }, limit: 2 },
      { vector: { image: { base64: base64(green) } }, filter: { documentId: { $ne: "green/c.png" } }, limit: 1 },
    ]) {
      const [merged, single] = [await photos.query(req), await onePhotos.query(req)];
      assert.deepEqual(
        merged.hits.map((h) => [h.payload?.documentId, h.score]),
        single.hits.map((h) => [h.payload?.documentId, h.score]),
        JSON.stringify(req).slice(0, 80),
      );
    }
    assert.deepEqual(ids((await photos.query({ vector: { image: { base64: base64(green) } }, limit: 1 })).hits), [
      "green/c.png",
    ]);
  });

  it("a node without the image embedders (text embedders only, as before) refuses the same query", async () => {
    const plain = new InProcessCluster({ leaseTtlMs: 4000, replicas: 1, input: new EmbedderRegistry() });
    try {
      await plain.start("p1");
      const c = await plain.db("p1").createCollection("photos", imageSchema(TINY_CLIP_DIM));
      await assert.rejects(c.query({ vector: { image: "a red car" }, limit: 2 }));
    } finally {
      await plain.close();
    }
  });
});

/** The seq of each shard after an empty-effect write: a delete of an id no record has. */
async function seqsAfterWrite(c: CollectionApi): Promise<Record<string, number>> {
  const seqs: Record<string, number> = {};
  for (let i = 0; Object.keys(seqs).length < 2 && i < 50; i++) {
    const ack = (await c.delete([`none-${i}`])) as { seqs?: Record<string, number> };
    Object.assign(seqs, ack.seqs);
  }
  return seqs;
}
