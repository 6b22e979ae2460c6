/**
 * The image entry for every runtime (`quiverdb/images`): the codecs (JPEG, PNG and still WebP to RGBA
 * and back, no native code), the offline MobileNetV2 embedder on the calling thread, and the image
 * embedder types, with no `node:*` import. A separate entry so that no image code reaches the core
 * or browser bundles; Node's entry (`quiverdb`) re-exports the same codecs and adds worker threads,
 * folder ingest and the CLIP provider. docs/images.md says what works in which runtime.
 */
export {
  decodeImage,
  decodeJpeg,
  decodePng,
  encodeJpeg,
  encodePng,
  MAX_IMAGE_MEGAPIXELS,
  thumbnailDataUrl,
  toRgba,
  useWebpWasm,
  webpHeader,
  type WebpWasmSource,
} from "./embed/portable/image-codec.js";
export {
  OFFLINE_IMAGE_DIM,
  OFFLINE_IMAGE_MODEL_ID,
  portableImageEmbedder,
  type OfflineImageBackend,
  type PortableImageEmbedderOptions,
} from "./embed/portable/image-mobilenet.js";
export {
  fitWithin,
  resizeRgba,
  sniffImageFormat,
  type ImageEmbedder,
  type ImageFormat,
  type ImageInput,
  type RgbaImage,
} from "./embed/image.js";
export { httpImageEmbedder, type HttpImageEmbedderOptions } from "./embed/image-http.js";
