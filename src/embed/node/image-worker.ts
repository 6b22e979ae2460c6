/**
 * A worker thread of the offline image embedder's pool (image-mobilenet.ts): builds the network once,
 * on its first job, then embeds the decoded images it is sent. Answers `{ id, result: { dim, data } }`
 * (the vectors row by row in one transferred buffer) or `{ id, error: { code, message } }`.
 */
import { parentPort } from "node:worker_threads";
import { isQuiverError } from "../../core/errors/errors.js";
import type { RgbaImage } from "../image.js";
import { offlineImageEmbedder, type OfflineImageBackend } from "./image-mobilenet.js";

// One embedder per backend asked for (the pool's owner always asks for the same one).
const embedders = new Map<string, ReturnType<typeof offlineImageEmbedder>>();

parentPort!.on(
  "message",
  async ({ id, images, backend }: { id: number; images: RgbaImage[]; backend?: OfflineImageBackend }) => {
    try {
      const key = backend ?? "default";
      if (!embedders.has(key)) embedders.set(key, offlineImageEmbedder({ backend }));
      const vectors = await embedders.get(key)!.embedImages(images);
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
  },
);
