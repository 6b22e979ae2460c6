// Quantized distance loops and encoders. int8: x ≈ offset + scale·c with one (scale, offset) per index
// and c in [-127, 127]; binary: one sign bit per component. Every quantized score is
//   corr(x) + factor · Σ q[i]·x[i]      (int8)     or     corr(x) + 2 · popcount(q & x)   (binary)
// with a per-node correction stored beside the codes, so the loops only ever multiply (or AND) the
// query's codes into the node's. That is what lets codes be stored unpadded (dim bytes, not a multiple
// of 16): the loops read whole 16-byte blocks, and the bytes past the code belong to the rest of the
// record (correction, links), but the query's codes are zero there, so they add nothing.
//   int8 dot/cosine: q·x ≈ d·o² + o·s·Σcq + o·s·Σcx + s²·Σcq·cx  -> corr = o·s·Σcx, factor = s²
//   int8 l2:        −|q−x|² ≈ −s²(|cq|² + |cx|² − 2Σcq·cx)      -> corr = −s²·|cx|², factor = 2s²
//   binary:         −hamming = −(|q| + |x| − 2|q&x|)             -> corr = −|x|, factor 2
// (terms of the query alone are the same for every node, so ranking ignores them).

import { METRIC_L2, QUANT_BINARY } from "../boundary.generated";
import { gCodeBytes, gDim, gOffset, gScale, gCorrOff, gCodeOff, gMetric } from "./state";

/** Σ a[i]·b[i] over int8 codes of n bytes (n a multiple of 16). */
@inline
export function dotI8(a: usize, b: usize, n: i32): i32 {
  let acc0 = i32x4.splat(0);
  let acc1 = acc0;
  const end = a + <usize>n;
  while (a < end) {
    const va = v128.load(a);
    const vb = v128.load(b);
    acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(va), i16x8.extend_low_i8x16_s(vb)));
    acc1 = i32x4.add(acc1, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(va), i16x8.extend_high_i8x16_s(vb)));
    a += 16;
    b += 16;
  }
  const s = i32x4.add(acc0, acc1);
  return i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3);
}

/** Number of bits set in both binary codes over n bytes (n a multiple of 16). */
@inline
export function andCount(a: usize, b: usize, n: i32): i32 {
  let acc = i32x4.splat(0);
  const end = a + <usize>n;
  while (a < end) {
    const c = i8x16.popcnt(v128.and(v128.load(a), v128.load(b)));
    acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(c)));
    a += 16;
    b += 16;
  }
  return i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
}

/**
 * Encodes the f32 vector at `src` into `dst` (gCodeBytes bytes; `zeroBytes` ≥ gCodeBytes are cleared
 * first, which pads a query's codes to whole 16-byte blocks). Returns the node correction term.
 */
export function encode(quant: i32, src: usize, dst: usize, zeroBytes: i32): f32 {
  memory.fill(dst, 0, <usize>zeroBytes);
  if (quant == QUANT_BINARY) {
    let ones = 0;
    for (let i = 0; i < gDim; i++) {
      if (load<f32>(src + (<usize>i << 2)) > 0) {
        const p = dst + <usize>(i >> 3);
        store<u8>(p, load<u8>(p) | (<u8>1 << <u8>(i & 7)));
        ones++;
      }
    }
    return -<f32>ones;
  }
  const inv: f32 = gScale > 0 ? <f32>1 / gScale : 0;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < gDim; i++) {
    let c = <i32>nearest<f32>((load<f32>(src + (<usize>i << 2)) - gOffset) * inv);
    if (c > 127) c = 127;
    if (c < -127) c = -127;
    store<i8>(dst + <usize>i, <i8>c);
    sum += c;
    sq += c * c;
  }
  return gMetric == METRIC_L2 ? -gScale * gScale * <f32>sq : gOffset * gScale * <f32>sum;
}

/** Re-encodes a node's codes and correction term from its f32 vector. */
export function encodeNode(quant: i32, node: usize, vec: usize): void {
  store<f32>(node + gCorrOff, encode(quant, vec, node + gCodeOff, gCodeBytes));
}
