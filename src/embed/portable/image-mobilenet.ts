/**
 * The offline image embedder in any runtime: the MobileNetV2 network whose weights the `nsfwjs` npm
 * package ships inside itself (no download at run time), run by TensorFlow.js on the calling thread,
 * on its WebAssembly SIMD backend when `wasmPaths` says where @tensorflow/tfjs-backend-wasm's .wasm
 * files are (Node's adapter passes the package's folder; a page passes the URL it serves them at;
 * about 18 times the speed of the CPU backend), else on the pure-JavaScript CPU backend. The vector is
 * the last bottleneck block's output (`block_16_project_BN`, 320 channels) averaged over the 7 x 7
 * grid and L2-normalised: an image-to-image embedder (copies, similar pictures), with no text side.
 * Loaded on first use. Node's worker threads are in src/embed/node/image-mobilenet.ts.
 */
import { QuiverError } from "../../core/errors/errors.js";
import { l2Normalize, resizeRgba, type ImageEmbedder, type ImageInput, type RgbaImage } from "../image.js";
import { toRgba } from "./image-codec.js";

/** Names the layer and the pixel scaling: vectors made otherwise are not comparable with these. */
export const OFFLINE_IMAGE_MODEL_ID = "nsfwjs:mobilenet_v2:block_16_project:avg";
/** The network's fixed input side (its last pooling layer expects a 7 x 7 grid). */
export const OFFLINE_INPUT_SIZE = 224;
/**
 * Blocks 0 to 10 are ImageNet's frozen weights and nsfwjs fine-tuned the rest to sort five content
 * classes; its own 1,280-d pooled layer (`flatten_1`) is a post-ReLU output shaped by that task,
 * on which every drawn scene looked alike (bench/RESULTS.md). The last linear projection keeps
 * signed, more general features: on the bench's scenes it finds more copies and more of a class.
 */
const FEATURE_LAYER = "block_16_project_BN";
export const OFFLINE_IMAGE_DIM = 320;

export type OfflineImageBackend = "wasm" | "cpu";

export interface PortableImageEmbedderOptions {
  /** TensorFlow.js backend. Default: "wasm" when `wasmPaths` is given and it starts, else "cpu". */
  backend?: OfflineImageBackend;
  /**
   * Where tfjs-backend-wasm's .wasm files are: a folder or URL prefix ending in `/`, or a map of
   * file name to URL (tfjs's `setWasmPaths`). A page serves the package's `dist/*.wasm` and names them.
   */
  wasmPaths?: string | Record<string, string>;
}

type Tf = typeof import("@tensorflow/tfjs");
interface Loaded {
  tf: Tf;
  backend: OfflineImageBackend;
  features: import("@tensorflow/tfjs").LayersModel;
}

function base64Bytes(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
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
    for (const path of group.paths) parts.push(base64Bytes(shards[path]));
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

/**
 * The wasm backend when asked for or when its files are located, else the CPU backend. Its threaded
 * variant is turned off: it starts workers from blob: URLs, which Node refuses; parallelism comes
 * from the Node adapter's own worker threads instead.
 */
async function useBackend(tf: Tf, opts: PortableImageEmbedderOptions): Promise<void> {
  const wanted = opts.backend ?? (opts.wasmPaths ? "wasm" : "cpu");
  if (wanted === "wasm") {
    try {
      const wasm = await import("@tensorflow/tfjs-backend-wasm");
      if (opts.wasmPaths) wasm.setWasmPaths(opts.wasmPaths);
      tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
      if (await tf.setBackend("wasm")) return;
    } catch (e) {
      if (opts.backend === "wasm")
        throw new QuiverError("UNSUPPORTED", "the wasm backend needs @tensorflow/tfjs-backend-wasm", { cause: e });
    }
    if (opts.backend === "wasm") throw new QuiverError("UNSUPPORTED", "the TensorFlow.js wasm backend did not start");
  }
  await tf.setBackend("cpu");
}

async function load(opts: PortableImageEmbedderOptions): Promise<Loaded> {
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
  await useBackend(tf, opts);
  const model = await tf.loadLayersModel(tf.io.fromMemory(await artifacts()));
  const features = tf.model({ inputs: model.inputs, outputs: model.getLayer(FEATURE_LAYER).output });
  return { tf, features, backend: tf.getBackend() as OfflineImageBackend };
}

/** Decodes (when needed) and shrinks each input to the network's 224 x 224 input. */
export async function networkInputs(images: ImageInput[]): Promise<RgbaImage[]> {
  const out: RgbaImage[] = [];
  for (const [n, image] of images.entries())
    out.push(resizeRgba(await toRgba(image, `images[${n}]`), OFFLINE_INPUT_SIZE, OFFLINE_INPUT_SIZE));
  return out;
}

/**
 * The offline image embedder on the calling thread, in any runtime.
 * @example
 * const e = portableImageEmbedder({ wasmPaths: "/tfjs-wasm/" });
 * const [v] = await e.embedImages([new Uint8Array(await (await fetch("cat.jpg")).arrayBuffer())]);
 */
export function portableImageEmbedder(opts: PortableImageEmbedderOptions = {}): ImageEmbedder {
  let loading: Promise<Loaded> | null = null;
  return {
    id: OFFLINE_IMAGE_MODEL_ID,
    dim: OFFLINE_IMAGE_DIM,
    maxBatch: 8,
    async embedImages(images, signal) {
      loading ??= load(opts).catch((e) => {
        loading = null;
        throw e;
      });
      const { tf, features, backend } = await loading;
      // The backend is TensorFlow.js's per-thread global: another embedder on this thread may have
      // switched it since (tfjs then moves the weights back on first use).
      if (tf.getBackend() !== backend) await tf.setBackend(backend);
      const pixels = await networkInputs(images);
      signal?.throwIfAborted();
      // Pixels scaled to [-1, 1], as Keras trained MobileNetV2's ImageNet layers (nsfwjs feeds [0, 1],
      // which suits its classifier head but made copies rank worse here); alpha dropped.
      const side = OFFLINE_INPUT_SIZE;
      const input = new Float32Array(images.length * side * side * 3);
      pixels.forEach(({ data: px }, n) => {
        for (let i = 0, o = n * side * side * 3; i < side * side; i++, o += 3) {
          input[o] = px[i * 4] / 127.5 - 1;
          input[o + 1] = px[i * 4 + 1] / 127.5 - 1;
          input[o + 2] = px[i * 4 + 2] / 127.5 - 1;
        }
      });
      // Global average pooling over the 7 x 7 grid.
      const out = tf.tidy(() =>
        (
          features.predict(tf.tensor4d(input, [images.length, side, side, 3])) as import("@tensorflow/tfjs").Tensor
        ).mean([1, 2]),
      );
      const flat = (await out.data()) as Float32Array;
      out.dispose();
      return images.map((_, n) => l2Normalize(flat.slice(n * OFFLINE_IMAGE_DIM, (n + 1) * OFFLINE_IMAGE_DIM)));
    },
  };
}
