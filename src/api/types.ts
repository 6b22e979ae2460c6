/**
 * The one public API as interfaces: what the embedded `Database` / `Collection` classes offer and
 * what the HTTP client (`quiver/client`) implements, so code and tests can be written against either.
 */
import type { DatabaseStats } from "../database/database.js";
import type {
  CallOptions,
  Filter,
  QueryRequest,
  QueryResult,
  ReadOptions,
  ScrollRequest,
} from "../database/collection.js";
import type { RecordOutput } from "../database/reads.js";
import type { RecordInput } from "../database/validate.js";
import type { CollectionInfo, CollectionSchema } from "../core/schema/schema.js";

/**
 * One collection. The request and result types are the embedded ones, so options the database
 * gains (text or hybrid queries, say) are part of this interface the moment they are declared there.
 */
export interface CollectionApi {
  readonly name: string;
  /** The collection's schema as it was when the handle was obtained. */
  readonly schema: CollectionSchema;
  upsert(records: RecordInput[]): Promise<{ upserted: number }>;
  delete(ids: string[]): Promise<{ deleted: number }>;
  /** `call.deadline` (in-process only, see CallOptions) bounds the reads and the choice of what to delete. */
  deleteByFilter(filter: Filter, call?: CallOptions): Promise<{ deleted: number }>;
  get(ids: string[], opts?: ReadOptions): Promise<RecordOutput[]>;
  count(filter?: Filter, call?: CallOptions): Promise<number>;
  scroll(req?: ScrollRequest, call?: CallOptions): Promise<{ records: RecordOutput[]; nextCursor: string | null }>;
  query(req: QueryRequest, call?: CallOptions): Promise<QueryResult>;
}

/** A database: embedded (`open()`) or remote (`connect()` from `quiver/client`). */
export interface DatabaseApi {
  createCollection(name: string, schema: CollectionSchema, opts?: { ifNotExists?: boolean }): Promise<CollectionApi>;
  collection(name: string): Promise<CollectionApi>;
  listCollections(): Promise<CollectionInfo[]>;
  dropCollection(name: string): Promise<boolean>;
  stats(): Promise<DatabaseStats>;
  checkpoint(): Promise<void>;
  /** Embedded: flushes and releases the directory. Remote: ends this client (the server keeps running). */
  close(): Promise<void>;
}
