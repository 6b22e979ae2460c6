/**
 * Where things live in a cluster, computed, never stored: which shard an id belongs to (a stable
 * hash), which nodes serve a shard (rendezvous hashing over the live members), and the names of a
 * collection's catalog entry and shard logs. Pure: every node computes the same answers from the
 * same inputs, so no balancer keeps assignment state.
 */
import type { CollectionSchema } from "../core/schema/schema.js";

/**
 * A sharded collection as the Catalog stores it under `collections/<name>`. `generation` is the
 * Catalog version at creation: shard logs are named with it, so a collection dropped and created
 * again under the same name starts from empty logs.
 */
export interface ShardedCollection {
  name: string;
  schema: CollectionSchema;
  shards: number;
  generation: number;
  /** Set by dropCollection; the entry stays (the Catalog has no delete) so names can be reused. */
  dropped?: boolean;
}

/** The most shards a collection may have (each is a log, a lease and a replica per query node). */
export const MAX_SHARDS = 256;

export const collectionKey = (name: string): string => `collections/${name}`;

/** The CommitLog (and Lease) name of one shard: `shards/<collection>/<generation>/<shard>`. */
export const shardLog = (c: Pick<ShardedCollection, "name" | "generation">, shard: number): string =>
  `shards/${c.name}/${c.generation}/${shard}`;

const utf8 = new TextEncoder();

/**
 * FNV-1a (32-bit) over the UTF-8 bytes of `text`, then murmur3's finalizer so that nearby inputs
 * ("doc-1", "doc-2") spread over all 32 bits. Stable across runtimes and releases: changing it would
 * move every id of every collection, so it is part of the storage format.
 */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of utf8.encode(text)) h = Math.imul(h ^ byte, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The shard of a record id: `stableHash(id) mod shards`. */
export function shardOf(id: string, shards: number): number {
  return stableHash(id) % shards;
}

/**
 * `nodes` ranked for `key` by rendezvous (highest random weight) hashing: each node's weight is
 * `stableHash(node + "\n" + key)`, best first, ties by name. Adding or removing a node moves only
 * the keys whose top choices change, about 1/n of them.
 */
export function rendezvous(key: string, nodes: readonly string[]): string[] {
  return nodes
    .map((node) => ({ node, weight: stableHash(`${node}\n${key}`) }))
    .sort((a, b) => b.weight - a.weight || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
    .map((x) => x.node);
}

/** Groups items by the shard of their id, keeping their order within each shard. */
export function groupByShard<T>(items: readonly T[], idOf: (item: T) => string, shards: number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const shard = shardOf(idOf(item), shards);
    const group = groups.get(shard);
    if (group) group.push(item);
    else groups.set(shard, [item]);
  }
  return groups;
}
