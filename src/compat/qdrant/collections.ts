/**
 * Qdrant collection configs <-> Quiver schemas. Qdrant's unnamed vector (`vectors: { size,
 * distance }`) is the Quiver vector named `vector`; named vectors keep their names. Distances map
 * Cosine -> cosine, Dot -> dot, Euclid -> l2; `hnsw_config` (m, ef_construct; m = 0 means no graph),
 * `quantization_config` (scalar int8, binary) and `on_disk` (full vectors in a file, int8 codes in
 * memory) map to the vector's index spec. `sparse_vectors` are Quiver's sparse named vectors (dot
 * product over an inverted index); the `idf` modifier is not offered. Settings of a cluster or of
 * Qdrant's own storage engine (shards, replication, WAL, optimizers, a sparse index's on_disk and
 * full_scan_threshold) have no counterpart and are accepted without effect.
 */
import {
  type CollectionInfo,
  type CollectionSchema,
  isSparseSpec,
  type Metric,
  type NamedVectorSpec,
  type VectorIndexSpec,
  type VectorSpec,
} from "../../core/schema/schema.js";
import { type Checker, isObject, type Json, unsupported } from "../shape.js";

/** The Quiver name of Qdrant's unnamed (default) vector. */
export const UNNAMED_VECTOR = "vector";

const QDRANT = "Qdrant";
const DISTANCES: Record<string, Metric> = { Cosine: "cosine", Dot: "dot", Euclid: "l2" };
const DISTANCE_NAMES: Record<Metric, string> = { cosine: "Cosine", dot: "Dot", l2: "Euclid" };

function indexSpec(
  hnsw: Json | undefined,
  quantization: Json | undefined,
  onDisk: boolean | undefined,
  at: string,
  check: Checker,
): VectorIndexSpec | undefined {
  const index: VectorIndexSpec = {};
  if (hnsw) {
    const m = check.int(hnsw.m, `${at}.hnsw_config.m`);
    if (m === 0) index.type = "flat";
    else if (m !== undefined) index.m = m;
    const ef = check.int(hnsw.ef_construct, `${at}.hnsw_config.ef_construct`, 1);
    if (ef !== undefined) index.efConstruction = ef;
  }
  if (quantization) {
    if (isObject(quantization.scalar)) index.quantization = "int8";
    else if (isObject(quantization.binary)) index.quantization = "binary";
    else if (isObject(quantization.product)) throw unsupported(QDRANT, "product quantization");
    else check.fail(`${at}.quantization_config`, "must be { scalar: {...} } or { binary: {...} }");
  }
  if (onDisk) {
    index.originals = "disk";
    // Quiver keeps codes in memory for the traversal when the full vectors are on disk.
    if (index.type !== "flat") index.quantization ??= "int8";
  }
  return Object.keys(index).length > 0 ? index : undefined;
}

function vectorSpec(
  v: unknown,
  at: string,
  check: Checker,
  shared: { hnsw?: Json; quantization?: Json },
): VectorSpec | undefined {
  const params = check.object(v, at);
  if (!params) {
    check.fail(at, "must be { size, distance }");
    return undefined;
  }
  const dim = check.int(params.size, `${at}.size`, 1);
  const distance = params.distance;
  if (distance === "Manhattan") throw unsupported(QDRANT, "the Manhattan distance");
  if (typeof distance !== "string" || !(distance in DISTANCES))
    check.fail(`${at}.distance`, "must be Cosine, Dot or Euclid");
  if (params.multivector_config) throw unsupported(QDRANT, "multivectors");
  if (params.datatype !== undefined && params.datatype !== null && params.datatype !== "float32")
    throw unsupported(QDRANT, `the vector datatype ${JSON.stringify(params.datatype)} (vectors are float32)`);
  const hnsw = check.object(params.hnsw_config, `${at}.hnsw_config`) ?? shared.hnsw;
  const quantization = check.object(params.quantization_config, `${at}.quantization_config`) ?? shared.quantization;
  const index = indexSpec(hnsw, quantization, check.bool(params.on_disk, `${at}.on_disk`), at, check);
  if (dim === undefined || typeof distance !== "string" || !(distance in DISTANCES)) return undefined;
  return { dim, metric: DISTANCES[distance], ...(index ? { index } : {}) };
}

/** Qdrant's sparse vector params (`{ index?, modifier? }`) checked; Quiver's sparse spec has no options. */
function sparseSpec(v: unknown, at: string, check: Checker): void {
  const params = check.object(v, at) ?? {};
  if (params.modifier === "idf") throw unsupported(QDRANT, "the idf modifier of sparse vectors");
  if (params.modifier !== undefined && params.modifier !== null && params.modifier !== "none")
    check.fail(`${at}.modifier`, 'must be "none" or "idf"');
  const index = check.object(params.index, `${at}.index`);
  const datatype = index?.datatype;
  if (datatype !== undefined && datatype !== null && datatype !== "float32")
    throw unsupported(QDRANT, `the sparse vector datatype ${JSON.stringify(datatype)} (weights are float32)`);
}

/** The Quiver schema of a Qdrant create-collection body. */
export function schemaOf(body: Json, check: Checker): CollectionSchema {
  if (body.init_from) throw unsupported(QDRANT, "init_from");
  const shared = {
    hnsw: check.object(body.hnsw_config, "hnsw_config"),
    quantization: check.object(body.quantization_config, "quantization_config"),
  };
  const vectors: Record<string, NamedVectorSpec> = {};
  const sparse = check.object(body.sparse_vectors, "sparse_vectors");
  const config = check.object(body.vectors, "vectors");
  // A collection of sparse vectors alone has no `vectors` (or an empty object).
  if (!config) {
    if (!sparse) check.fail("vectors", "must be { size, distance } or { name: { size, distance } }");
  } else if ("size" in config || "distance" in config) {
    const spec = vectorSpec(config, "vectors", check, shared);
    if (spec) vectors[UNNAMED_VECTOR] = spec;
  } else {
    for (const [name, v] of Object.entries(config)) {
      const spec = vectorSpec(v, `vectors.${name}`, check, shared);
      if (spec) vectors[name] = spec;
    }
  }
  for (const [name, v] of Object.entries(sparse ?? {})) {
    if (Object.hasOwn(vectors, name)) check.fail(`sparse_vectors.${name}`, "is also the name of a dense vector");
    sparseSpec(v, `sparse_vectors.${name}`, check);
    vectors[name] = { kind: "sparse" };
  }
  return { vectors };
}

function vectorParams(spec: VectorSpec): Json {
  return {
    size: spec.dim,
    distance: DISTANCE_NAMES[spec.metric],
    on_disk: spec.index?.originals === "disk",
    ...(spec.index?.type !== "flat"
      ? { hnsw_config: { m: spec.index?.m ?? 16, ef_construct: spec.index?.efConstruction ?? 200 } }
      : { hnsw_config: { m: 0 } }),
  };
}

/**
 * Whether a schema is shown to Qdrant clients with one unnamed dense vector (sparse vectors, always
 * named, may sit beside it: a point then shows the unnamed one under "", as Qdrant does).
 */
export function isUnnamed(schema: CollectionSchema): boolean {
  const dense = Object.entries(schema.vectors).filter(([, s]) => !isSparseSpec(s));
  return dense.length === 1 && dense[0][0] === UNNAMED_VECTOR;
}

const PAYLOAD_TYPES: Record<string, string> = { keyword: "keyword", number: "float", boolean: "bool" };

/** Qdrant's collection info for a Quiver collection. */
export function collectionInfo(info: CollectionInfo): Json {
  const { schema } = info;
  // Sparse vectors are Qdrant's `sparse_vectors` (stored and searched by dot product; no IDF modifier).
  const entries = Object.entries(schema.vectors);
  const dense = entries.flatMap(([n, s]) => (isSparseSpec(s) ? [] : [[n, vectorParams(s)] as const]));
  const sparse = entries.flatMap(([n, s]) => (isSparseSpec(s) ? [[n, {}] as const] : []));
  const vectors = isUnnamed(schema) ? dense[0][1] : Object.fromEntries(dense);
  const payloadSchema = Object.fromEntries(
    Object.entries(schema.indexes ?? {}).map(([field, type]) => [
      field,
      { data_type: PAYLOAD_TYPES[type], points: info.count },
    ]),
  );
  return {
    status: "green",
    optimizer_status: "ok",
    points_count: info.count,
    indexed_vectors_count: info.count,
    segments_count: 1,
    config: {
      params: {
        vectors,
        ...(sparse.length > 0 && { sparse_vectors: Object.fromEntries(sparse) }),
        shard_number: 1,
        replication_factor: 1,
        write_consistency_factor: 1,
        on_disk_payload: false,
      },
      hnsw_config: { m: 16, ef_construct: 200, full_scan_threshold: 10_000, on_disk: false },
      optimizer_config: {},
      wal_config: null,
      quantization_config: null,
    },
    payload_schema: payloadSchema,
  };
}
