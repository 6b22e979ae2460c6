/**
 * `quiverdb/llamaindex`: a LlamaIndex.TS `BaseVectorStore` on a Quiver collection, embedded (`open()`)
 * or over HTTP (`connect()` from `quiverdb/client`): default (vector), hybrid (BM25 fused with the
 * vector by Quiver), sparse (BM25 alone) and MMR queries, with LlamaIndex metadata filters.
 */
import {
  BaseVectorStore,
  VectorStoreQueryMode,
  metadataDictToNode,
  nodeToMetadata,
  type VectorStoreBaseParams,
  type VectorStoreQuery,
  type VectorStoreQueryResult,
} from "@llamaindex/core/vector-store";
import { MetadataMode, type BaseNode } from "@llamaindex/core/schema";
import { QuiverError, type Problem } from "../../core/errors/errors.js";
import type { Filter, Hit, QueryRequest } from "../../api/query.js";
import type { CollectionApi, DatabaseApi } from "../../api/types.js";
import {
  StoreCollection,
  hybridRequest,
  mmrHits,
  searchHits,
  splitPayload,
  type QuiverStoreOptions,
  type StoreLayout,
} from "../store.js";
import { translateFilters } from "./filters.js";

export type { QuiverStoreOptions } from "../store.js";
export { translateFilters, type TranslatedFilter } from "./filters.js";

export type QuiverVectorStoreParams = QuiverStoreOptions & VectorStoreBaseParams;

/** The payload field LlamaIndex's node metadata names the source document by (see nodeToMetadata). */
const REF_DOC_ID = "ref_doc_id";

export class QuiverVectorStore extends BaseVectorStore<DatabaseApi | CollectionApi> {
  storesText = true;
  private readonly target: StoreCollection;

  /**
   * @example
   * const vectorStore = new QuiverVectorStore({ db: await open("./data"), collectionName: "nodes", embedModel });
   * // with the llamaindex package:
   * const storageContext = await storageContextFromDefaults({ vectorStore });
   * const index = await VectorStoreIndex.fromDocuments(documents, { storageContext });
   */
  constructor(private readonly params: QuiverVectorStoreParams) {
    super(params);
    // Deleting by source document is a filter on ref_doc_id: an index keeps it from reading every payload.
    this.target = new StoreCollection(params, { [REF_DOC_ID]: "keyword" });
  }

  /** The database (or collection handle) the store was given. */
  client(): DatabaseApi | CollectionApi {
    return (this.params.collection ?? this.params.db) as DatabaseApi | CollectionApi;
  }

  /** Upserts the nodes (their embeddings must be set); the collection is created at the first add. */
  async add(nodes: BaseNode[]): Promise<string[]> {
    const problems: Problem[] = [];
    nodes.forEach((node, i) => {
      if (!Array.isArray(node.embedding) || node.embedding.length === 0)
        problems.push({ path: `nodes[${i}].embedding`, message: "is not set; embed the nodes before adding them" });
    });
    if (problems.length > 0) throw QuiverError.fromProblems("INVALID_ARGUMENT", problems);
    await this.target.upsert(
      nodes.map((node) => ({
        id: node.id_,
        vector: node.embedding as number[],
        text: node.getContent(MetadataMode.NONE),
        // The node's own JSON (without its text, kept in the text field) and its source document's id.
        metadata: nodeToMetadata(node, true),
      })),
      "nodes",
    );
    return nodes.map((n) => n.id_);
  }

  /** Deletes every node of the source document `refDocId`. */
  async delete(refDocId: string): Promise<void> {
    await (await this.target.get()).deleteByFilter({ [REF_DOC_ID]: refDocId });
  }

  async query(query: VectorStoreQuery): Promise<VectorStoreQueryResult> {
    const k = query.similarityTopK;
    if (!Number.isInteger(k) || k < 1)
      throw new QuiverError("INVALID_ARGUMENT", `similarityTopK must be a positive integer, got ${k}`);
    const translated = translateFilters(query.filters);
    const filter = withDocIds(translated.filter, query.docIds);
    const search = { k, residual: translated.residual };
    const collection = await this.target.get();
    const layout = await this.target.layout();
    const text = query.queryStr;
    const vector = query.queryEmbedding;
    let hits: Hit[];
    switch (query.mode ?? VectorStoreQueryMode.DEFAULT) {
      case VectorStoreQueryMode.DEFAULT:
        hits = await searchHits(
          collection,
          { vector: { [layout.vectorName]: need(vector, "queryEmbedding") }, ...(filter ? { filter } : {}) },
          search,
        );
        break;
      case VectorStoreQueryMode.HYBRID: {
        // alpha weighs the vector against BM25, as in LlamaIndex: 1 is vector only, 0 text only.
        const alpha = query.alpha;
        const fusion = alpha === undefined ? undefined : { weights: { vector: alpha, text: 1 - alpha } };
        const req: QueryRequest = vector
          ? hybridRequest(layout, need(text, "queryStr"), vector, filter, fusion)
          : textRequest(layout, need(text, "queryStr"), filter);
        hits = await searchHits(collection, req, search);
        break;
      }
      case VectorStoreQueryMode.SPARSE:
        hits = await searchHits(collection, textRequest(layout, need(text, "queryStr"), filter), search);
        break;
      case VectorStoreQueryMode.MMR:
        hits = await mmrHits(collection, layout, need(vector, "queryEmbedding"), {
          k,
          fetchK: Math.max(20, 4 * k),
          lambda: query.mmrThreshold ?? 0.5,
          filter,
          residual: translated.residual,
        });
        break;
      default:
        throw new QuiverError(
          "INVALID_ARGUMENT",
          `query mode ${JSON.stringify(query.mode)} is not supported; Quiver supports default, hybrid, sparse and mmr`,
          { problems: [{ path: "mode", message: "expected default, hybrid, sparse or mmr" }] },
        );
    }
    return {
      nodes: hits.map((h) => toNode(h, layout)),
      similarities: hits.map((h) => h.score),
      ids: hits.map((h) => h.id),
    };
  }
}

function need<T>(value: T | undefined, name: string): T {
  if (value === undefined || value === null)
    throw new QuiverError("INVALID_ARGUMENT", `this query mode needs ${name}`, {
      problems: [{ path: name, message: "is missing" }],
    });
  return value;
}

function textRequest(layout: StoreLayout, text: string, filter: Filter | undefined): QueryRequest {
  return { text: { query: text, fields: [layout.textKey] }, ...(filter ? { filter } : {}) };
}

/** The filter restricted to nodes of the given source documents, as LlamaIndex's `docIds` asks. */
function withDocIds(filter: Filter | undefined, docIds: string[] | undefined): Filter | undefined {
  if (!docIds || docIds.length === 0) return filter;
  const docs = { [REF_DOC_ID]: { $in: docIds } };
  return filter ? { $and: [filter, docs] } : docs;
}

/** A hit as a node: rebuilt from the node JSON stored at add, or (a record written otherwise) a text node. */
function toNode(hit: Hit, layout: StoreLayout): BaseNode {
  const { text, metadata } = splitPayload(hit.payload, layout.textKey);
  const node =
    "_node_content" in metadata
      ? metadataDictToNode(metadata)
      : metadataDictToNode(metadata, { fallback: { id_: hit.id, metadata } });
  node.setContent(text);
  return node;
}
