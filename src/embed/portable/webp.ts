/**
 * libwebp's still-image decoder (WebAssembly, from @jsquash/webp), loaded on first use. Where its
 * .wasm comes from depends on the runtime: a module handed to `useWebpWasm` first (workerd, which
 * refuses to compile bytes, passes the one its config declares; Node's adapter hands a loader that
 * reads the package's file, as Node's fetch cannot read file: URLs), else the Emscripten glue's own
 * fetch of `webp_dec.wasm` beside itself (browsers, where a bundler copies the file or the page serves
 * it beside the bundle; Deno and Bun, which fetch file: URLs).
 */
import { QuiverError } from "../../core/errors/errors.js";

/** libwebp's decoder as Emscripten builds it: `decode` is null when the bytes are not a WebP it reads. */
interface WebpModule {
  decode(bytes: Uint8Array): { width: number; height: number; data: Uint8ClampedArray } | null;
}

/** A compiled libwebp decoder module, or a function that supplies one (or its bytes) when first needed. */
export type WebpWasmSource = WebAssembly.Module | (() => Promise<WebAssembly.Module | Uint8Array>);

let source: WebpWasmSource | undefined;
let decoder: Promise<WebpModule> | undefined;

/**
 * Where the WebP decoder's WebAssembly comes from, before the first WebP is decoded.
 * @example
 * // workerd: `import webpWasm from "./webp_dec.wasm"` (declared as a wasm module in the config)
 * useWebpWasm(webpWasm);
 */
export function useWebpWasm(wasm: WebpWasmSource): void {
  source = wasm;
  decoder = undefined;
}

/** The runtime's name for an error message (the WebAssembly file could not be had here). */
function runtimeName(): string {
  const g = globalThis as { Deno?: unknown; Bun?: unknown; process?: { versions?: { node?: string } } };
  if (g.Deno) return "Deno";
  if (g.Bun) return "Bun";
  if (typeof navigator !== "undefined" && navigator.userAgent === "Cloudflare-Workers") return "workerd";
  if (g.process?.versions?.node) return "Node";
  return typeof document === "undefined" ? "this worker runtime" : "this browser";
}

async function start(): Promise<WebpModule> {
  const glue = (await import("@jsquash/webp/codec/dec/webp_dec.js")).default as (m: object) => Promise<WebpModule>;
  const options: Record<string, unknown> = { noInitialRun: true };
  if (source) {
    const given = source instanceof WebAssembly.Module ? source : await source();
    const module = given instanceof WebAssembly.Module ? given : await WebAssembly.compile(given as BufferSource);
    options.instantiateWasm = (imports: WebAssembly.Imports, ready: (i: WebAssembly.Instance) => void) => {
      const instance = new WebAssembly.Instance(module, imports);
      ready(instance);
      return instance.exports;
    };
  }
  // Emscripten's glue logs a failed fetch and rejects: its message is the cause, the error says what to do.
  return glue({ ...options, printErr: () => {} });
}

/** The decoder, started once; a failed start is forgotten so that a later `useWebpWasm` can fix it. */
export function webpDecoder(): Promise<WebpModule> {
  decoder ??= start().catch((e: unknown) => {
    decoder = undefined;
    throw new QuiverError(
      "UNSUPPORTED",
      `decoding WebP in ${runtimeName()} needs libwebp's WebAssembly from @jsquash/webp 1.5 ` +
        "(serve codec/dec/webp_dec.wasm beside the bundle, or pass the compiled module to useWebpWasm): " +
        (e instanceof Error ? e.message : String(e)),
      { cause: e },
    );
  });
  return decoder;
}
