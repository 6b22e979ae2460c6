/**
 * A worker thread of the local model's pool (local-use.ts): loads the model once, on its first job,
 * then embeds the batches it is sent. Answers `{ id, result: { dim, data } }` (the vectors, row by
 * row, in one transferred buffer) or `{ id, error: { code, message } }`.
 */
import { parentPort } from "node:worker_threads";
import { isQuiverError } from "../../core/errors/errors.js";
import { loadModel, type UseModel } from "./local-use.js";

let model: Promise<UseModel> | null = null;

parentPort!.on("message", async ({ id, texts }: { id: number; texts: string[] }) => {
  try {
    model ??= loadModel().catch((e) => {
      model = null; // a failed load is retried by the next job
      throw e;
    });
    const vectors = await (await model).embed(texts);
    const dim = vectors[0]?.length ?? 0;
    const data = new Float32Array(vectors.length * dim);
    vectors.forEach((v, i) => {
      data.set(v, i * dim);
    });
    parentPort!.postMessage({ id, result: { dim, data } }, [data.buffer]);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    parentPort!.postMessage({ id, error: { code: isQuiverError(e) ? e.code : undefined, message } });
  }
});
