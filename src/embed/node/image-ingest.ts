/**
 * Image collections: folders of JPEG and PNG files stored one record per image, its id the file's
 * path under the folder given (`documentId`, as for documents), its vector from an ImageEmbedder,
 * and a privacy-respecting payload: file name, size, pixel dimensions, a content hash and a 64 px
 * JPEG thumbnail (no EXIF: camera, place and time never leave the file). Batch by batch; a file
 * whose hash and embedder are already stored is neither decoded nor embedded again, so an
 * interrupted ingest resumes where it stopped.
 */
import { readFile } from "node:fs/promises";
import { basename, extname, sep } from "node:path";
import type { CollectionApi } from "../../api/types.js";
import { QuiverError } from "../../core/errors/errors.js";
import type { CollectionSchema } from "../../core/schema/schema.js";
import { contentHash } from "../cache.js";
import { imageEmbeddingFailed, type ImageEmbedder, type RgbaImage } from "../image.js";
import { isImageCollection } from "../image-collection.js";
import { storedImageEmbedder } from "../image-query.js";

export { isImageCollection } from "../image-collection.js";
export { storedImageEmbedder } from "../image-query.js";
import { listFiles, type ScanOptions, type SkippedFile } from "./files.js";
import { decodeImage, thumbnailDataUrl } from "./image-codec.js";

/** The extensions an image ingest reads. */
const IMAGE_EXTENSIONS = new Set([".jpg", ".jpeg", ".png", ".webp"]);

export function isImageFile(path: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(path).toLowerCase());
}

/** The payload of every image record. */
export interface ImagePayload {
  documentId: string;
  source: string;
  fileName: string;
  bytes: number;
  width: number;
  height: number;
  /** Hex SHA-256 of the file's bytes. */
  imageHash: string;
  /** The ImageEmbedder id that made the vector. */
  embedder: string;
  /** `data:image/jpeg;base64,...`, at most 64 x 64 px. */
  thumbnail: string;
}

/** The schema of an image collection: one cosine vector `image`; the `imageHash` index marks the kind. */
export function imageSchema(dim: number): CollectionSchema {
  return {
    vectors: { image: { dim, metric: "cosine" } },
    indexes: { documentId: "keyword", imageHash: "keyword", source: "keyword", embedder: "keyword" },
  };
}

export interface ImageIngestOptions extends Pick<ScanOptions, "include" | "exclude"> {
  embedder: ImageEmbedder;
  /** Images per embedding call and upsert (default: the embedder's maxBatch, else 16). */
  batch?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface ImageIngestReport {
  images: number;
  /** Already stored with the same bytes and embedder: not read further. */
  unchanged: number;
  embedded: number;
  /** Files that are not readable images, with the reason (the ingest goes on without them). */
  unreadable: SkippedFile[];
  /** Entries the folder walk left out, with the reason. */
  skipped: SkippedFile[];
}

/**
 * Ingests the images under `paths` into an image collection (see imageSchema).
 * @example
 * const coll = await db.createCollection("photos", imageSchema(320));
 * const report = await ingestImages(coll, ["./photos"], { embedder: offlineImageEmbedder() });
 */
export async function ingestImages(
  coll: CollectionApi,
  paths: string[],
  opts: ImageIngestOptions,
): Promise<ImageIngestReport> {
  if (!isImageCollection(coll.schema))
    throw new QuiverError("INVALID_ARGUMENT", `collection "${coll.name}" is not an image collection`);
  const embedder = opts.embedder;
  const dim = coll.schema.vectors.image.dim;
  if (embedder.dim !== undefined && embedder.dim !== dim)
    throw QuiverError.fromProblems("DIMENSION_MISMATCH", [
      {
        path: "embedder",
        message: `${embedder.id} makes ${embedder.dim}-d vectors; "${coll.name}" holds ${dim}-d ones`,
      },
    ]);
  const stored = await storedImageEmbedder(coll);
  if (stored !== null && stored !== embedder.id)
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      {
        path: "embedder",
        message: `"${coll.name}" holds vectors of ${stored}; ${embedder.id} would make incomparable ones`,
      },
    ]);
  const { files, skipped } = await listFiles(paths, { ...opts, accept: isImageFile });
  const report: ImageIngestReport = { images: files.length, unchanged: 0, embedded: 0, unreadable: [], skipped };
  const size = opts.batch ?? embedder.maxBatch ?? 16;
  for (let at = 0; at < files.length; at += size) {
    opts.signal?.throwIfAborted();
    const batch = files.slice(at, at + size);
    const known = new Map((await coll.get(batch.map((f) => f.id))).map((r) => [r.id, r.payload?.imageHash]));
    const fresh: { id: string; payload: Omit<ImagePayload, "embedder">; pixels: RgbaImage }[] = [];
    for (const f of batch) {
      const bytes = new Uint8Array(await readFile(f.file));
      const imageHash = await contentHash(bytes);
      if (known.get(f.id) === imageHash) {
        report.unchanged++;
        continue;
      }
      let pixels: RgbaImage;
      try {
        pixels = await decodeImage(bytes, f.file);
      } catch (e) {
        report.unreadable.push({ path: f.file, reason: e instanceof QuiverError ? e.problems[0]?.message : String(e) });
        continue;
      }
      const payload = {
        documentId: f.id,
        source: f.file.split(sep).join("/"),
        fileName: basename(f.file),
        bytes: bytes.length,
        width: pixels.width,
        height: pixels.height,
        imageHash,
        thumbnail: thumbnailDataUrl(pixels),
      };
      fresh.push({ id: f.id, payload, pixels });
    }
    if (fresh.length > 0) {
      const vectors = await embedder
        .embedImages(
          fresh.map((f) => f.pixels),
          opts.signal,
        )
        .catch((e: unknown) => {
          throw opts.signal?.aborted ? e : imageEmbeddingFailed(e, embedder.id);
        });
      report.embedded += fresh.length;
      await coll.upsert(
        fresh.map((f, i) => ({
          id: f.id,
          vectors: { image: vectors[i] },
          payload: { ...f.payload, embedder: embedder.id },
        })),
      );
    }
    opts.onProgress?.(Math.min(at + size, files.length), files.length);
  }
  return report;
}
