// The f32 SIMD distance loops shared by the kernel module and the HNSW module (both AssemblyScript),
// inlined into each caller so a hot loop pays no call. Pointers are byte offsets into the imported memory.

// Why four accumulators: an f32x4.add has a latency of several cycles, so a single running sum would
// stall on itself every iteration; four independent chains let the adds overlap. Loads use an
// alignment hint of 4 because vectors of a dim that is not a multiple of 4 are not 16-byte aligned.

@inline
function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

@inline
export function dotImpl(a: usize, b: usize, dim: i32): f32 {
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
export function l2sqImpl(a: usize, b: usize, dim: i32): f32 {
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

