// The plumbing both embedded WebAssembly modules share (the kernels and the HNSW graph): decoding the
// base64 a *-wasm.generated.ts file holds, and instantiating a compiled module over a slab's memory.

/** Compiles a module embedded as base64; the core has no fs or fetch to load a .wasm file with. */
export function compileEmbedded(base64: string): Promise<WebAssembly.Module> {
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return WebAssembly.compile(bytes);
}

/**
 * Instantiates `module` over `memory`, its only import. `Exports` is the module's interface generated
 * from src/core/kernels/boundary.json; the build checked the module exports exactly those signatures.
 */
export function instantiateOver<Exports>(module: WebAssembly.Module, memory: WebAssembly.Memory): Exports {
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Exports;
}
