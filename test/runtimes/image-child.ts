/**
 * image-workload.ts as a process, run by images.test.ts under Node, Bun and Deno through the
 * runtime-neutral entry (`quiverdb/images`): `image-child.js DIR` reads DIR's three files, decodes
 * and embeds them on the calling thread (TensorFlow.js's wasm backend, its files read from the
 * package's folder), and prints one JSON line. Node alone is handed libwebp's wasm: its fetch cannot
 * read the file: URL the Emscripten glue asks for, which Bun's and Deno's can.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, sep } from "node:path";
import { portableImageEmbedder, useWebpWasm } from "../../src/images.js";
import { IMAGE_FILES, runImageWorkload } from "./image-workload.js";

const require = createRequire(import.meta.url);
const runtime = globalThis as { Deno?: unknown; Bun?: unknown };
if (!runtime.Deno && !runtime.Bun)
  useWebpWasm(async () => new Uint8Array(await readFile(require.resolve("@jsquash/webp/codec/dec/webp_dec.wasm"))));
const wasmPaths = dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm")) + sep;
const dir = process.argv[2];
const files = await Promise.all(IMAGE_FILES.map(async (f) => new Uint8Array(await readFile(join(dir, f)))));
const result = await runImageWorkload(files, portableImageEmbedder({ backend: "wasm", wasmPaths }));
const tf = await import("@tensorflow/tfjs");
console.log(JSON.stringify({ ...result, backend: tf.getBackend() }));
