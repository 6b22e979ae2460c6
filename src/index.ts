/**
 * Quiver's package entry for Node.js: `open()` a database on a directory, or in memory.
 * Everything else is re-exported from the runtime-neutral modules.
 */
import { Database, type DatabaseOptions } from "./database/database.js";
import { NodeDirectory } from "./node/fs-directory.js";
import { MemoryDirectory } from "./storage/memory-directory.js";
import type { Directory } from "./storage/directory.js";
import { defaultTextPlugins } from "./analyzers/plugins.js";

export { Database, type DatabaseOptions, type DatabaseStats } from "./database/database.js";
export {
  Collection,
  type Filter,
  type QueryRequest,
  type QueryResult,
  type ScrollRequest,
  type ReadOptions,
} from "./database/collection.js";
export type { Hit, QueryPlan, RecordOutput } from "./database/reads.js";
export type { RecordInput } from "./database/validate.js";
export type {
  CollectionSchema,
  CollectionInfo,
  VectorSpec,
  Metric,
  PayloadIndexType,
  TextFieldSpec,
} from "./core/schema/schema.js";
export type { FusionRequest, CallOptions } from "./database/collection.js";
export { Deadline } from "./core/util/deadline.js";
export type { HitExplain, SourceExplain } from "./database/search.js";
export type { TextPlugins, AnalyzerName } from "./core/analysis/analyzer.js";
export { defaultTextPlugins } from "./analyzers/plugins.js";
export { DEFAULT_LIMITS, type Limits } from "./database/limits.js";
export type { RecoveryReport, Damage, IfCorrupt } from "./database/recovery.js";
export type { DatabaseApi, CollectionApi } from "./api/types.js";
export { QuiverError, ERROR_CATALOG, isQuiverError, type ErrorCode, type Problem } from "./core/errors/errors.js";
export type { Directory, WritableFile, DirectoryLock } from "./storage/directory.js";
export { MemoryDirectory } from "./storage/memory-directory.js";
export { NodeDirectory } from "./node/fs-directory.js";
// The AI-native layer: embedders, documents, memory, data quality (docs/ai.md). The local model loads lazily.
export * from "./embed/index.js";
export { localEmbedder, localModelAvailable, LOCAL_MODEL_ID } from "./embed/node/local-use.js";
export { readDocuments } from "./embed/node/files.js";
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

/**
 * Opens the database stored at `path` (created if missing), or an in-memory database when no
 * path is given. Only one process may have a directory open for writing at a time.
 * @example
 * const db = await open("./data");
 * const docs = await db.createCollection("docs", { vectors: { text: { dim: 384, metric: "cosine" } } });
 */
export async function open(path?: string | Directory, options: DatabaseOptions = {}): Promise<Database> {
  const dir = path === undefined ? new MemoryDirectory() : typeof path === "string" ? new NodeDirectory(path) : path;
  // English stemming and stop-word lists come from npm packages, so the core stays dependency-free.
  const text = {
    stemmers: { ...defaultTextPlugins.stemmers, ...options.text?.stemmers },
    stopWords: { ...defaultTextPlugins.stopWords, ...options.text?.stopWords },
  };
  return Database.openDirectory(dir, { ...options, text });
}
