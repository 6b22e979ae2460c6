// WebAssembly SIMD distance kernels of Quiver, written in AssemblyScript (built by scripts/build-wasm.mjs).
// Every pointer is a byte offset into the host-provided memory; the module owns no data of its own, so
// one compiled module can be instantiated against any vector slab's memory.

// Why four accumulators: an f32x4.add has a latency of several cycles, so a single running sum would
// stall on itself every iteration; four independent chains let the adds overlap. Loads use an
// alignment hint of 4 because vectors of a dim that is not a multiple of 4 are not 16-byte aligned.

const METRIC_DOT: i32 = 0;
const METRIC_L2: i32 = 1;

@inline
function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

@inline
function dotImpl(a: usize, b: usize, dim: i32): f32 {
  let s0 = f32x4.splat(0);
  let s1 = s0;
  let s2 = s0;
  let s3 = s0;
  const end16 = a + (<usize>(dim & ~15) << 2);
  while (a < end16) {
    s0 = f32x4.add(s0, f32x4.mul(v128.load(a, 0, 4), v128.load(b, 0, 4)));
    s1 = f32x4.add(s1, f32x4.mul(v128.load(a, 16, 4), v128.load(b, 16, 4)));
    s2 = f32x4.add(s2, f32x4.mul(v128.load(a, 32, 4), v128.load(b, 32, 4)));
    s3 = f32x4.add(s3, f32x4.mul(v128.load(a, 48, 4), v128.load(b, 48, 4)));
    a += 64;
    b += 64;
  }
  const end4 = end16 + (<usize>(dim & 12) << 2);
  while (a < end4) {
    s0 = f32x4.add(s0, f32x4.mul(v128.load(a, 0, 4), v128.load(b, 0, 4)));
    a += 16;
    b += 16;
  }
  let r = hsum(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)));
  const end = end4 + (<usize>(dim & 3) << 2);
  while (a < end) {
    r += load<f32>(a) * load<f32>(b);
    a += 4;
    b += 4;
  }
  return r;
}

@inline
function l2sqImpl(a: usize, b: usize, dim: i32): f32 {
  let s0 = f32x4.splat(0);
  let s1 = s0;
  let s2 = s0;
  let s3 = s0;
  const end16 = a + (<usize>(dim & ~15) << 2);
  while (a < end16) {
    const d0 = f32x4.sub(v128.load(a, 0, 4), v128.load(b, 0, 4));
    const d1 = f32x4.sub(v128.load(a, 16, 4), v128.load(b, 16, 4));
    const d2 = f32x4.sub(v128.load(a, 32, 4), v128.load(b, 32, 4));
    const d3 = f32x4.sub(v128.load(a, 48, 4), v128.load(b, 48, 4));
    s0 = f32x4.add(s0, f32x4.mul(d0, d0));
    s1 = f32x4.add(s1, f32x4.mul(d1, d1));
    s2 = f32x4.add(s2, f32x4.mul(d2, d2));
    s3 = f32x4.add(s3, f32x4.mul(d3, d3));
    a += 64;
    b += 64;
  }
  const end4 = end16 + (<usize>(dim & 12) << 2);
  while (a < end4) {
    const d = f32x4.sub(v128.load(a, 0, 4), v128.load(b, 0, 4));
    s0 = f32x4.add(s0, f32x4.mul(d, d));
    a += 16;
    b += 16;
  }
  let r = hsum(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)));
  const end = end4 + (<usize>(dim & 3) << 2);
  while (a < end) {
    const d = load<f32>(a) - load<f32>(b);
    r += d * d;
    a += 4;
    b += 4;
  }
  return r;
}

export function dot(a: usize, b: usize, dim: i32): f32 {
  return dotImpl(a, b, dim);
}

export function l2sq(a: usize, b: usize, dim: i32): f32 {
  return l2sqImpl(a, b, dim);
}

/** out[i] = score(q, vector start+i); the metric branch sits outside the loop so each loop stays tight. */
export function scoreRange(metric: i32, q: usize, base: usize, dim: i32, start: i32, count: i32, out: usize): void {
  const stride = <usize>dim << 2;
  let v = base + <usize>start * stride;
  const outEnd = out + (<usize>count << 2);
  if (metric == METRIC_L2) {
    while (out < outEnd) {
      store<f32>(out, -l2sqImpl(q, v, dim));
      v += stride;
      out += 4;
    }
  } else {
    while (out < outEnd) {
      store<f32>(out, dotImpl(q, v, dim));
      v += stride;
      out += 4;
    }
  }
}

/** out[i] = score(q, vector slots[i]); slots is a u32 array of slot numbers. */
export function scoreSlots(metric: i32, q: usize, base: usize, dim: i32, slots: usize, count: i32, out: usize): void {
  const stride = <usize>dim << 2;
  const outEnd = out + (<usize>count << 2);
  if (metric == METRIC_L2) {
    while (out < outEnd) {
      store<f32>(out, -l2sqImpl(q, base + <usize>load<u32>(slots) * stride, dim));
      slots += 4;
      out += 4;
    }
  } else {
    while (out < outEnd) {
      store<f32>(out, dotImpl(q, base + <usize>load<u32>(slots) * stride, dim));
      slots += 4;
      out += 4;
    }
  }
}
