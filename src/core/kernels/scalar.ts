// Plain TypeScript implementation of the Kernels interface: the reference the SIMD kernels are tested
// against, and the fallback on runtimes without WebAssembly SIMD.

import { METRIC_L2, type KernelFactory, type KernelMetric, type Kernels } from "./kernels.js";

class ScalarKernels implements Kernels {
  readonly name = "scalar" as const;
  readonly memory: WebAssembly.Memory;
  private buffer: ArrayBuffer;
  private f32: Float32Array;
  private u32: Uint32Array;

  constructor(memory: WebAssembly.Memory) {
    this.memory = memory;
    this.buffer = memory.buffer;
    this.f32 = new Float32Array(this.buffer);
    this.u32 = new Uint32Array(this.buffer);
  }

  // memory.grow detaches the old ArrayBuffer, so every entry point re-checks its views first.
  private views(): void {
    if (this.memory.buffer !== this.buffer) {
      this.buffer = this.memory.buffer;
      this.f32 = new Float32Array(this.buffer);
      this.u32 = new Uint32Array(this.buffer);
    }
  }

  dot(a: number, b: number, dim: number): number {
    this.views();
    return dotAt(this.f32, a >>> 2, b >>> 2, dim);
  }

  l2sq(a: number, b: number, dim: number): number {
    this.views();
    return l2sqAt(this.f32, a >>> 2, b >>> 2, dim);
  }

  scoreRange(
    metric: KernelMetric,
    q: number,
    base: number,
    dim: number,
    start: number,
    count: number,
    out: number,
  ): void {
    this.views();
    const f = this.f32;
    const qi = q >>> 2;
    const o = out >>> 2;
    let v = (base >>> 2) + start * dim;
    for (let i = 0; i < count; i++, v += dim) {
      f[o + i] = metric === METRIC_L2 ? -l2sqAt(f, qi, v, dim) : dotAt(f, qi, v, dim);
    }
  }

  scoreSlots(
    metric: KernelMetric,
    q: number,
    base: number,
    dim: number,
    slots: number,
    count: number,
    out: number,
  ): void {
    this.views();
    const f = this.f32;
    const s = this.u32;
    const qi = q >>> 2;
    const b = base >>> 2;
    const si = slots >>> 2;
    const o = out >>> 2;
    for (let i = 0; i < count; i++) {
      const v = b + s[si + i] * dim;
      f[o + i] = metric === METRIC_L2 ? -l2sqAt(f, qi, v, dim) : dotAt(f, qi, v, dim);
    }
  }
}

function dotAt(f: Float32Array, a: number, b: number, dim: number): number {
  let s = 0;
  for (let i = 0; i < dim; i++) s += f[a + i] * f[b + i];
  return s;
}

function l2sqAt(f: Float32Array, a: number, b: number, dim: number): number {
  let s = 0;
  for (let i = 0; i < dim; i++) {
    const d = f[a + i] - f[b + i];
    s += d * d;
  }
  return s;
}

/** The scalar factory: always available, no compilation. */
export const scalarKernelFactory: KernelFactory = {
  name: "scalar",
  bind: (memory) => new ScalarKernels(memory),
};
