/**
 * Image files to pixels and back in every JavaScript runtime, without native code or node:*: JPEG by
 * jpeg-js and PNG by fast-png (both pure JavaScript), still WebP by libwebp as WebAssembly (webp.ts,
 * loaded on first use), with a size guard read from each header before any pixel is allocated; JPEG
 * and PNG encoding; the small JPEG thumbnail an image record carries. Animated WebP and GIF are
 * recognised and refused with a clear error. No metadata is read: EXIF (camera, location, time) never
 * reaches a payload.
 */
import { decode as decodePngFile, encode as encodePngFile, type DecodedPng } from "fast-png";
import jpeg from "jpeg-js";
import { QuiverError } from "../../core/errors/errors.js";
import {
  base64Of,
  checkRgba,
  fitWithin,
  isRgbaImage,
  resizeRgba,
  sniffImageFormat,
  type ImageInput,
  type RgbaImage,
} from "../image.js";
import { webpDecoder } from "./webp.js";

export { useWebpWasm, type WebpWasmSource } from "./webp.js";

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

/** A PNG's size from its IHDR chunk (bytes 16-23, big-endian), read before fast-png inflates anything. */
function pngSize(b: Uint8Array): { width: number; height: number } | null {
  if (b.length < 24) return null;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/**
 * fast-png's decoded image as 8-bit RGBA: palettes expanded (their tRNS alpha kept), grey repeated
 * into red, green and blue, 16-bit samples cut to their high byte, 1/2/4-bit grey unpacked.
 */
function pngToRgba(png: DecodedPng): RgbaImage {
  const { width, height } = png;
  const out = new Uint8Array(width * height * 4);
  if (png.palette && png.channels === 1) {
    const palette = png.palette;
    const bits = png.depth;
    const rowBytes = Math.ceil((width * bits) / 8);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const bit = x * bits;
        const index = (png.data[y * rowBytes + (bit >> 3)] >> (8 - bits - (bit & 7))) & ((1 << bits) - 1);
        const colour = palette[index] ?? [0, 0, 0];
        const o = (y * width + x) * 4;
        out.set([colour[0], colour[1], colour[2], colour[3] ?? 255], o);
      }
    return { width, height, data: out };
  }
  const channels = png.channels;
  const sample = (i: number): number => {
    if (png.depth === 16) return png.data[i] >> 8;
    if (png.depth === 8) return png.data[i];
    // Grey only at 1, 2 and 4 bits: samples packed from the high bit, each row starting on a byte.
    const x = i % width;
    const y = (i - x) / width;
    const bit = x * png.depth;
    const max = (1 << png.depth) - 1;
    const raw = (png.data[y * Math.ceil((width * png.depth) / 8) + (bit >> 3)] >> (8 - png.depth - (bit & 7))) & max;
    return Math.round((raw * 255) / max);
  };
  for (let p = 0; p < width * height; p++) {
    const o = p * 4;
    const i = p * channels;
    if (channels >= 3) {
      out[o] = sample(i);
      out[o + 1] = sample(i + 1);
      out[o + 2] = sample(i + 2);
    } else out[o] = out[o + 1] = out[o + 2] = sample(i);
    out[o + 3] = channels === 2 || channels === 4 ? sample(i + channels - 1) : 255;
  }
  return { width, height, data: out };
}

/** Refusal of an image at `path`: bad input, reported with its path. */
const refusal = (path: string, message: string) => QuiverError.fromProblems("INVALID_ARGUMENT", [{ path, message }]);

function guardSize(size: { width: number; height: number } | null, path: string): void {
  if (size && size.width * size.height > MAX_IMAGE_MEGAPIXELS * 1e6)
    throw refusal(path, `${size.width} x ${size.height} exceeds ${MAX_IMAGE_MEGAPIXELS} megapixels`);
}

/** Runs a codec, its failure reported as INVALID_ARGUMENT naming `path` (a QuiverError passes as it is). */
function decoding<T>(format: string, path: string, decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    if (e instanceof QuiverError) throw e;
    throw refusal(path, `cannot decode this ${format} file: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** JPEG bytes to RGBA, synchronously (jpeg-js bounds the resolution and memory itself). */
export function decodeJpeg(bytes: Uint8Array, path = "image"): RgbaImage {
  return decoding("JPEG", path, () => {
    const img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: MAX_IMAGE_MEGAPIXELS,
      maxMemoryUsageInMB: 1024,
    });
    return { width: img.width, height: img.height, data: img.data };
  });
}

/** PNG bytes to 8-bit RGBA, synchronously; the size is checked from the header first. */
export function decodePng(bytes: Uint8Array, path = "image"): RgbaImage {
  guardSize(pngSize(bytes), path);
  return decoding("PNG", path, () => pngToRgba(decodePngFile(bytes)));
}

async function decodeWebp(bytes: Uint8Array, path: string): Promise<RgbaImage> {
  const header = webpHeader(bytes);
  if (header?.animated)
    throw refusal(path, "animated WebP is not decoded (only still images are): convert a frame to PNG or WebP");
  guardSize(header, path);
  const decoder = await webpDecoder();
  return decoding("WEBP", path, () => {
    const img = decoder.decode(bytes);
    if (!img) throw new Error("libwebp could not read it");
    return {
      width: img.width,
      height: img.height,
      data: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength),
    };
  });
}

/**
 * Decodes JPEG, PNG or still WebP bytes to RGBA; anything else is INVALID_ARGUMENT naming `path`.
 * Asynchronous because the WebP decoder's WebAssembly is fetched or compiled on first use.
 */
export async function decodeImage(bytes: Uint8Array, path = "image"): Promise<RgbaImage> {
  const format = sniffImageFormat(bytes);
  if (format === "jpeg") return decodeJpeg(bytes, path);
  if (format === "png") return decodePng(bytes, path);
  if (format === "webp") return decodeWebp(bytes, path);
  throw refusal(
    path,
    format === null
      ? "not an image Quiver can read (JPEG, PNG or WebP)"
      : `${format.toUpperCase()} is recognised but not decoded: convert it to JPEG, PNG or WebP`,
  );
}

/** Decoded pixels of any ImageInput (RGBA checked, bytes decoded). */
export async function toRgba(input: ImageInput, path = "image"): Promise<RgbaImage> {
  return isRgbaImage(input) ? checkRgba(input, path) : decodeImage(input, path);
}

/**
 * Baseline JPEG of RGBA pixels (alpha dropped) at `quality` 1-100. jpeg-js 0.4 returns
 * `Buffer.from(bytes)` whenever it runs as CommonJS, which a bundle makes it even in a browser or a
 * worker: where no Buffer exists, a stand-in that makes a Uint8Array is there for the (synchronous) call.
 */
export function encodeJpeg(img: RgbaImage, quality = 85): Uint8Array {
  const g = globalThis as { Buffer?: unknown };
  const shim = g.Buffer === undefined;
  if (shim) g.Buffer = { from: (bytes: number[]) => new Uint8Array(bytes) };
  try {
    const out = jpeg.encode({ width: img.width, height: img.height, data: img.data }, quality).data;
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } finally {
    if (shim) delete g.Buffer;
  }
}

/** Lossless 8-bit RGBA PNG. */
export function encodePng(img: RgbaImage): Uint8Array {
  return encodePngFile({ width: img.width, height: img.height, data: img.data, channels: 4, depth: 8 });
}

/** A JPEG data URL of the image shrunk to fit `max` x `max` px (what an image record shows in a list). */
export function thumbnailDataUrl(img: RgbaImage, max = 64, quality = 70): string {
  const size = fitWithin(img.width, img.height, max);
  const small = size.width === img.width && size.height === img.height ? img : resizeRgba(img, size.width, size.height);
  return `data:image/jpeg;base64,${base64Of(encodeJpeg(small, quality))}`;
}
