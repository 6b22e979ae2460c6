/**
 * Quiver's package entry for Node.js: `open()` a database on a directory, or in memory.
 * Everything else is re-exported from the runtime-neutral modules.
 */
import { Database, type DatabaseOptions } from "./database/database.js";
import { mustBeFolder, NodeDirectory } from "./node/fs-directory.js";
import { MemoryDirectory } from "./storage/memory-directory.js";
import type { Directory } from "./storage/directory.js";
import { defaultTextPlugins } from "./analyzers/plugins.js";
import { EmbedderRegistry } from "./embed/bind.js";
import type { Embedder } from "./embed/embedder.js";

export { Database, type DatabaseOptions } from "./database/database.js";
export { Collection } from "./database/collection.js";
export type {
  Filter,
  QueryRequest,
  QueryResult,
  FusionRequest,
  Hit,
  HitExplain,
  SourceExplain,
  QueryPlan,
  RecordOutput,
} from "./api/query.js";
export type {
  DatabaseApi,
  CollectionApi,
  DatabaseStats,
  VectorStats,
  RecordInput,
  ReadOptions,
  ScrollRequest,
  CallOptions,
} from "./api/types.js";
export type {
  CollectionSchema,
  CollectionInfo,
  VectorSpec,
  Metric,
  PayloadIndexType,
  TextFieldSpec,
} from "./core/schema/schema.js";
export { Deadline } from "./core/util/deadline.js";
export type { TextPlugins, AnalyzerName } from "./core/analysis/analyzer.js";
export { defaultTextPlugins } from "./analyzers/plugins.js";
export { DEFAULT_LIMITS, type Limits } from "./api/limits.js";
export { describeDamage, type RecoveryReport, type Damage, type IfCorrupt } from "./database/recovery.js";
export { planRepair, applyRepair, type RepairPlan, type RepairAction } from "./database/repair.js";
export { QuiverError, ERROR_CATALOG, isQuiverError, type ErrorCode, type Problem } from "./core/errors/errors.js";
export type { Directory, WritableFile, DirectoryLock } from "./storage/directory.js";
export { MemoryDirectory } from "./storage/memory-directory.js";
export { NodeDirectory } from "./node/fs-directory.js";
// The AI-native layer: embedders, documents, memory, data quality (docs/ai.md). The local model loads lazily.
export * from "./embed/index.js";
export { localEmbedder, localModelAvailable, LOCAL_MODEL_ID } from "./embed/node/local-use.js";
// Images (docs/images.md): the codecs and the offline model load on first use.
export { offlineImageEmbedder, OFFLINE_IMAGE_MODEL_ID } from "./embed/node/image-mobilenet.js";
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
export {
  MemoryStore,
  type MemoryOptions,
  type MemoryScope,
  type MemoryRecord,
  type RememberInput,
  type RememberResult,
  type RecallOptions,
  type RecallHit,
} from "./memory/memory.js";
export { doctor, type DoctorOptions, type DoctorReport } from "./quality/report.js";
export {
  analyzeQuality,
  formatFindings,
  type QualityFindings,
  type QualityOptions,
  type Finding,
} from "./quality/analyze.js";

export interface OpenOptions extends DatabaseOptions {
  /**
   * Embedders that vectors can be bound to by name in a schema (`{ embedder: "local" }`), so
   * upsert and query accept text. Only these are ever used: a schema or request names one, never loads one.
   */
  embedders?: Record<string, Embedder>;
}

/** A database opened by `open()`: with the embedders its schemas can bind to. */
export type OpenDatabase = Database & {
  /** The embedders schemas can bind to; `db.embedders.set(name, embedder)` adds one after opening. */
  readonly embedders: EmbedderRegistry;
};

/**
 * Opens the database stored at `path` (created if missing), or an in-memory database when no
 * path is given. Only one process may have a directory open for writing at a time; with
 * `{ readOnly: true }` any number of readers may open it beside that writer (docs/readers.md).
 * @example
 * const db = await open("./data");
 * const docs = await db.createCollection("docs", { vectors: { text: { dim: 384, metric: "cosine" } } });
 * @example
 * const reader = await open("./data", { readOnly: true }); // while `quiver serve --db ./data` runs
 */
export async function open(path?: string | Directory, options: OpenOptions = {}): Promise<OpenDatabase> {
  // A reader creates nothing, not even the folder.
  if (options.readOnly && typeof path === "string") await mustBeFolder(path);
  const dir = path === undefined ? new MemoryDirectory() : typeof path === "string" ? new NodeDirectory(path) : path;
  // English stemming and stop-word lists come from npm packages, so the core stays dependency-free.
  const text = {
    stemmers: { ...defaultTextPlugins.stemmers, ...options.text?.stemmers },
    stopWords: { ...defaultTextPlugins.stopWords, ...options.text?.stopWords },
  };
  // The AI layer is built on the database, not inside it: its registry is the database's input hook.
  const embedders = new EmbedderRegistry(options.embedders);
  const db = await Database.openDirectory(dir, { ...options, text, inputHook: embedders });
  return Object.assign(db, { embedders });
}
