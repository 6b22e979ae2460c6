// The header shared with the WebAssembly HNSW module (mirror of kernels/assembly/hnsw/state.ts: one i32 per field)
// and the layout of a node record (the module: src/core/kernels/assembly/hnsw/). Change both together.

export const H = {
  DIM: 0,
  METRIC: 1,
  M: 2,
  M0: 3,
  CAP: 4,
  VEC: 5,
  NODES: 6,
  STRIDE: 7,
  CODEOFF: 8,
  QUANT: 9,
  QREADY: 10,
  CODEBYTES: 11,
  FLAGS: 12,
  LEVELS: 13,
  UPIDX: 14,
  POOL: 15,
  POOLCAP: 16,
  POOLUSED: 17,
  UPSTRIDE: 18,
  ENTRY: 19,
  MAXLEVEL: 20,
  VISITED: 21,
  EPOCH: 22,
  CAND: 23,
  RES: 24,
  WORK: 25,
  QUERY: 26,
  QCODES: 27,
  BITMAP: 28,
  SEL: 29,
  SCALE: 30,
  OFFSET: 31,
  COUNT: 32,
  TOMBS: 33,
  VISITS: 34,
  EFC: 35,
  DISK: 36,
  PAD: 37,
  LINKSOFF: 38,
  CORROFF: 39,
} as const;
export const HEADER_BYTES = 64 * 4;

export const FLAG_ABSENT = 0;
export const FLAG_LIVE = 1;
export const FLAG_TOMB = 2;

export type Quantization = "none" | "int8" | "binary";
export const QUANT_CODE: Record<Quantization, number> = { none: 0, int8: 1, binary: 2 };
export const QUANT_NAME: Quantization[] = ["none", "int8", "binary"];

/** Filter modes of the search entry point. */
export const FILTER_NONE = 0;
export const FILTER_PLAIN = 1;
export const FILTER_ACORN = 2;

/** Bytes of quantized code per vector (not padded: the loops tolerate the next record's bytes). */
export function codeBytesFor(quant: Quantization, dim: number): number {
  return quant === "int8" ? dim : quant === "binary" ? Math.ceil(dim / 8) : 0;
}

/**
 * A level-0 node record, hnswlib-style (links next to the data the traversal reads):
 *   [codes: codeBytes, pad to 4][correction f32][count u32][M0 × u32 neighbour slots]   padded to 64 bytes.
 * Records start on a cache line (the nodes region is 64-byte aligned) and the codes come first, so a
 * distance touches the fewest lines: ⌈codeBytes / 64⌉ (dim 100: 2, where a 16-byte stride with the codes
 * after the links touched 2 or 3). Without quantization the record starts at the correction slot's place
 * (no codes) and the traversal reads the slab.
 */
export function nodeStride(m0: number, codeBytes: number): number {
  return (linksOffset(codeBytes) + 4 + 4 * m0 + 63) & ~63;
}

export const codeOffset = (): number => 0;
export const corrOffset = (codeBytes: number): number => (codeBytes + 3) & ~3;
/** Offset of the level-0 list (its count, then the neighbour slots). */
export const linksOffset = (codeBytes: number): number => corrOffset(codeBytes) + 4;
