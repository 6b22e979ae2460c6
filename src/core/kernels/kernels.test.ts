// Differential tests: the WebAssembly SIMD kernels must agree with the scalar TypeScript reference on
// random data for many dimensions (tails included), and the agreement check must be able to fail.

import { test } from "node:test";
import assert from "node:assert/strict";
import { METRIC_DOT, METRIC_L2, RESERVED_BYTES, type KernelMetric } from "./kernels.js";
import { hasWasmSimd, loadKernelFactory } from "./load.js";
import { scalarKernelFactory } from "./scalar.js";
import { seededRandom as rng } from "../util/prng.js";

const DIMS = [1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 17, 31, 32, 33, 63, 100, 128, 129, 384, 1023];
const REL_TOL = 1e-4;

/** Lays out a query and n vectors (each scaled by a random magnitude) in one memory. */
function fixture(dim: number, n: number, seed: number) {
  const r = rng(seed);
  const q = RESERVED_BYTES;
  const base = q + ((dim * 4 + 15) & ~15);
  const slots = base + n * dim * 4;
  const outA = slots + n * 2 * 4;
  const outB = outA + n * 2 * 4;
  const bytes = outB + n * 2 * 4;
  const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
  const f = new Float32Array(memory.buffer);
  for (let i = 0; i < dim; i++) f[q / 4 + i] = r() * 2 - 1;
  for (let v = 0; v < n; v++) {
    const mag = 10 ** (r() * 4 - 2);
    for (let i = 0; i < dim; i++) f[base / 4 + v * dim + i] = (r() * 2 - 1) * mag;
  }
  return { memory, f, q, base, slots, outA, outB, r };
}

/** The magnitude a rounding error is measured against: Σ|qᵢvᵢ| for dot, Σ(qᵢ−vᵢ)² for l2. */
function scale(f: Float32Array, q: number, v: number, dim: number, metric: KernelMetric): number {
  let s = 0;
  for (let i = 0; i < dim; i++) {
    const a = f[q / 4 + i];
    const b = f[v / 4 + i];
    s += metric === METRIC_DOT ? Math.abs(a * b) : (a - b) * (a - b);
  }
  return s;
}

function agrees(x: number, y: number, mag: number): boolean {
  return Math.abs(x - y) <= REL_TOL * mag + 1e-30;
}

test("WebAssembly SIMD is detected and selected on this runtime", async () => {
  assert.equal(hasWasmSimd(), true);
  const factory = await loadKernelFactory();
  assert.equal(factory.name, "wasm-simd");
  assert.equal((await loadKernelFactory("scalar")).name, "scalar");
  assert.equal(factory.bind(new WebAssembly.Memory({ initial: 1 })).name, "wasm-simd");
});

test("SIMD and scalar agree on dot, l2sq, scoreRange and scoreSlots for many dimensions", async () => {
  const factory = await loadKernelFactory();
  for (const dim of DIMS) {
    const n = 37;
    const { memory, f, q, base, slots, outA, outB, r } = fixture(dim, n, dim * 7919);
    const simd = factory.bind(memory);
    const ref = scalarKernelFactory.bind(memory);
    for (const metric of [METRIC_DOT, METRIC_L2] as const) {
      for (let v = 0; v < n; v++) {
        const at = base + v * dim * 4;
        const mag = scale(f, q, at, dim, metric);
        const kernel = metric === METRIC_DOT ? "dot" : "l2sq";
        const a = simd[kernel](q, at, dim);
        const b = ref[kernel](q, at, dim);
        assert.ok(agrees(a, b, mag), `${kernel} dim=${dim} v=${v}: simd ${a} vs scalar ${b}`);
      }

      const start = 3;
      const count = n - start - 2;
      f.fill(12345, outA / 4, outA / 4 + n);
      simd.scoreRange(metric, q, base, dim, start, count, outA);
      ref.scoreRange(metric, q, base, dim, start, count, outB);
      for (let i = 0; i < count; i++) {
        const mag = scale(f, q, base + (start + i) * dim * 4, dim, metric);
        assert.ok(agrees(f[outA / 4 + i], f[outB / 4 + i], mag), `scoreRange metric=${metric} dim=${dim} i=${i}`);
        if (metric === METRIC_L2) assert.ok(f[outA / 4 + i] <= 0, "l2 scores are −squared distance");
      }
      // Nothing past `count` may be written.
      assert.equal(f[outA / 4 + count], 12345);

      // Random slot lists, with repeats and in any order, longer than n.
      const m = 2 * n;
      const u = new Uint32Array(memory.buffer, slots, m);
      for (let i = 0; i < m; i++) u[i] = Math.floor(r() * n);
      simd.scoreSlots(metric, q, base, dim, slots, m, outA);
      ref.scoreSlots(metric, q, base, dim, slots, m, outB);
      for (let i = 0; i < m; i++) {
        const mag = scale(f, q, base + u[i] * dim * 4, dim, metric);
        assert.ok(agrees(f[outA / 4 + i], f[outB / 4 + i], mag), `scoreSlots metric=${metric} dim=${dim} i=${i}`);
      }
      // scoreSlots must give the score scoreRange gives for the same slot (same kernel, same rounding).
      simd.scoreRange(metric, q, base, dim, 0, n, outB);
      for (let i = 0; i < m; i++) assert.equal(f[outA / 4 + i], f[outB / 4 + u[i]]);
    }
  }
});

test("every coordinate, including SIMD tails, counts exactly once", async () => {
  const factory = await loadKernelFactory();
  for (const dim of DIMS) {
    const { memory, f, q, base } = fixture(dim, 1, dim);
    const k = factory.bind(memory);
    for (let j = 0; j < dim; j++) {
      // v = e_j, so dot(q, v) = q_j exactly and l2sq = |q|² − 2q_j + 1.
      f.fill(0, base / 4, base / 4 + dim);
      f[base / 4 + j] = 1;
      assert.equal(k.dot(q, base, dim), f[q / 4 + j], `dim=${dim} j=${j}`);
      const qq = scale(f, q, q, dim, METRIC_DOT);
      const expected = qq - 2 * f[q / 4 + j] + 1;
      assert.ok(agrees(k.l2sq(q, base, dim), expected, qq + 1), `l2 dim=${dim} j=${j}`);
    }
  }
});

test("the agreement check is tight enough to catch a kernel that drops or corrupts one coordinate", async () => {
  const factory = await loadKernelFactory();
  for (const dim of DIMS) {
    const { memory, f, q, base, r } = fixture(dim, 1, dim + 1);
    const k = factory.bind(memory);
    for (let i = 0; i < dim; i++) f[base / 4 + i] = r() * 2 - 1;
    const ref = scalarKernelFactory.bind(memory);
    for (const metric of [METRIC_DOT, METRIC_L2] as const) {
      const kernel = metric === METRIC_DOT ? "dot" : "l2sq";
      // Make the last (tail) coordinate matter, then score as a kernel that ignored it would.
      f[q / 4 + dim - 1] = 1;
      f[base / 4 + dim - 1] = -1;
      const mag = scale(f, q, base, dim, metric);
      const right = k[kernel](q, base, dim);
      const wrong = ref[kernel](q, base, dim - 1);
      assert.ok(agrees(right, ref[kernel](q, base, dim), mag));
      assert.ok(!agrees(right, wrong, mag), `dim=${dim} ${kernel}: dropping the last coordinate went unnoticed`);
      // A 1% error anywhere is far above the tolerance.
      assert.ok(!agrees(right, right + 0.01 * mag, mag));
    }
  }
});

test("kernels see memory growth (scalar re-acquires its views)", async () => {
  for (const factory of [await loadKernelFactory(), scalarKernelFactory]) {
    const memory = new WebAssembly.Memory({ initial: 2 });
    const k = factory.bind(memory);
    const dim = 5;
    const q = RESERVED_BYTES;
    assert.equal(k.dot(q, q, dim), 0);
    memory.grow(2);
    const v = 3 * 65536;
    const f = new Float32Array(memory.buffer);
    f.set([1, 2, 3, 4, 5], q / 4);
    f.set([1, 1, 1, 1, 1], v / 4);
    assert.equal(k.dot(q, v, dim), 15, factory.name);
    assert.equal(k.l2sq(q, v, dim), 0 + 1 + 4 + 9 + 16, factory.name);
    k.scoreRange(METRIC_L2, q, v, dim, 0, 1, v + 64);
    assert.equal(new Float32Array(memory.buffer)[(v + 64) / 4], -30, factory.name);
  }
});
