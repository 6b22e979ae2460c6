/**
 * image-workload.ts inside workerd, bundled by images.test.ts: the three files and libwebp's
 * webp_dec.wasm reach the worker as modules its config declares (workerd refuses to compile
 * WebAssembly from bytes, so the decoder is handed the compiled module through `useWebpWasm`), and
 * `workerd test` calls `test()`, which decodes them, embeds them on TensorFlow.js's CPU backend
 * (its wasm backend compiles bytes, which workerd refuses), and logs one marked JSON line.
 */
import { portableImageEmbedder, useWebpWasm } from "../../src/images.js";
import { runImageWorkload } from "./image-workload.js";

/** Marks the result line in workerd's output, for images.test.ts to find and parse. */
export const IMAGE_RESULT_MARK = "QUIVER_WORKERD_IMAGES ";

export function imageWorker(webp: WebAssembly.Module, files: ArrayBuffer[]) {
  return {
    async test() {
      useWebpWasm(webp);
      const result = await runImageWorkload(
        files.map((f) => new Uint8Array(f)),
        portableImageEmbedder({ backend: "cpu" }),
      );
      const tf = await import("@tensorflow/tfjs");
      console.log(IMAGE_RESULT_MARK + JSON.stringify({ ...result, backend: tf.getBackend() }));
    },
  };
}
