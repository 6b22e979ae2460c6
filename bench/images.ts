// Image embedding on a generated set (bench/image-scenes.ts: 8 classes of drawn scenes, each original
// with 4 transformed copies). For the offline embedder (MobileNetV2 from nsfwjs) and a raw-pixel baseline
// (the image shrunk to 16 x 16, as a vector): recall@10 of an original's 4 copies, and same-class
// recall@10 (among the images that are not the query's own copies: how many of its class's other
// images are in the 10 nearest, out of at most 10), by exact cosine over the whole set. Speed: images
// per wall-second of the wasm and CPU backends on 1 and 2 threads, interleaved over rounds; RSS. Then `ingest`:
// `--ingest N` generated JPEG files written to a folder and ingested end to end by the `quiver ingest` command in
// a child process (decode, thumbnail, embed, write): images/s, peak RSS, database size. `--part ingest` runs only that.

import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile, mkdir, readdir, readFile, stat } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { sceneSet, SCENE_CLASSES, drawScene, type SceneImage } from "./image-scenes.js";
import { l2Normalize, resizeRgba, type RgbaImage } from "../src/embed/image.js";
import { offlineImageEmbedder, type OfflineImageEmbedder } from "../src/embed/node/image-mobilenet.js";
import { encodeJpeg } from "../src/embed/node/image-codec.js";

const run = promisify(execFile);

export interface ImageBenchOptions {
  /** Originals per class (default 2: 80 images with their copies). */
  perClass?: number;
  /** Images for the end-to-end ingest (default 1,000; 0 skips it). */
  ingest?: number;
  /** Interleaved rounds of the speed comparison (default 3). */
  rounds?: number;
  /** Only the end-to-end ingest (`--part ingest`). */
  ingestOnly?: boolean;
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
  if (opts.ingestOnly) {
    const ingest = await ingestBench(opts.ingest ?? 1000);
    if (opts.json) process.stdout.write(`${JSON.stringify({ ingest }, null, 2)}\n`);
    else console.log({ ingest });
    return;
  }
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

/** Total bytes of the files under `dir`. */
async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  return total;
}

/** Runs `quiver <args>` as a user would, in a child process: its wall time, JSON answer, peak RSS and CPU time. */
async function quiver(args: string[], usageFile: string) {
  const cli = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
  const preload = new URL("./child-usage.js", import.meta.url).href;
  const t0 = performance.now();
  const { stdout } = await run(process.execPath, ["--import", preload, cli, ...args], {
    env: { ...process.env, QUIVER_BENCH_USAGE_FILE: usageFile },
    maxBuffer: 64 << 20,
  });
  const seconds = (performance.now() - t0) / 1000;
  const usage = JSON.parse(await readFile(usageFile, "utf8")) as { maxRssKB: number; cpuSeconds: number };
  return {
    seconds,
    answer: JSON.parse(stdout) as { images: number; embedded: number },
    peakRssMB: Math.round(usage.maxRssKB / 1024),
    cpuSeconds: usage.cpuSeconds,
  };
}

/**
 * `n` generated JPEG files (128 px, all classes) written to a fresh folder, then `quiver ingest` of
 * that folder into a fresh database with the offline embedder (one worker thread per core), timed
 * from process start to exit (loading the network included); then the unchanged folder again.
 */
async function ingestBench(n: number): Promise<Record<string, number>> {
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
    const args = ["--db", join(dir, "db"), "ingest", "images", join(dir, "images"), "--json"];
    const first = await quiver(args, join(dir, "usage-first"));
    const dbBytes = await folderBytes(join(dir, "db"));
    const again = await quiver(args, join(dir, "usage-again"));
    return {
      images: first.answer.images,
      embedded: first.answer.embedded,
      imageBytes: await folderBytes(join(dir, "images")),
      seconds: Number(first.seconds.toFixed(1)),
      imagesPerSecondWall: Number((n / first.seconds).toFixed(2)),
      cpuSeconds: Number(first.cpuSeconds.toFixed(1)),
      // What the machine's load cannot change much: the CPU work per image (the wall time waits for cores).
      cpuMsPerImage: Math.round((first.cpuSeconds * 1000) / n),
      peakRssMB: first.peakRssMB,
      dbBytes,
      dbBytesPerImage: Math.round(dbBytes / n),
      reingestUnchangedSeconds: Number(again.seconds.toFixed(2)),
      reingestEmbedded: again.answer.embedded,
      threads: availableParallelism(),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
