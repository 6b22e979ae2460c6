/**
 * The offline image embedder on Node (and Bun, Deno): the portable MobileNetV2 embedder
 * (src/embed/portable/image-mobilenet.ts) with TensorFlow.js's wasm backend read from the
 * @tensorflow/tfjs-backend-wasm package's folder, and, with `threads`, a pool of worker threads that
 * each hold a copy of the network and embed part of a batch (TensorFlow.js runs one thread each).
 */
import { dirname, sep } from "node:path";
import { createRequire } from "node:module";
import type { ImageEmbedder, ImageInput, RgbaImage } from "../image.js";
import {
  networkInputs,
  OFFLINE_IMAGE_DIM,
  OFFLINE_IMAGE_MODEL_ID,
  portableImageEmbedder,
  type OfflineImageBackend,
} from "../portable/image-mobilenet.js";
// Imported for its effect too: libwebp's WebAssembly read from its package on Node.
import "./image-codec.js";

export { OFFLINE_IMAGE_MODEL_ID, type OfflineImageBackend } from "../portable/image-mobilenet.js";

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

/** tfjs-backend-wasm's dist folder (its .wasm files are read from there, never fetched), or undefined when not installed. */
function wasmFolder(): string | undefined {
  try {
    const file = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm");
    return dirname(file) + sep;
  } catch {
    return undefined;
  }
}

/**
 * @example
 * const e = offlineImageEmbedder({ threads: 2 });
 * const [a, b] = await e.embedImages([readFileSync("a.jpg"), readFileSync("b.png")]);
 * await e.close();
 */
export function offlineImageEmbedder(opts: OfflineImageEmbedderOptions = {}): OfflineImageEmbedder {
  const threads = opts.threads;
  let onThisThread: ImageEmbedder | undefined;
  let pool: Promise<Pool> | null = null;
  const onWorkers = async (images: ImageInput[], signal?: AbortSignal): Promise<Float32Array[]> => {
    pool ??= import("./worker-pool.js").then(
      ({ WorkerPool }) =>
        new WorkerPool(new URL("./image-worker.js", import.meta.url), threads ?? 1, "EMBEDDING_FAILED") as Pool,
    );
    const workers = await pool;
    // Decoded and shrunk here, so a worker gets 224 x 224 pixels and the parts are even.
    const small = await networkInputs(images);
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
    dim: OFFLINE_IMAGE_DIM,
    maxBatch: 8 * Math.max(1, threads ?? 1),
    embedImages(images, signal) {
      if (threads) return onWorkers(images, signal);
      onThisThread ??= portableImageEmbedder({
        backend: opts.backend,
        wasmPaths: opts.backend === "cpu" ? undefined : wasmFolder(),
      });
      return onThisThread.embedImages(images, signal);
    },
    async close() {
      await (await pool)?.close();
      pool = null;
    },
  };
}
