// Compiles the WebAssembly HNSW module once per process and instantiates it over a slab's memory.
// The module needs WebAssembly SIMD; hasWasmSimd() tells whether this runtime has it. Its bytes (16 KB) are
// imported on first use, so a bundler splits them into a chunk that an app without an HNSW index never loads.

import { isQuiverError, QuiverError } from "../../errors/errors.js";
import type { HnswExports } from "../../kernels/boundary.generated.js";
import { compileEmbedded, instantiateOver } from "../../kernels/embedded.js";
import { hasWasmSimd } from "../../kernels/load.js";

/** The raw exports, declared in src/core/kernels/boundary.json; every pointer is a byte offset into the slab's memory. */
export type { HnswExports };

/** Each variant compiled once per process: over ordinary memories, and over shared ones (search threads). */
const compiled: { plain?: Promise<WebAssembly.Module>; shared?: Promise<WebAssembly.Module> } = {};

function compileVariant(shared: boolean): Promise<WebAssembly.Module> {
  return shared
    ? import("./hnsw-shared-wasm.generated.js").then((m) => compileEmbedded(m.HNSW_SHARED_WASM_BASE64))
    : import("./hnsw-wasm.generated.js").then((m) => compileEmbedded(m.HNSW_WASM_BASE64));
}

/**
 * The compiled module (compiled once, shared by every index), or `precompiled` when given: hosts that
 * forbid compiling WebAssembly from bytes (workerd, pages with a strict CSP) pass it in through
 * `open(…, { wasm: { hnsw } })`. Throws UNSUPPORTED naming that option when compilation is refused.
 * `shared`: the build whose memory import is shared (slabs of a database with search threads).
 */
export async function loadHnswModule(precompiled?: WebAssembly.Module, shared = false): Promise<WebAssembly.Module> {
  if (precompiled) return precompiled;
  if (!hasWasmSimd()) {
    throw new QuiverError("UNSUPPORTED", "the HNSW index needs WebAssembly SIMD, which this runtime lacks");
  }
  const variant = shared ? "shared" : "plain";
  compiled[variant] ??= compileVariant(shared);
  try {
    return await compiled[variant];
  } catch (e) {
    compiled[variant] = undefined;
    const why = e instanceof Error ? e.message : String(e);
    throw new QuiverError(
      "UNSUPPORTED",
      `this runtime refused to compile the HNSW WebAssembly module (${why}); pass it precompiled with open(path, { wasm: { hnsw } }) (docs/runtimes.md)`,
      { cause: e },
    );
  }
}

/**
 * The module, or why this runtime cannot have it (no SIMD, or compiling refused and none passed in):
 * a database then answers every vector query with an exact scan and says so, instead of failing.
 */
export async function hnswModuleOrReason(
  precompiled?: WebAssembly.Module,
  shared = false,
): Promise<{ module: WebAssembly.Module; unavailable?: undefined } | { module: null; unavailable: string }> {
  try {
    return { module: await loadHnswModule(precompiled, shared) };
  } catch (e) {
    if (!isQuiverError(e, "UNSUPPORTED")) throw e;
    return { module: null, unavailable: e.message };
  }
}

export function instantiateHnsw(module: WebAssembly.Module, memory: WebAssembly.Memory): HnswExports {
  return instantiateOver<HnswExports>(module, memory);
}
