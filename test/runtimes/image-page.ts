/**
 * image-workload.ts in Chromium, bundled by images.test.ts through the runtime-neutral entry: the
 * page fetches the three files and embeds them on its main thread with TensorFlow.js's wasm backend,
 * whose .wasm files the test serves under /tfjs/ (libwebp's webp_dec.wasm is served beside the bundle,
 * where the Emscripten glue looks for it, as a bundler would copy it).
 */
import { portableImageEmbedder } from "../../src/images.js";
import { IMAGE_FILES, runImageWorkload } from "./image-workload.js";

Object.assign(globalThis, {
  async runImageWorkload() {
    const files = await Promise.all(
      IMAGE_FILES.map(async (f) => new Uint8Array(await (await fetch(`/${f}`)).arrayBuffer())),
    );
    const result = await runImageWorkload(files, portableImageEmbedder({ backend: "wasm", wasmPaths: "/tfjs/" }));
    const tf = await import("@tensorflow/tfjs");
    return { ...result, backend: tf.getBackend() };
  },
});
