/**
 * CRC32C (Castagnoli), the checksum of every WAL record, segment, index file, manifest and HNSW
 * serialization. Castagnoli rather than zlib's CRC32 because it detects more error patterns in
 * storage-sized blocks and is what ext4, iSCSI and Qdrant's WAL use. Pure, so the core (HNSW
 * serialization) and storage share one implementation.
 *
 * Slicing-by-16 over 32-bit words: four word loads and sixteen lookups in one flat table per 16
 * bytes. Opening reads every byte of every segment through it, so its speed is open's: it measured
 * 1.5x the byte-wise slicing-by-8 it replaces (bench/RESULTS.md, "Fast open"). WebAssembly has no
 * CRC or carry-less multiply instruction, but the same table walk runs about twice as fast there
 * (no bounds checks on the lookups): the Node entry's open() installs it (crc32c-wasm.ts) and this
 * function hands it long inputs from then on. Browsers keep this one (bundle size).
 */

const POLY = 0x82f63b78; // reflected Castagnoli polynomial

/** CRC32C_TABLE[256 * t + b]: the CRC of byte b followed by t zero bytes. */
export const CRC32C_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256 * 16);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    for (let s = 1; s < 16; s++) t[256 * s + i] = (t[256 * (s - 1) + i] >>> 8) ^ t[t[256 * (s - 1) + i] & 0xff];
  }
  return t;
})();

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export type Crc32c = (data: Uint8Array, start?: number, end?: number, crc?: number) => number;
/** The WebAssembly walk once installed (crc32c-wasm.ts); used for inputs long enough to repay the call. */
let fast: Crc32c | null = null;

/** Hands inputs of 1 KiB or more to `f` from now on (null: back to this one). */
export function useCrc32c(f: Crc32c | null): void {
  fast = f;
}

/** CRC32C of `data[start, end)`, continuing from `crc` (0 for a fresh checksum). */
export function crc32c(data: Uint8Array, start = 0, end = data.length, crc = 0): number {
  if (fast !== null && end - start >= 1024) return fast(data, start, end, crc);
  const T = CRC32C_TABLE;
  let c = ~crc >>> 0;
  let i = start;
  // Byte by byte up to a 4-byte boundary of the buffer, so the words below are aligned views.
  while (i < end && ((data.byteOffset + i) & 3) !== 0) c = T[(c ^ data[i++]) & 0xff] ^ (c >>> 8);
  if (LITTLE_ENDIAN && end - i >= 16) {
    const words = new Uint32Array(data.buffer, data.byteOffset + i, (end - i) >>> 2);
    const n = words.length & ~3;
    for (let w = 0; w < n; w += 4) {
      const a = c ^ words[w];
      const b = words[w + 1];
      const d = words[w + 2];
      const e = words[w + 3];
      c =
        T[3840 + (a & 0xff)] ^
        T[3584 + ((a >>> 8) & 0xff)] ^
        T[3328 + ((a >>> 16) & 0xff)] ^
        T[3072 + (a >>> 24)] ^
        T[2816 + (b & 0xff)] ^
        T[2560 + ((b >>> 8) & 0xff)] ^
        T[2304 + ((b >>> 16) & 0xff)] ^
        T[2048 + (b >>> 24)] ^
        T[1792 + (d & 0xff)] ^
        T[1536 + ((d >>> 8) & 0xff)] ^
        T[1280 + ((d >>> 16) & 0xff)] ^
        T[1024 + (d >>> 24)] ^
        T[768 + (e & 0xff)] ^
        T[512 + ((e >>> 8) & 0xff)] ^
        T[256 + ((e >>> 16) & 0xff)] ^
        T[e >>> 24];
    }
    i += 4 * n;
  }
  for (; i < end; i++) c = T[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
