// The distance-kernel interface shared by the WebAssembly SIMD module and the scalar TypeScript reference.
// Kernels work on byte offsets into one WebAssembly.Memory (a vector slab), chosen once at open time.

import { METRIC_DOT, METRIC_L2 } from "./boundary.generated.js";

/** Metric codes understood by the kernels (declared in boundary.json). Cosine is METRIC_DOT over L2-normalised vectors. */
export { METRIC_DOT, METRIC_L2 };
export type KernelMetric = typeof METRIC_DOT | typeof METRIC_L2;

export type KernelName = "wasm-simd" | "scalar";

/**
 * Distance kernels bound to one memory. Pointers are byte offsets (4-byte aligned) of little-endian
 * f32 data; `dim` is any integer ≥ 1. Scores are "higher = closer": dot for METRIC_DOT, −squared
 * Euclidean distance for METRIC_L2.
 */
export interface Kernels {
  readonly name: KernelName;
  readonly memory: WebAssembly.Memory;
  dot(a: number, b: number, dim: number): number;
  l2sq(a: number, b: number, dim: number): number;
  /** out[i] = score(q, base + (start + i) · dim · 4) for i in [0, count). */
  scoreRange(
    metric: KernelMetric,
    q: number,
    base: number,
    dim: number,
    start: number,
    count: number,
    out: number,
  ): void;
  /** out[i] = score(q, vector slots[i]) where `slots` points at `count` u32 slot numbers. */
  scoreSlots(
    metric: KernelMetric,
    q: number,
    base: number,
    dim: number,
    slots: number,
    count: number,
    out: number,
  ): void;
}

/**
 * Binds kernels to a memory. A factory is created once (the WebAssembly module is compiled once) and
 * bound per slab, so every slab gets its own instance over its own memory.
 *
 * @example
 * const factory = await loadKernelFactory();
 * const k = factory.bind(new WebAssembly.Memory({ initial: 2 }));
 */
export interface KernelFactory {
  readonly name: KernelName;
  /** True when slabs of this factory create shared memories (search threads) and bind modules built for them. */
  readonly shared?: boolean;
  bind(memory: WebAssembly.Memory): Kernels;
}

/** Bytes 0..65535 of every kernel memory belong to the module; callers place data from here on. */
export const RESERVED_BYTES = 65536;
