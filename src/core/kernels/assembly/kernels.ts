// WebAssembly SIMD distance kernels of Quiver, written in AssemblyScript (built by scripts/build-wasm.mjs).
// Every pointer is a byte offset into the host-provided memory; the module owns no data of its own, so
// one compiled module can be instantiated against any vector slab's memory.

import { METRIC_L2 } from "./boundary.generated";
import { dotImpl, l2sqImpl } from "./distance";

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
