/**
 * A worker thread of the offline image embedder's pool (image-mobilenet.ts): builds the network once,
 * on its first job, then embeds the decoded images it is sent. Answers `{ id, result: { dim, data } }`
 * (the vectors row by row in one transferred buffer) or `{ id, error: { code, message } }`.
 */
import type { RgbaImage } from "../image.js";
import { offlineImageEmbedder, type OfflineImageBackend } from "./image-mobilenet.js";
import { answerEmbeddingJobs } from "./worker-jobs.js";

// One embedder per backend asked for (the pool's owner always asks for the same one).
const embedders = new Map<string, ReturnType<typeof offlineImageEmbedder>>();

answerEmbeddingJobs(async ({ images, backend }: { images: RgbaImage[]; backend?: OfflineImageBackend }) => {
  const key = backend ?? "default";
  if (!embedders.has(key)) embedders.set(key, offlineImageEmbedder({ backend }));
  return embedders.get(key)!.embedImages(images);
});
