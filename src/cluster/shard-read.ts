/**
 * The reads a router asks of one shard's replica, as plain JSON (they travel between nodes), and
 * how a replica runs them on its embedded collection. A text query is two reads: `textStats` (the
 * shard's BM25 statistics for the query's terms), then `query` with the statistics summed over
 * every shard, so each shard scores as one node holding the whole collection would. A z-score or
 * min-max fused query also asks each shard for its `fusion` parts: statistics, then missing scores.
 */
import type { Filter, QueryRequest } from "../api/query.js";
import type { ReadOptions, ScrollRequest } from "../api/types.js";
import type { TermStats } from "../core/index/bm25/term-stats.js";
import type { Collection } from "../database/collection.js";
import type { ScoresWanted } from "../database/fusion-parts.js";

export type ShardRead =
  | { kind: "query"; request: QueryRequest; textStats?: TermStats }
  | { kind: "textStats"; text: string; fields?: string[] }
  | { kind: "fusion"; request: QueryRequest; textStats?: TermStats; wanted?: ScoresWanted }
  | { kind: "get"; ids: string[]; options?: ReadOptions }
  | { kind: "count"; filter?: Filter }
  | { kind: "scroll"; request: ScrollRequest };

export async function runShardRead(collection: Collection, read: ShardRead): Promise<unknown> {
  switch (read.kind) {
    case "query":
      return collection.query(read.request, { textStats: read.textStats });
    case "fusion":
      return collection.fusionParts(read.request, { textStats: read.textStats }, read.wanted);
    case "textStats":
      return collection.textStatistics(read.text, read.fields);
    case "get":
      return collection.get(read.ids, read.options);
    case "count":
      return collection.count(read.filter);
    case "scroll":
      return collection.scroll(read.request);
  }
}
