/**
 * CRC32C for the storage formats: the core's implementation (core/util/crc32c.ts), which the
 * HNSW serialization shares, re-exported where every format has always imported it from.
 */
export { crc32c } from "../core/util/crc32c.js";
