/**
 * Quiver's package entry for Node.js, Bun and Deno: `open()` a database on a directory, or in memory,
 * with every analyzer language loaded. Everything else is re-exported from the runtime-neutral entry.
 */
import { defaultTextPlugins } from "./analyzers/plugins.js";
import { mustBeFolder, NodeDirectory } from "./node/fs-directory.js";
import { type OpenDatabase, type OpenOptions, openOn } from "./open.js";
import type { Directory } from "./storage/directory.js";
import { QuiverError } from "./core/errors/errors.js";
import { NodeSearchThreads } from "./node/search-threads.js";
import { MemoryDirectory } from "./storage/memory-directory.js";
import type { InputHook } from "./database/collection.js";
import type { ImageEmbedder } from "./embed/image.js";
import { withImageQueries } from "./embed/image-query.js";
import { installWasmCrc32c } from "./core/util/crc32c-wasm.js";
import { heapAdmission } from "./node/heap-usage.js";

export * from "./neutral.js";
export { defaultTextPlugins } from "./analyzers/plugins.js";
export { NodeDirectory } from "./node/fs-directory.js";
export { NodeSearchThreads, defaultThreadCount } from "./node/search-threads.js";
// The local model loads lazily, and only here: it reads its weights from node_modules.
export { localEmbedder, localModelAvailable, LOCAL_MODEL_ID } from "./embed/node/local-use.js";
// Images (docs/images.md): the model loads on first use, libwebp on the first WebP; `quiverdb/images` is the entry for other runtimes.
export { offlineImageEmbedder, OFFLINE_IMAGE_MODEL_ID } from "./embed/node/image-mobilenet.js";
export {
  transformersImageEmbedder,
  type TransformersImageEmbedder,
  type TransformersImageEmbedderOptions,
  type TransformersDtype,
} from "./embed/node/image-transformers.js";
export { decodeImage, encodeJpeg, encodePng, thumbnailDataUrl } from "./embed/node/image-codec.js";
export {
  ingestImages,
  imageSchema,
  isImageCollection,
  type ImageIngestOptions,
  type ImageIngestReport,
  type ImagePayload,
} from "./embed/node/image-ingest.js";
export {
  readDocuments,
  scanDocuments,
  skippedSummary,
  type ScanOptions,
  type SkippedFile,
} from "./embed/node/files.js";

/** open()'s options in Node, Bun and Deno: the shared ones, and search threads. */
export interface NodeOpenOptions extends OpenOptions {
  /**
   * Worker threads that run the graph searches of queries, so that concurrent queries use several
   * cores (0, the default: every query on the calling thread). Vector memories become shared
   * WebAssembly memories; writes wait for the searches in flight and hold new ones while they change a
   * graph. `defaultThreadCount()` is the number of cores. docs/threads.md.
   */
  threads?: number;
  /**
   * With `threads`: the calling thread also runs queued graph searches while it would otherwise wait
   * for the threads (default false: every search in a thread). docs/threads.md.
   */
  callerSearches?: boolean;
  /**
   * Image embedders (docs/images.md): a query of an image collection by words (`vector: { image: "..." }`,
   * CLIP-style models) or by a picture (`vector: { image: { base64 } }`) is embedded by the one whose id
   * the collection's records carry. `quiver serve` and `quiver mcp` pass every configured one.
   */
  imageEmbedders?: Record<string, ImageEmbedder>;
}

/**
 * Opens the database stored at `path` (created if missing), or an in-memory database when no
 * path is given. Only one process may have a directory open for writing at a time; with
 * `{ readOnly: true }` any number of readers may open it beside that writer (docs/readers.md).
 * @example
 * const db = await open("./data");
 * const docs = await db.createCollection("docs", { vectors: { text: { dim: 384, metric: "cosine" } } });
 * @example
 * const reader = await open("./data", { readOnly: true }); // while `quiver serve --db ./data` runs
 * @example
 * const served = await open("./data", { threads: 2 }); // queries' graph searches on two worker threads
 */
export async function open(path?: string | Directory, options: NodeOpenOptions = {}): Promise<OpenDatabase> {
  const { threads = 0, callerSearches, ...rest } = options;
  if (!Number.isInteger(threads) || threads < 0 || threads > 256) {
    throw new QuiverError("INVALID_ARGUMENT", `threads must be an integer in [0, 256], got ${String(threads)}`);
  }
  if (threads > 0 && typeof SharedArrayBuffer === "undefined") {
    throw new QuiverError("UNSUPPORTED", "threads need SharedArrayBuffer, which this runtime lacks; open without them");
  }
  if (threads === 0) return openHere(path, rest);
  const searchThreads = new NodeSearchThreads(threads, { callerSearches });
  try {
    return await openHere(path, { ...rest, searchThreads });
  } catch (e) {
    // The database stops its threads at close; one that never opened stops them here.
    await searchThreads.close();
    throw e;
  }
}

async function openHere(path: string | Directory | undefined, options: NodeOpenOptions): Promise<OpenDatabase> {
  // A reader creates nothing, not even the folder.
  if (options.readOnly && typeof path === "string") await mustBeFolder(path);
  const dir = path === undefined ? new MemoryDirectory() : typeof path === "string" ? new NodeDirectory(path) : path;
  // An open checksums every byte it reads: the WebAssembly CRC32C halves that (crc32c-wasm.ts).
  installWasmCrc32c();
  // English stemming and stop-word lists come from npm packages, so the core stays dependency-free.
  const { imageEmbedders, ...rest } = options;
  const images = imageEmbedders && ((registry: InputHook) => withImageQueries(registry, imageEmbedders));
  // A write that adds records is refused while the heap is nearly full, rather than the process dying.
  return openOn(dir, { admitRecords: heapAdmission(), ...rest }, defaultTextPlugins, images);
}
