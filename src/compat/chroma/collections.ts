/**
 * Chroma collections <-> Quiver collections. A Chroma collection's id is a UUID derived from its
 * name (stable across restarts, nothing to store); paths may name a collection by either. Its
 * space maps l2 -> l2, ip -> dot, cosine -> cosine (from `configuration.hnsw.space` or the older
 * `metadata["hnsw:space"]`, default l2), its HNSW settings to the vector's index spec. Chroma learns
 * the dimension from the first add, Quiver needs it at creation: a new collection is created with a
 * one-dimensional placeholder vector, and the first add into it while it is empty re-creates it
 * with the real dimension (docs/compat-chroma.md).
 */
import {
  type CollectionInfo,
  type CollectionSchema,
  isSparseSpec,
  type Metric,
  type VectorIndexSpec,
} from "../../core/schema/schema.js";
import { type Checker, isObject, type Json, unsupported } from "../shape.js";

/** The Quiver vector of a Chroma collection. */
export const EMBEDDING = "embedding";
/** The dimension of a collection whose first embedding has not arrived yet. */
export const PLACEHOLDER_DIM = 1;
export const TENANT = "default_tenant";
export const DATABASE = "default_database";

const SPACES: Record<string, Metric> = { l2: "l2", ip: "dot", cosine: "cosine" };
const SPACE_NAMES: Record<Metric, string> = { l2: "l2", dot: "ip", cosine: "cosine" };

/** 32-bit FNV-1a of a string, from a seed. */
function fnv(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The collection id Chroma clients see: a version-8 (name-derived) UUID of the name. */
export function collectionId(name: string): string {
  const hex = [0x811c9dc5, 0x050c5d1f, 0x1b873593, 0x27d4eb2f]
    .map((seed) => fnv(name, seed).toString(16).padStart(8, "0"))
    .join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The collection a path names (by name first, else by id), or undefined. */
export function resolve(all: CollectionInfo[], nameOrId: string): CollectionInfo | undefined {
  return all.find((c) => c.name === nameOrId) ?? all.find((c) => collectionId(c.name) === nameOrId);
}

/** The Quiver schema of a Chroma create-collection body (with the placeholder dimension). */
export function schemaOf(body: Json, check: Checker): CollectionSchema {
  const config = check.object(body.configuration, "configuration") ?? {};
  const metadata = check.object(body.metadata, "metadata") ?? {};
  for (const key of Object.keys(metadata))
    if (!key.startsWith("hnsw:"))
      throw unsupported("Chroma", `collection metadata ("${key}"; only hnsw:* settings are kept)`);
  if (isObject(config.spann)) throw unsupported("Chroma", "SPANN configuration");
  const hnsw = check.object(config.hnsw, "configuration.hnsw") ?? {};
  const space = hnsw.space ?? metadata["hnsw:space"] ?? "l2";
  if (typeof space !== "string" || !(space in SPACES))
    check.fail("configuration.hnsw.space", "must be l2, ip or cosine");
  const index: VectorIndexSpec = {};
  const m = check.int(hnsw.max_neighbors ?? metadata["hnsw:M"], "configuration.hnsw.max_neighbors", 2);
  const efc = check.int(
    hnsw.ef_construction ?? metadata["hnsw:construction_ef"],
    "configuration.hnsw.ef_construction",
    1,
  );
  const efs = check.int(hnsw.ef_search ?? metadata["hnsw:search_ef"], "configuration.hnsw.ef_search", 1);
  if (m !== undefined) index.m = m;
  if (efc !== undefined) index.efConstruction = efc;
  if (efs !== undefined) index.efSearch = efs;
  const metric = SPACES[space as string] ?? "l2";
  return {
    vectors: { [EMBEDDING]: { dim: PLACEHOLDER_DIM, metric, ...(Object.keys(index).length > 0 ? { index } : {}) } },
  };
}

/** Whether a Quiver collection has the shape the Chroma API writes (one vector named `embedding`). */
export function isChroma(schema: CollectionSchema): boolean {
  return Object.keys(schema.vectors).length === 1 && EMBEDDING in schema.vectors;
}

/** Chroma's collection model. */
export function collectionModel(info: CollectionInfo): Json {
  // A Chroma collection has one dense embedding; a sparse vector of that name (made through another API) is not it.
  const named = info.schema.vectors[EMBEDDING];
  const spec = named && !isSparseSpec(named) ? named : undefined;
  const known = spec && !(spec.dim === PLACEHOLDER_DIM && info.count === 0);
  return {
    id: collectionId(info.name),
    name: info.name,
    configuration_json: {
      hnsw: spec
        ? {
            space: SPACE_NAMES[spec.metric],
            ef_construction: spec.index?.efConstruction ?? 200,
            ef_search: spec.index?.efSearch ?? 64,
            max_neighbors: spec.index?.m ?? 16,
          }
        : null,
      spann: null,
      embedding_function: null,
    },
    metadata: null,
    dimension: known ? spec.dim : null,
    tenant: TENANT,
    database: DATABASE,
    log_position: 0,
    version: 0,
  };
}

/** Chroma's distance of a Quiver score: l2 squared, ip 1 - dot, cosine 1 - cosine similarity. */
export function chromaDistance(metric: Metric, score: number): number {
  return metric === "l2" ? score * score : 1 - score;
}
