/**
 * A worker thread of the offline image embedder's pool (image-mobilenet.ts): builds the network once,
 * on its first job, then embeds the decoded images it is sent. Answers `{ id, result: { dim, data } }`
 * (the vectors row by row in one transferred buffer) or `{ id, error: { code, message } }`.
 */
import { parentPort } from "node:worker_threads";
import { isQuiverError } from "../../core/errors/errors.js";
import type { RgbaImage } from "../image.js";
import { offlineImageEmbedder } from "./image-mobilenet.js";

const embedder = offlineImageEmbedder();

parentPort!.on("message", async ({ id, images }: { id: number; images: RgbaImage[] }) => {
  try {
    const vectors = await embedder.embedImages(images);
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
