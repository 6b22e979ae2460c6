// The layout of a level-0 node record and the quantization names. The header shared with the WebAssembly
// HNSW module and the codes both sides use are declared once in src/core/kernels/boundary.json.

import { QUANT_BINARY, QUANT_INT8, QUANT_NONE } from "../../kernels/boundary.generated.js";

export type Quantization = "none" | "int8" | "binary";
export const QUANT_CODE: Record<Quantization, number> = { none: QUANT_NONE, int8: QUANT_INT8, binary: QUANT_BINARY };
/** Quantization by code (the inverse of QUANT_CODE). */
export const QUANT_NAME: Quantization[] = [];
for (const [name, code] of Object.entries(QUANT_CODE)) QUANT_NAME[code] = name as Quantization;

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

/**
 * Byte offset `i` of an i32 header view (the module's header, a lane's block). The memory spans up to
 * 4 GiB, and an Int32Array reads an offset at or past 2^31 as negative (which then addresses nothing
 * or throws): `>>> 0` reads the same 32 bits unsigned, as the module's `<usize>` does.
 */
export const headerOffset = (h: Int32Array, i: number): number => h[i] >>> 0;
