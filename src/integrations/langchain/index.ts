/**
 * `quiverdb/langchain`: a LangChain.js `VectorStore` on a Quiver collection, embedded (`open()`) or
 * over HTTP (`connect()` from `quiverdb/client`). Filters are Quiver filters on the metadata
 * (docs/filters.md); `hybrid` fuses BM25 on the text with the vector in one Quiver query.
 */
import { VectorStore, type MaxMarginalRelevanceSearchOptions } from "@langchain/core/vectorstores";
import { Document, type DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { QuiverError, type Problem } from "../../core/errors/errors.js";
import type { Filter, FusionRequest, Hit } from "../../api/query.js";
import type { DatabaseApi } from "../../api/types.js";
import {
  StoreCollection,
  hybridRequest,
  mmrHits,
  searchHits,
  splitPayload,
  type QuiverStoreOptions,
  type StoreLayout,
} from "../store.js";

export type { QuiverStoreOptions } from "../store.js";

export interface QuiverVectorStoreArgs extends QuiverStoreOptions {
  /**
   * Search with BM25 on the text fused with the vector (`true`, or Quiver's fusion options such as
   * `{ method: "rrf" }`) in `similaritySearch`, `similaritySearchWithScore` and the retriever.
   */
  hybrid?: boolean | FusionRequest;
}

/** `delete` takes ids, a Quiver filter, or both (each deletes what it names). */
export interface QuiverDeleteParams {
  ids?: string[];
  filter?: Filter;
}

export class QuiverVectorStore extends VectorStore {
  declare FilterType: Filter;
  private readonly target: StoreCollection;
  private readonly fusion: FusionRequest | null;

  _vectorstoreType(): string {
    return "quiver";
  }

  /**
   * @example
   * const store = new QuiverVectorStore(embeddings, { db: await open("./data"), collectionName: "docs" });
   * await store.addDocuments([{ pageContent: "Quiver is a vector database", metadata: { lang: "en" } }]);
   * const hits = await store.similaritySearch("vector database", 4, { lang: "en" });
   */
  constructor(embeddings: EmbeddingsInterface, args: QuiverVectorStoreArgs) {
    super(embeddings, args);
    this.target = new StoreCollection(args);
    this.fusion = args.hybrid === true ? {} : args.hybrid ? args.hybrid : null;
  }

  /** Embeds the documents' text and upserts them; ids from `options.ids`, else each `document.id`, else new UUIDs. */
  async addDocuments(documents: DocumentInterface[], options?: { ids?: string[] }): Promise<string[]> {
    const vectors = await this.embeddings.embedDocuments(documents.map((d) => d.pageContent));
    return this.addVectors(vectors, documents, options);
  }

  async addVectors(
    vectors: number[][],
    documents: DocumentInterface[],
    options?: { ids?: string[] },
  ): Promise<string[]> {
    const problems: Problem[] = [];
    if (vectors.length !== documents.length)
      problems.push({ path: "vectors", message: `${vectors.length} vectors for ${documents.length} documents` });
    if (options?.ids && options.ids.length !== documents.length)
      problems.push({ path: "ids", message: `${options.ids.length} ids for ${documents.length} documents` });
    if (problems.length > 0) throw QuiverError.fromProblems("INVALID_ARGUMENT", problems);
    const ids = documents.map((d, i) => options?.ids?.[i] ?? d.id ?? crypto.randomUUID());
    await this.target.upsert(
      documents.map((d, i) => ({ id: ids[i], vector: vectors[i], text: d.pageContent, metadata: d.metadata ?? {} })),
      "documents",
    );
    return ids;
  }

  async similaritySearchVectorWithScore(query: number[], k: number, filter?: Filter): Promise<[Document, number][]> {
    const { collection, layout } = await this.open();
    const hits = await searchHits(
      collection,
      { vector: { [layout.vectorName]: query }, ...(filter ? { filter } : {}) },
      { k },
    );
    return hits.map((h) => [toDocument(h, layout), h.score]);
  }

  /** With `hybrid`, BM25 on the text fused with the query's embedding; otherwise vector search. */
  override async similaritySearchWithScore(query: string, k = 4, filter?: Filter): Promise<[Document, number][]> {
    if (!this.fusion) return super.similaritySearchWithScore(query, k, filter);
    return this.hybridSearchWithScore(query, k, filter, this.fusion);
  }

  override async similaritySearch(query: string, k = 4, filter?: Filter): Promise<Document[]> {
    return (await this.similaritySearchWithScore(query, k, filter)).map(([doc]) => doc);
  }

  /** BM25 on the text fused with the vector, whatever the store's `hybrid` option; the score is the fused one. */
  async hybridSearchWithScore(
    query: string,
    k = 4,
    filter?: Filter,
    fusion: FusionRequest = this.fusion ?? {},
  ): Promise<[Document, number][]> {
    const vector = await this.embeddings.embedQuery(query);
    const { collection, layout } = await this.open();
    const hits = await searchHits(collection, hybridRequest(layout, query, vector, filter, fusion), { k });
    return hits.map((h) => [toDocument(h, layout), h.score]);
  }

  /** Diverse results: the `fetchK` (default 20) nearest, of which k are picked by MMR with `lambda` (default 0.5). */
  override async maxMarginalRelevanceSearch(
    query: string,
    options: MaxMarginalRelevanceSearchOptions<Filter>,
  ): Promise<Document[]> {
    const vector = await this.embeddings.embedQuery(query);
    const { collection, layout } = await this.open();
    const { k, fetchK = Math.max(20, k), lambda = 0.5, filter } = options;
    const hits = await mmrHits(collection, layout, vector, { k, fetchK, lambda, filter });
    return hits.map((h) => toDocument(h, layout));
  }

  /** Deletes the records with these ids and those matching the filter. */
  override async delete(params: QuiverDeleteParams = {}): Promise<void> {
    if (params.ids === undefined && params.filter === undefined)
      throw new QuiverError("INVALID_ARGUMENT", "delete needs ids or a filter", {
        problems: [{ path: "params", message: "give ids, filter or both" }],
      });
    const collection = await this.target.get();
    if (params.ids && params.ids.length > 0) await collection.delete(params.ids);
    if (params.filter) await collection.deleteByFilter(params.filter);
  }

  /** A store over texts with metadata (one object for all, or one per text), created and filled. */
  static override async fromTexts(
    texts: string[],
    metadatas: object[] | object,
    embeddings: EmbeddingsInterface,
    args: QuiverVectorStoreArgs,
  ): Promise<QuiverVectorStore> {
    const docs = texts.map(
      (pageContent, i) =>
        new Document({
          pageContent,
          metadata: { ...(Array.isArray(metadatas) ? metadatas[i] : metadatas) } as Record<string, unknown>,
        }),
    );
    return QuiverVectorStore.fromDocuments(docs, embeddings, args);
  }

  static override async fromDocuments(
    docs: DocumentInterface[],
    embeddings: EmbeddingsInterface,
    args: QuiverVectorStoreArgs,
  ): Promise<QuiverVectorStore> {
    const store = new QuiverVectorStore(embeddings, args);
    await store.addDocuments(docs);
    return store;
  }

  /** A store over a collection that exists (NOT_FOUND otherwise), e.g. one another program filled. */
  static async fromExistingCollection(
    embeddings: EmbeddingsInterface,
    args: QuiverVectorStoreArgs &
      ({ db: DatabaseApi; collectionName: string } | Required<Pick<QuiverStoreOptions, "collection">>),
  ): Promise<QuiverVectorStore> {
    const store = new QuiverVectorStore(embeddings, args);
    await store.target.layout();
    return store;
  }

  /** The collection and layout for a read: a read never creates the collection (NOT_FOUND until written). */
  private async open() {
    const layout = await this.target.layout();
    return { collection: await this.target.get(), layout };
  }
}

function toDocument(hit: Hit, layout: StoreLayout): Document {
  const { text, metadata } = splitPayload(hit.payload, layout.textKey);
  return new Document({ id: hit.id, pageContent: text, metadata });
}
