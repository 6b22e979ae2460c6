/**
 * The AI-native layer's public surface, runtime-neutral: embedders and their management, text
 * binding, chunking and documents. (Node-only parts: src/embed/node/.)
 */
export { type Embedder, EmbedderError, cosine } from "./embedder.js";
export { MemoryEmbeddingCache, contentHash, type EmbeddingCache } from "./cache.js";
export { managedEmbedder, isManaged, type ManagedEmbedder, type ManagedOptions } from "./managed.js";
export { EmbedderRegistry } from "./bind.js";
export { openAIEmbedder, type OpenAIEmbedderOptions } from "./openai.js";
export { ollamaEmbedder, type OllamaEmbedderOptions } from "./ollama.js";
export { chunkText, type Chunk, type ChunkOptions } from "./chunk.js";
export { htmlToText, htmlTitle } from "./html.js";
export {
  ingestDocuments,
  deleteDocument,
  replaceDocument,
  searchDocuments,
  findDocuments,
  groupByDocument,
  documentSchema,
  type DocumentInput,
  type IngestOptions,
  type IngestReport,
  type DocumentHit,
  type DocumentSearch,
  type ChunkPayload,
} from "./documents.js";
export {
  type ImageEmbedder,
  type ImageInput,
  type RgbaImage,
  type ImageFormat,
  sniffImageFormat,
  resizeRgba,
} from "./image.js";
export { httpImageEmbedder, type HttpImageEmbedderOptions } from "./image-http.js";
export { textQuery, modeOfPlan, SEARCH_MODES, type SearchMode, type TextQueryInput } from "./text-query.js";
