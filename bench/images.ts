// Image embedding on a generated set (bench/image-scenes.ts: 8 classes of drawn scenes, each original
// with 4 transformed copies). For the offline embedder (MobileNetV2 from nsfwjs) and a raw-pixel baseline
// (the image shrunk to 16 x 16, as a vector): recall@10 of an original's 4 copies, and same-class
// recall@10 (among the images that are not the query's own copies: how many of its class's other
// images are in the 10 nearest, out of at most 10), by exact cosine over the whole set. Speed: images
// per wall-second of the wasm and CPU backends on 1 and 2 threads, interleaved over rounds; RSS. Then `ingest`: `--ingest N` generated JPEG files written to a
// folder and ingested end to end (decode, thumbnail, embed, write) by ingestImages, as `quiver ingest` does.

import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { sceneSet, SCENE_CLASSES, drawScene, type SceneImage } from "./image-scenes.js";
import { l2Normalize, resizeRgba, type RgbaImage } from "../src/embed/image.js";
import { offlineImageEmbedder, type OfflineImageEmbedder } from "../src/embed/node/image-mobilenet.js";
import { encodeJpeg } from "../src/embed/node/image-codec.js";

export interface ImageBenchOptions {
  /** Originals per class (default 2: 80 images with their copies). */
  perClass?: number;
  /** Images for the end-to-end ingest (default 1,000; 0 skips it). */
  ingest?: number;
  /** Interleaved rounds of the speed comparison (default 3). */
  rounds?: number;
  json?: boolean;
}

interface Quality {
  copiesRecallAt10: number;
  /** The same, for each kind of copy: the share of originals whose copy of that kind is in their 10 nearest. */
  copiesRecallAt10ByTransform: Record<string, number>;
  sameClassRecallAt10: number;
  /** Mean cosine of an original to its copies, and to its nearest image of another class. */
  meanCopyCosine: number;
  meanNearestOtherClassCosine: number;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function retrievalQuality(set: SceneImage[], vectors: Float32Array[]): Quality {
  let copies = 0;
  let sameClass = 0;
  let copyCos = 0;
  let otherCos = 0;
  const byTransform: Record<string, number> = {};
  const originals = set.map((_, i) => i).filter((i) => set[i].name.endsWith("/original"));
  for (const q of originals) {
    const ranked = set
      .map((_, j) => ({ j, score: dot(vectors[q], vectors[j]) }))
      .filter((r) => r.j !== q)
      .sort((a, b) => b.score - a.score);
    const own = ranked.filter((r) => set[r.j].group === set[q].group);
    const top = ranked.slice(0, 10).filter((r) => set[r.j].group === set[q].group);
    copies += top.length / own.length;
    for (const r of top) {
      const kind = set[r.j].name.split("/").pop() ?? "";
      byTransform[kind] = (byTransform[kind] ?? 0) + 1;
    }
    copyCos += own.reduce((s, r) => s + r.score, 0) / own.length;
    const others = ranked.filter((r) => set[r.j].group !== set[q].group);
    const relevant = others.filter((r) => set[r.j].classIndex === set[q].classIndex).length;
    const found = others.slice(0, 10).filter((r) => set[r.j].classIndex === set[q].classIndex).length;
    sameClass += found / Math.min(10, relevant);
    otherCos += ranked.find((r) => set[r.j].classIndex !== set[q].classIndex)?.score ?? 0;
  }
  const n = originals.length;
  const r = (x: number) => Number((x / n).toFixed(3));
  return {
    copiesRecallAt10: r(copies),
    copiesRecallAt10ByTransform: Object.fromEntries(Object.entries(byTransform).map(([k, v]) => [k, r(v)])),
    sameClassRecallAt10: r(sameClass),
    meanCopyCosine: r(copyCos),
    meanNearestOtherClassCosine: r(otherCos),
  };
}

/** The baseline: pixels of the image shrunk to 16 x 16 (RGB), centred and normalised. */
function pixelVector(img: RgbaImage): Float32Array {
  const small = resizeRgba(img, 16, 16).data;
  const v = new Float32Array(16 * 16 * 3);
  for (let i = 0; i < 256; i++) for (let c = 0; c < 3; c++) v[i * 3 + c] = small[i * 4 + c] / 255 - 0.5;
  return l2Normalize(v);
}

/** Images per second (wall, and per CPU-second of this process) of `embedder` over `images`. */
async function embedSpeed(embedder: OfflineImageEmbedder, images: RgbaImage[]) {
  await embedder.embedImages(images.slice(0, 2)); // builds the network(s) first
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const vectors: Float32Array[] = [];
  const batch = embedder.maxBatch ?? 8;
  for (let i = 0; i < images.length; i += batch)
    vectors.push(...(await embedder.embedImages(images.slice(i, i + batch))));
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { vectors, perWall: images.length / wallS, perCpu: images.length / ((cpu.user + cpu.system) / 1e6) };
}

const median = (xs: number[]) => Number(([...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0).toFixed(2));

export async function runImageBench(opts: ImageBenchOptions = {}): Promise<void> {
  const set = sceneSet(SCENE_CLASSES.length, opts.perClass ?? 2);
  const images = set.map((s) => s.image);
  const embedder = offlineImageEmbedder();
  const loadStart = performance.now();
  await embedder.embedImages([set[0].image]);
  const loadMs = performance.now() - loadStart;
  const { vectors } = await embedSpeed(embedder, images);
  // Speed of each backend on 1 and 2 threads, interleaved and repeated (the machine is shared);
  // the CPU backend gets the first 16 images only (it is about 18 times slower).
  const speed: Record<string, number[]> = {};
  const configs = (["wasm", "cpu"] as const).flatMap((backend) => [1, 2].map((threads) => ({ backend, threads })));
  // Each on worker threads of its own: TensorFlow.js's backend is global to a thread.
  const embedders = configs.map(({ backend, threads }) => offlineImageEmbedder({ backend, threads }));
  for (let round = 0; round < (opts.rounds ?? 3); round++)
    for (const [i, { backend, threads }] of configs.entries()) {
      const { perWall } = await embedSpeed(embedders[i], backend === "cpu" ? images.slice(0, 16) : images);
      const key = `${backend}x${threads}`;
      speed[key] = [...(speed[key] ?? []), perWall];
    }
  await Promise.all(embedders.map((e) => e.close()));
  const result: Record<string, unknown> = {
    images: set.length,
    classes: SCENE_CLASSES.length,
    offline: {
      model: embedder.id,
      dim: embedder.dim,
      firstCallMs: Math.round(loadMs),
      imagesPerSecondWallMedian: Object.fromEntries(Object.entries(speed).map(([k, v]) => [k, median(v)])),
      imagesPerSecondWallRuns: speed,
      rssMB: Math.round(process.memoryUsage().rss / 1e6),
      ...retrievalQuality(set, vectors),
    },
    pixels16: retrievalQuality(
      set,
      set.map((s) => pixelVector(s.image)),
    ),
  };
  if ((opts.ingest ?? 1000) > 0) result.ingest = await ingestBench(opts.ingest ?? 1000);
  if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else console.log(result);
}

/** `n` generated JPEG files (128 px, all classes) in a fresh folder, ingested end to end into a fresh database. */
async function ingestBench(n: number): Promise<Record<string, number>> {
  const { open } = await import("../src/index.js");
  const { ingestImages, imageSchema } = await import("../src/embed/node/image-ingest.js");
  const dir = await mkdtemp(join(tmpdir(), "quiver-image-bench-"));
  try {
    await mkdir(join(dir, "images"));
    for (let i = 0; i < n; i++) {
      const cls = SCENE_CLASSES[i % SCENE_CLASSES.length];
      await writeFile(
        join(dir, "images", `${String(i).padStart(5, "0")}.jpg`),
        encodeJpeg(drawScene(cls, 100 + i), 85),
      );
    }
    const db = await open(join(dir, "db"));
    try {
      const embedder = offlineImageEmbedder({ threads: 2 });
      const coll = await db.createCollection("images", imageSchema(embedder.dim ?? 320));
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const report = await ingestImages(coll, [join(dir, "images")], { embedder });
      const wallS = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const t1 = performance.now();
      const again = await ingestImages(coll, [join(dir, "images")], { embedder });
      await embedder.close();
      return {
        images: report.images,
        embedded: report.embedded,
        seconds: Number(wallS.toFixed(1)),
        cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
        imagesPerSecondWall: Number((n / wallS).toFixed(2)),
        reingestUnchangedSeconds: Number(((performance.now() - t1) / 1000).toFixed(2)),
        reingestEmbedded: again.embedded,
        threads: 2,
      };
    } finally {
      await db.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
