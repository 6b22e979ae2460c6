/**
 * Image files to pixels and back without native code (jpeg-js and pngjs in JavaScript, libwebp as
 * WebAssembly from @jsquash/webp; no `sharp`): decoding JPEG, PNG and still WebP to RGBA with a
 * size guard, JPEG encoding, and the small JPEG thumbnail an image record carries. Animated WebP
 * and GIF are recognised and refused with a clear error. No metadata is read: EXIF (camera,
 * location, time) never reaches a payload.
 */
import { readFileSync } from "node:fs";
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

/** libwebp's decoder as Emscripten builds it: `decode` is null when the bytes are not a WebP it reads. */
interface WebpModule {
  decode(bytes: Uint8Array): { width: number; height: number; data: Uint8ClampedArray } | null;
}
let webpModule: WebpModule | undefined;

/**
 * libwebp's decoder, instantiated synchronously on first use so that `decodeImage` stays
 * synchronous like the other two codecs: the Emscripten glue is required (an ES module without
 * top-level await, which `require` loads from Node 20.19), and its wasm compiled from the file the
 * package ships (no fetch, no download). @jsquash/webp's own `decode` wraps the same glue in a
 * Promise only because a browser may not compile wasm synchronously.
 */
function webpDecoder(): WebpModule {
  if (webpModule) return webpModule;
  const module: Partial<WebpModule> & Record<string, unknown> = { noInitialRun: true };
  try {
    const glue = require("@jsquash/webp/codec/dec/webp_dec.js") as { default: (m: object) => unknown };
    const wasm = new WebAssembly.Module(readFileSync(require.resolve("@jsquash/webp/codec/dec/webp_dec.wasm")));
    module.instantiateWasm = (imports: WebAssembly.Imports, ready: (i: WebAssembly.Instance) => void) => {
      const instance = new WebAssembly.Instance(wasm, imports);
      ready(instance);
      return instance.exports;
    };
    // With the instance supplied synchronously the glue has nothing to wait for: it fills `module`
    // before returning (the Promise it returns is already settled).
    void (glue.default(module) as Promise<unknown>).catch(() => {});
    if (typeof module.decode !== "function") throw new Error("the WebP decoder did not start synchronously");
  } catch (e) {
    throw new QuiverError(
      "UNSUPPORTED",
      `decoding WebP needs the npm package @jsquash/webp 1.5 and Node 20.19 or later (${e instanceof Error ? e.message : String(e)})`,
      { cause: e },
    );
  }
  webpModule = module as WebpModule;
  return webpModule;
}

/** Largest image decoded, in megapixels (a 100-megapixel file is most likely hostile). */
export const MAX_IMAGE_MEGAPIXELS = 100;

/**
 * What a WebP file's header says before any pixel is decoded: its canvas size and whether it is
 * animated (VP8X extended header, flag bit 1); null when the first chunk is none of the three.
 */
export function webpHeader(b: Uint8Array): { width: number; height: number; animated: boolean } | null {
  const fourcc = String.fromCharCode(...b.subarray(12, 16));
  const u24 = (at: number) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);
  if (fourcc === "VP8X" && b.length >= 30)
    return { width: u24(24) + 1, height: u24(27) + 1, animated: (b[20] & 0x02) !== 0 };
  if (fourcc === "VP8L" && b.length >= 25 && b[20] === 0x2f) {
    const bits = (b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24)) >>> 0;
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, animated: false };
  }
  if (fourcc === "VP8 " && b.length >= 30)
    return { width: (b[26] | (b[27] << 8)) & 0x3fff, height: (b[28] | (b[29] << 8)) & 0x3fff, animated: false };
  return null;
}

/** Decodes JPEG, PNG or still WebP bytes to RGBA; anything else is INVALID_ARGUMENT naming `path`. */
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
    if (format === "webp") {
      const header = webpHeader(bytes);
      if (header?.animated)
        throw refuse("animated WebP is not decoded (only still images are): convert a frame to PNG or WebP");
      if (header && header.width * header.height > MAX_IMAGE_MEGAPIXELS * 1e6)
        throw refuse(`${header.width} x ${header.height} exceeds ${MAX_IMAGE_MEGAPIXELS} megapixels`);
      const img = webpDecoder().decode(bytes);
      if (!img) throw new Error("libwebp could not read it");
      return {
        width: img.width,
        height: img.height,
        data: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength),
      };
    }
  } catch (e) {
    if (e instanceof QuiverError) throw e;
    throw refuse(`cannot decode this ${format?.toUpperCase()} file: ${e instanceof Error ? e.message : String(e)}`);
  }
  throw refuse(
    format === null
      ? "not an image Quiver can read (JPEG, PNG or WebP)"
      : `${format.toUpperCase()} is recognised but not decoded: convert it to JPEG, PNG or WebP`,
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
