/**
 * Image files to pixels and back, in pure JavaScript (jpeg-js, pngjs: no native `sharp`): decoding
 * JPEG and PNG to RGBA with a size guard, JPEG encoding, and the small JPEG thumbnail an image
 * record carries. WebP and GIF are recognised and refused with a clear error (no pure-JS decoder is
 * installed). No metadata is read: EXIF (camera, location, time) never reaches a payload.
 */
import { createRequire } from "node:module";
import { QuiverError } from "../../core/errors/errors.js";
import {
  checkRgba,
  fitWithin,
  isRgbaImage,
  resizeRgba,
  sniffImageFormat,
  type ImageInput,
  type RgbaImage,
} from "../image.js";

type JpegJs = typeof import("jpeg-js");
type PngJs = typeof import("pngjs");
const require = createRequire(import.meta.url);

/**
 * The codecs, loaded on first use (both are CommonJS, so synchronously): importing Quiver loads no
 * image code, and a missing package is a clear error rather than a failed import of the whole CLI.
 */
function codec<T>(name: "jpeg-js" | "pngjs"): T {
  try {
    return require(name) as T;
  } catch (e) {
    throw new QuiverError(
      "UNSUPPORTED",
      `reading and writing images needs the npm package ${name} (npm install ${name})`,
      {
        cause: e,
      },
    );
  }
}

/** Largest image decoded, in megapixels (a 100-megapixel file is most likely hostile). */
export const MAX_IMAGE_MEGAPIXELS = 100;

/** Decodes JPEG or PNG bytes to RGBA; anything else is INVALID_ARGUMENT naming `path`. */
export function decodeImage(bytes: Uint8Array, path = "image"): RgbaImage {
  const format = sniffImageFormat(bytes);
  const refuse = (message: string) => QuiverError.fromProblems("INVALID_ARGUMENT", [{ path, message }]);
  try {
    if (format === "jpeg") {
      const img = codec<JpegJs>("jpeg-js").decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: MAX_IMAGE_MEGAPIXELS,
        maxMemoryUsageInMB: 1024,
      });
      return { width: img.width, height: img.height, data: img.data };
    }
    if (format === "png") {
      const img = codec<PngJs>("pngjs").PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      if (img.width * img.height > MAX_IMAGE_MEGAPIXELS * 1e6)
        throw refuse(`${img.width} x ${img.height} exceeds ${MAX_IMAGE_MEGAPIXELS} megapixels`);
      return { width: img.width, height: img.height, data: new Uint8Array(img.data) };
    }
  } catch (e) {
    if (e instanceof QuiverError) throw e;
    throw refuse(`cannot decode this ${format?.toUpperCase()} file: ${e instanceof Error ? e.message : String(e)}`);
  }
  throw refuse(
    format === null
      ? "not an image Quiver can read (JPEG or PNG)"
      : `${format.toUpperCase()} is recognised but not decoded (no pure-JS decoder installed): convert it to JPEG or PNG`,
  );
}

/** Decoded pixels of any ImageInput (RGBA checked, bytes decoded). */
export function toRgba(input: ImageInput, path = "image"): RgbaImage {
  return isRgbaImage(input) ? checkRgba(input, path) : decodeImage(input, path);
}

/** Baseline JPEG of RGBA pixels (alpha dropped) at `quality` 1-100. */
export function encodeJpeg(img: RgbaImage, quality = 85): Uint8Array {
  return new Uint8Array(
    codec<JpegJs>("jpeg-js").encode({ width: img.width, height: img.height, data: img.data }, quality).data,
  );
}

/** Lossless PNG of RGBA pixels. */
export function encodePng(img: RgbaImage): Uint8Array {
  return new Uint8Array(
    codec<PngJs>("pngjs").PNG.sync.write({ width: img.width, height: img.height, data: new Uint8Array(img.data) }),
  );
}

/** A JPEG data URL of the image shrunk to fit `max` x `max` px (what an image record shows in a list). */
export function thumbnailDataUrl(img: RgbaImage, max = 64, quality = 70): string {
  const size = fitWithin(img.width, img.height, max);
  const small = size.width === img.width && size.height === img.height ? img : resizeRgba(img, size.width, size.height);
  return `data:image/jpeg;base64,${Buffer.from(encodeJpeg(small, quality)).toString("base64")}`;
}
