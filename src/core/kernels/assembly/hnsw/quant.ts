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
  // 16 components at a time (an open re-encodes every node): the same rounding (half to even), the
  // same clamp (done before the conversion, which then cannot saturate differently) and the same
  // integer sums as the scalar loop below, which finishes the last dim % 16.
  const vo = f32x4.splat(gOffset);
  const vi = f32x4.splat(inv);
  const hi = f32x4.splat(127);
  const lo = f32x4.splat(-127);
  let vsum = i32x4.splat(0);
  let vsq = i32x4.splat(0);
  let i = 0;
  for (; i + 16 <= gDim; i += 16) {
    const at = src + (<usize>i << 2);
    const c0 = i32x4.trunc_sat_f32x4_s(f32x4.max(lo, f32x4.min(hi, f32x4.nearest(f32x4.mul(f32x4.sub(v128.load(at), vo), vi)))));
    const c1 = i32x4.trunc_sat_f32x4_s(f32x4.max(lo, f32x4.min(hi, f32x4.nearest(f32x4.mul(f32x4.sub(v128.load(at, 16), vo), vi)))));
    const c2 = i32x4.trunc_sat_f32x4_s(f32x4.max(lo, f32x4.min(hi, f32x4.nearest(f32x4.mul(f32x4.sub(v128.load(at, 32), vo), vi)))));
    const c3 = i32x4.trunc_sat_f32x4_s(f32x4.max(lo, f32x4.min(hi, f32x4.nearest(f32x4.mul(f32x4.sub(v128.load(at, 48), vo), vi)))));
    vsum = i32x4.add(vsum, i32x4.add(i32x4.add(c0, c1), i32x4.add(c2, c3)));
    vsq = i32x4.add(vsq, i32x4.add(i32x4.add(i32x4.mul(c0, c0), i32x4.mul(c1, c1)), i32x4.add(i32x4.mul(c2, c2), i32x4.mul(c3, c3))));
    v128.store(dst + <usize>i, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(c0, c1), i16x8.narrow_i32x4_s(c2, c3)));
  }
  sum = i32x4.extract_lane(vsum, 0) + i32x4.extract_lane(vsum, 1) + i32x4.extract_lane(vsum, 2) + i32x4.extract_lane(vsum, 3);
  sq = i32x4.extract_lane(vsq, 0) + i32x4.extract_lane(vsq, 1) + i32x4.extract_lane(vsq, 2) + i32x4.extract_lane(vsq, 3);
  for (; i < gDim; i++) {
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
