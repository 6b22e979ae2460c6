/**
 * The runtime-neutral entry (`quiverdb/core`): the database, its types and errors, the in-memory
 * directory and the AI layer, with no `node:*` import and no npm dependency. Its `open()` takes a
 * Directory (or nothing, for memory) and only the text resources passed in `options.text`; the
 * Node and browser entries re-export all of this with their own `open()`.
 */
import type { TextPlugins } from "./core/analysis/analyzer.js";
import { type OpenDatabase, type OpenOptions, openOn } from "./open.js";
import type { Directory } from "./storage/directory.js";
import { MemoryDirectory } from "./storage/memory-directory.js";

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
  SparseVectorInput,
  SparseVectorOutput,
} from "./api/query.js";
export { denseOnly } from "./api/query.js";
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
  SparseVectorSpec,
  NamedVectorSpec,
  Metric,
  PayloadIndexType,
  TextFieldSpec,
} from "./core/schema/schema.js";
export { isSparseSpec } from "./core/schema/schema.js";
export { Deadline } from "./core/util/deadline.js";
export type { TextPlugins, AnalyzerName } from "./core/analysis/analyzer.js";
export { DEFAULT_LIMITS, type Limits } from "./api/limits.js";
export { describeDamage, type RecoveryReport, type Damage, type IfCorrupt } from "./database/recovery.js";
export { planRepair, applyRepair, type RepairPlan, type RepairAction } from "./database/repair.js";
export { QuiverError, ERROR_CATALOG, isQuiverError, type ErrorCode, type Problem } from "./core/errors/errors.js";
export type { Directory, WritableFile, DirectoryLock } from "./storage/directory.js";
export { MemoryDirectory } from "./storage/memory-directory.js";
// The AI-native layer: embedders, documents, memory, data quality (docs/ai.md).
export * from "./embed/index.js";
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

export type { OpenOptions, OpenDatabase } from "./open.js";

/** No stemmers or stop-word lists: the runtime-neutral entry brings none (see quiverdb/analyzers). */
const NO_TEXT_RESOURCES: TextPlugins = {};

/**
 * Opens the database stored in `dir`, or an in-memory one when none is given.
 * @example
 * import { open } from "quiverdb/core";
 * import { defaultTextPlugins } from "quiverdb/analyzers";
 * const db = await open(undefined, { text: defaultTextPlugins });
 */
export function open(dir?: Directory, options: OpenOptions = {}): Promise<OpenDatabase> {
  return openOn(dir ?? new MemoryDirectory(), options, NO_TEXT_RESOURCES);
}
