/**
 * The reads a router asks of one shard's replica, as plain JSON (they travel between nodes), and
 * how a replica runs them on its embedded collection.
 */
import type { QueryRequest } from "../api/query.js";
import type { CollectionApi, ReadOptions, ScrollRequest } from "../api/types.js";
import type { Filter } from "../api/query.js";

export type ShardRead =
  | { kind: "query"; request: QueryRequest }
  | { kind: "get"; ids: string[]; options?: ReadOptions }
  | { kind: "count"; filter?: Filter }
  | { kind: "scroll"; request: ScrollRequest };

export function runShardRead(collection: CollectionApi, read: ShardRead): Promise<unknown> {
  switch (read.kind) {
    case "query":
      return collection.query(read.request);
    case "get":
      return collection.get(read.ids, read.options);
    case "count":
      return collection.count(read.filter);
    case "scroll":
      return collection.scroll(read.request);
  }
}
