// Compiles the WebAssembly HNSW module once per process and instantiates it over a slab's memory.
// The module needs WebAssembly SIMD; hasWasmSimd() tells whether this runtime has it.

import { QuiverError } from "../../errors/errors.js";
import { hasWasmSimd } from "../../kernels/load.js";
import { HNSW_WASM_BASE64 } from "./hnsw-wasm.generated.js";

/** The raw exports (see src/core/kernels/assembly/hnsw/hnsw.ts); every pointer is a byte offset into the slab's memory. */
export interface HnswExports {
  insert(hdr: number, slot: number, level: number): void;
  search(hdr: number, k: number, ef: number, filterMode: number): number;
  consolidate(hdr: number): number;
  encodeAll(hdr: number): void;
  encodeRange(hdr: number, first: number, count: number, src: number): void;
}

let compiled: Promise<WebAssembly.Module> | undefined;

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The compiled module (compiled once, shared by every index). */
export async function loadHnswModule(): Promise<WebAssembly.Module> {
  if (!hasWasmSimd()) {
    throw new QuiverError("UNSUPPORTED", "the HNSW index needs WebAssembly SIMD, which this runtime lacks");
  }
  compiled ??= WebAssembly.compile(decodeBase64(HNSW_WASM_BASE64));
  return compiled;
}

export function instantiateHnsw(module: WebAssembly.Module, memory: WebAssembly.Memory): HnswExports {
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as HnswExports;
}
