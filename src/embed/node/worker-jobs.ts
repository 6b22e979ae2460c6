/**
 * The worker side of an embedding pool (worker-pool.ts): each message `{ id, ...job }` is embedded by
 * the given function and answered `{ id, result: { dim, data } }` (the vectors row by row in one
 * transferred buffer) or `{ id, error: { code, message } }` (the catalog code kept when there is one).
 * The local model's and the image model's workers share it.
 */
import { parentPort } from "node:worker_threads";
import { isQuiverError } from "../../core/errors/errors.js";

export function answerEmbeddingJobs<J>(embed: (job: J) => Promise<ArrayLike<number>[]>): void {
  parentPort!.on("message", async ({ id, ...job }: { id: number } & J) => {
    try {
      const vectors = await embed(job as J);
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
}
