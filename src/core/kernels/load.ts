// Chooses the distance kernels once per process: the WebAssembly SIMD module when the runtime supports
// SIMD, otherwise the scalar TypeScript reference. Compiles the module once, binds it per memory.
// The HNSW module has no scalar version: without SIMD a database opens without graphs and scans
// exactly with these scalar kernels (src/database/database.ts, searchEnv).

import type { KernelExports } from "./boundary.generated.js";
import { compileEmbedded, instantiateOver } from "./embedded.js";
import type { KernelFactory, Kernels } from "./kernels.js";
import { KERNELS_WASM_BASE64 } from "./kernels-wasm.generated.js";
import { scalarKernelFactory } from "./scalar.js";

/** The smallest module using a v128 instruction: `(func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)`. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** True when this runtime validates WebAssembly SIMD (Node ≥ 16.4, current browsers, Deno, Bun). */
export function hasWasmSimd(): boolean {
  try {
    return typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

class WasmKernels implements Kernels {
  readonly name = "wasm-simd" as const;
  readonly memory: WebAssembly.Memory;
  readonly dot: Kernels["dot"];
  readonly l2sq: Kernels["l2sq"];
  readonly scoreRange: Kernels["scoreRange"];
  readonly scoreSlots: Kernels["scoreSlots"];

  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory) {
    this.memory = memory;
    const x = instantiateOver<KernelExports>(module, memory);
    // The raw exports are used directly: a JS wrapper per call would cost more than a short scan.
    this.dot = x.dot;
    this.l2sq = x.l2sq;
    this.scoreRange = x.scoreRange;
    this.scoreSlots = x.scoreSlots;
  }
}

/** Each variant compiled once per process: over ordinary memories, and over shared ones (threads). */
const compiled: { plain?: Promise<WebAssembly.Module>; shared?: Promise<WebAssembly.Module> } = {};

async function compileVariant(shared: boolean): Promise<WebAssembly.Module> {
  if (!shared) return compileEmbedded(KERNELS_WASM_BASE64);
  // Only a database with search threads loads the shared variant's bytes.
  return compileEmbedded((await import("./kernels-shared-wasm.generated.js")).KERNELS_SHARED_WASM_BASE64);
}

/**
 * Returns the kernel factory for this runtime. `prefer: "scalar"` forces the TypeScript reference
 * (tests, debugging); otherwise SIMD is used whenever the runtime supports it, and the scalar
 * reference is the fallback. `precompiled` is the
 * kernels module compiled by the host, used as is (with `shared`, the -shared.wasm build). `shared` makes
 * slabs over shared memories (search threads, src/core/index/hnsw/parallel.ts); it needs SIMD and
 * SharedArrayBuffer, and the scalar reference is never shared. Check `factory.name` to see which was chosen.
 *
 * @example
 * const factory = await loadKernelFactory();   // factory.name === "wasm-simd" on Node 20
 */
export async function loadKernelFactory(
  prefer?: "simd" | "scalar",
  precompiled?: WebAssembly.Module,
  shared = false,
): Promise<KernelFactory> {
  if (prefer === "scalar") return scalarKernelFactory;
  // A module compiled by the host (workerd, strict CSP: see docs/runtimes.md) needs no compilation here.
  if (precompiled) return { name: "wasm-simd", shared, bind: (memory) => new WasmKernels(precompiled, memory) };
  if (!hasWasmSimd()) return scalarKernelFactory;
  const variant = shared ? "shared" : "plain";
  // Compiled once per process and shared: every slab only pays for a cheap instantiation.
  compiled[variant] ??= compileVariant(shared);
  let module: WebAssembly.Module;
  try {
    module = await compiled[variant];
  } catch {
    // A runtime that validates SIMD yet rejects the module (an exotic embedder) still gets correct results
    // from the core's exact search; open() would fail on the HNSW module right after.
    compiled[variant] = undefined;
    return scalarKernelFactory;
  }
  return { name: "wasm-simd", shared, bind: (memory) => new WasmKernels(module, memory) };
}
