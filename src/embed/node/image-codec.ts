/**
 * The image codecs (src/embed/portable/image-codec.ts) as Node code uses them: the same functions,
 * with libwebp's WebAssembly read from the @jsquash/webp package's file on first use (Node's fetch,
 * which the Emscripten glue would use, cannot read file: URLs). Importing this module only names the
 * loader; nothing is read until a WebP is decoded.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { useWebpWasm } from "../portable/image-codec.js";

export {
  decodeImage,
  decodeJpeg,
  decodePng,
  encodeJpeg,
  encodePng,
  MAX_IMAGE_MEGAPIXELS,
  thumbnailDataUrl,
  toRgba,
  webpHeader,
} from "../portable/image-codec.js";

useWebpWasm(async () => {
  const file = createRequire(import.meta.url).resolve("@jsquash/webp/codec/dec/webp_dec.wasm");
  return new Uint8Array(await readFile(file));
});
