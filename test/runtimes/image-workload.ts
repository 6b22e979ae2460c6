/**
 * The image workload every runtime runs (image-child.ts under Node, Bun and Deno; image-page.ts in
 * Chromium; image-worker.ts in workerd): decode the three files (JPEG, PNG, WebP) with the portable
 * codecs and, when given an embedder, embed them with the offline MobileNet model. Answers what it
 * saw as plain JSON, so the test compares runtimes: each image's size and a hash of its RGBA bytes
 * (the decoders are deterministic, so these must be equal everywhere), and the vectors.
 */
import { decodeImage, type ImageEmbedder } from "../../src/images.js";

export const IMAGE_FILES = ["scene.jpg", "scene.png", "scene.webp"] as const;

export interface ImageWorkloadResult {
  decoded: { file: string; width: number; height: number; fnv: number }[];
  vectors?: number[][];
  backend?: string;
}

/** FNV-1a over the bytes: equal decodes give equal hashes. */
function fnv1a(bytes: ArrayLike<number>): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h;
}

export async function runImageWorkload(files: Uint8Array[], embedder?: ImageEmbedder): Promise<ImageWorkloadResult> {
  const decoded = [];
  for (const [i, bytes] of files.entries()) {
    const img = await decodeImage(bytes, IMAGE_FILES[i]);
    decoded.push({ file: IMAGE_FILES[i], width: img.width, height: img.height, fnv: fnv1a(img.data) });
  }
  if (!embedder) return { decoded };
  const vectors = await embedder.embedImages(files);
  return { decoded, vectors: vectors.map((v) => Array.from(v)) };
}
