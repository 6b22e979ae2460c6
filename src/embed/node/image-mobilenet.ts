/**
 * The offline image embedder: the MobileNetV2 network whose weights the `nsfwjs` npm package ships
 * inside itself (no download at run time), run by TensorFlow.js on its WebAssembly SIMD backend when
 * `@tensorflow/tfjs-backend-wasm` is installed (its .wasm files are read from the package; about 18
 * times the speed of the pure-JavaScript CPU backend), else on that CPU backend (no native
 * tfjs-node either way). The vector is the last bottleneck block's output (`block_16_project_BN`,
 * 320 channels) averaged over the 7 x 7 grid and L2-normalised: an image-to-image embedder (copies,
 * similar pictures), with no text side. Loaded on first use.
 */
import { QuiverError } from "../../core/errors/errors.js";
import { l2Normalize, resizeRgba, type ImageEmbedder, type ImageInput, type RgbaImage } from "../image.js";
import { toRgba } from "./image-codec.js";

/** Names the layer and the pixel scaling: vectors made otherwise are not comparable with these. */
export const OFFLINE_IMAGE_MODEL_ID = "nsfwjs:mobilenet_v2:block_16_project:avg";
/** The network's fixed input side (its last pooling layer expects a 7 x 7 grid). */
const INPUT_SIZE = 224;
/**
 * Blocks 0 to 10 are ImageNet's frozen weights and nsfwjs fine-tuned the rest to sort five content
 * classes; its own 1,280-d pooled layer (`flatten_1`) is a post-ReLU output shaped by that task,
 * on which every drawn scene looked alike (bench/RESULTS.md). The last linear projection keeps
 * signed, more general features: on the bench's scenes it finds more copies and more of a class.
 */
const FEATURE_LAYER = "block_16_project_BN";
const DIM = 320;

type Tf = typeof import("@tensorflow/tfjs");
interface Loaded {
  tf: Tf;
  backend: OfflineImageBackend;
  features: import("@tensorflow/tfjs").LayersModel;
}

/**
 * The model as tfjs artifacts, built from the modules nsfwjs ships (a JSON topology and base64
 * weight shards), the way nsfwjs's own loader does, but without its classifier wrapper and logging.
 */
async function artifacts(): Promise<import("@tensorflow/tfjs").io.ModelArtifacts> {
  const { MobileNetV2Model } = await import("nsfwjs/models/mobilenet_v2");
  const json = (await MobileNetV2Model.modelJson()).default;
  const shards: Record<string, string> = {};
  for (const [i, load] of MobileNetV2Model.weightBundles.entries())
    shards[`group1-shard${i + 1}of${MobileNetV2Model.numOfWeightBundles}`] = (
      (await load()) as { default: string }
    ).default;
  const parts: Uint8Array[] = [];
  const weightSpecs = [];
  for (const group of json.weightsManifest) {
    for (const path of group.paths) parts.push(new Uint8Array(Buffer.from(shards[path], "base64")));
    weightSpecs.push(...group.weights);
  }
  const weightData = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    weightData.set(p, at);
    at += p.length;
  }
  return { modelTopology: json.modelTopology, format: json.format, weightSpecs, weightData: weightData.buffer };
}

async function load(backend?: OfflineImageBackend): Promise<Loaded> {
  let tf: Tf;
  try {
    tf = await import("@tensorflow/tfjs");
    await import("nsfwjs/models/mobilenet_v2");
  } catch (e) {
    throw new QuiverError(
      "UNSUPPORTED",
      "the offline image embedder needs the npm packages @tensorflow/tfjs and nsfwjs (npm install @tensorflow/tfjs nsfwjs)",
      { cause: e },
    );
  }
  // tfjs greets every Node process with advice to install tfjs-node, which this embedder avoids on purpose.
  tf.env().set("IS_NODE", false);
  await useFastestBackend(tf, backend);
  const model = await tf.loadLayersModel(tf.io.fromMemory(await artifacts()));
  const features = tf.model({ inputs: model.inputs, outputs: model.getLayer(FEATURE_LAYER).output });
  return { tf, features, backend: tf.getBackend() as OfflineImageBackend };
}

export type OfflineImageBackend = "wasm" | "cpu";

/**
 * WebAssembly (SIMD where the runtime has it) if its package is installed and starts, else the CPU
 * backend. The .wasm files are read from the package's own dist folder, never fetched. Its threaded
 * variant is turned off: in Node it starts workers from blob: URLs, which Node refuses; parallelism
 * comes from this embedder's own worker threads instead.
 */
async function useFastestBackend(tf: Tf, wanted?: OfflineImageBackend): Promise<void> {
  if (wanted !== "cpu") {
    try {
      const wasm = await import("@tensorflow/tfjs-backend-wasm");
      const { createRequire } = await import("node:module");
      const { dirname, sep } = await import("node:path");
      const file = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm");
      wasm.setWasmPaths(dirname(file) + sep);
      tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
      if (await tf.setBackend("wasm")) return;
    } catch (e) {
      if (wanted === "wasm")
        throw new QuiverError("UNSUPPORTED", "the wasm backend needs @tensorflow/tfjs-backend-wasm", { cause: e });
    }
    if (wanted === "wasm") throw new QuiverError("UNSUPPORTED", "the TensorFlow.js wasm backend did not start");
  }
  await tf.setBackend("cpu");
}

export interface OfflineImageEmbedderOptions {
  /**
   * Worker threads, each with its own copy of the network (about 250 MB), that embed parts of a
   * batch at once (TensorFlow.js's CPU backend uses one thread). Default: none, on the calling thread.
   */
  threads?: number;
  /** TensorFlow.js backend. Default: "wasm" when it is installed and starts, else "cpu". */
  backend?: OfflineImageBackend;
}

/** The offline image embedder; with `threads`, close() terminates its workers. */
export interface OfflineImageEmbedder extends ImageEmbedder {
  close(): Promise<void>;
}

type Pool = import("./worker-pool.js").WorkerPool<
  { images: RgbaImage[]; backend?: OfflineImageBackend },
  { dim: number; data: Float32Array }
>;

/**
 * @example
 * const e = offlineImageEmbedder({ threads: 2 });
 * const [a, b] = await e.embedImages([readFileSync("a.jpg"), readFileSync("b.png")]);
 * await e.close();
 */
export function offlineImageEmbedder(opts: OfflineImageEmbedderOptions = {}): OfflineImageEmbedder {
  let loading: Promise<Loaded> | null = null;
  let pool: Promise<Pool> | null = null;
  const threads = opts.threads;
  const onThisThread = async (images: ImageInput[], signal?: AbortSignal): Promise<Float32Array[]> => {
    loading ??= load(opts.backend).catch((e) => {
      loading = null;
      throw e;
    });
    const { tf, features, backend } = await loading;
    // The backend is TensorFlow.js's per-thread global: another embedder on this thread may have
    // switched it since (tfjs then moves the weights back on first use).
    if (tf.getBackend() !== backend) await tf.setBackend(backend);
    signal?.throwIfAborted();
    // Pixels scaled to [-1, 1], as Keras trained MobileNetV2's ImageNet layers (nsfwjs feeds [0, 1],
    // which suits its classifier head but made copies rank worse here); alpha dropped.
    const side = INPUT_SIZE;
    const input = new Float32Array(images.length * side * side * 3);
    images.forEach((image, n) => {
      const px = resizeRgba(toRgba(image, `images[${n}]`), side, side).data;
      const base = n * side * side * 3;
      for (let i = 0, o = base; i < side * side; i++, o += 3) {
        input[o] = px[i * 4] / 127.5 - 1;
        input[o + 1] = px[i * 4 + 1] / 127.5 - 1;
        input[o + 2] = px[i * 4 + 2] / 127.5 - 1;
      }
    });
    // Global average pooling over the 7 x 7 grid.
    const out = tf.tidy(() =>
      (features.predict(tf.tensor4d(input, [images.length, side, side, 3])) as import("@tensorflow/tfjs").Tensor).mean([
        1, 2,
      ]),
    );
    const flat = (await out.data()) as Float32Array;
    out.dispose();
    return images.map((_, n) => l2Normalize(flat.slice(n * DIM, (n + 1) * DIM)));
  };
  const onWorkers = async (images: ImageInput[], signal?: AbortSignal): Promise<Float32Array[]> => {
    pool ??= import("./worker-pool.js").then(
      ({ WorkerPool }) =>
        new WorkerPool(new URL("./image-worker.js", import.meta.url), threads ?? 1, "EMBEDDING_FAILED") as Pool,
    );
    const workers = await pool;
    // Decoded and shrunk here, so a worker gets 224 x 224 pixels and the parts are even.
    const small = images.map((im, n) => resizeRgba(toRgba(im, `images[${n}]`), INPUT_SIZE, INPUT_SIZE));
    const per = Math.ceil(small.length / workers.size);
    const parts = [];
    for (let at = 0; at < small.length; at += per) parts.push(small.slice(at, at + per));
    signal?.throwIfAborted();
    const results = await Promise.all(parts.map((part) => workers.run({ images: part, backend: opts.backend })));
    return results.flatMap(({ dim, data }) =>
      Array.from({ length: data.length / dim }, (_, i) => data.slice(i * dim, (i + 1) * dim)),
    );
  };
  return {
    id: OFFLINE_IMAGE_MODEL_ID,
    dim: DIM,
    maxBatch: 8 * Math.max(1, threads ?? 1),
    embedImages: (images, signal) => (threads ? onWorkers(images, signal) : onThisThread(images, signal)),
    async close() {
      await (await pool)?.close();
      pool = null;
    },
  };
}
