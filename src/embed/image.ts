/**
 * The image side of embedding, runtime-neutral: what an image is (encoded bytes or decoded RGBA),
 * the ImageEmbedder interface every image provider implements, and the pixel work every provider
 * shares (format sniffing, bilinear resizing). Decoders live in
 * src/embed/portable/image-codec.ts (npm codecs, no node:*).
 */
import { QuiverError } from "../core/errors/errors.js";

/** Decoded pixels: `data` holds width * height * 4 bytes, row-major RGBA. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** An image as a provider accepts it: a file's encoded bytes (JPEG, PNG) or decoded RGBA. */
export type ImageInput = Uint8Array | RgbaImage;

/** The encodings Quiver recognises by their magic bytes. */
export type ImageFormat = "jpeg" | "png" | "webp" | "gif";

/**
 * Turns images into vectors. Like the text Embedder, a provider embeds one batch in order;
 * `embedTexts` exists only on text-image models (CLIP-style), whose texts and images share one space.
 * @example
 * const e = offlineImageEmbedder();
 * const [v] = await e.embedImages([readFileSync("photo.jpg")]);
 */
export interface ImageEmbedder {
  /** Identity of the model, e.g. `nsfwjs:mobilenet_v2:block_16_project:avg`; stored with every image it embeds. */
  readonly id: string;
  readonly dim?: number;
  /** Most images per call the provider accepts (default 16). */
  readonly maxBatch?: number;
  /** One L2-normalised vector per image, in order. */
  embedImages(images: ImageInput[], signal?: AbortSignal): Promise<Float32Array[]>;
  /** Text into the same space, for text-to-image search; absent on image-to-image models. */
  embedTexts?(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
}

export function isRgbaImage(x: unknown): x is RgbaImage {
  if (typeof x !== "object" || x === null || ArrayBuffer.isView(x)) return false;
  const r = x as Partial<RgbaImage>;
  return (
    Number.isInteger(r.width) &&
    Number.isInteger(r.height) &&
    (r.data instanceof Uint8Array || r.data instanceof Uint8ClampedArray)
  );
}

/** Checks decoded pixels: positive integer sides and exactly width * height * 4 bytes. */
export function checkRgba(img: RgbaImage, path = "image"): RgbaImage {
  if (!(img.width > 0 && img.height > 0) || img.data.length !== img.width * img.height * 4)
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      {
        path,
        message: `RGBA data of ${img.data.length} bytes does not match ${img.width} x ${img.height} x 4`,
      },
    ]);
  return img;
}

/** The format of encoded bytes from their first bytes, or null when Quiver does not recognise it. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  const b = bytes;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "png";
  const ascii = (from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
  if (b.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "webp";
  if (b.length >= 6 && ascii(0, 4) === "GIF8") return "gif";
  return null;
}

/** Averages each `f` x `f` block into one pixel (the edge's partial blocks dropped). */
function boxShrink(img: RgbaImage, f: number): RgbaImage {
  const width = Math.floor(img.width / f);
  const height = Math.floor(img.height / f);
  const out = new Uint8Array(width * height * 4);
  const sums = new Float64Array(4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      sums.fill(0);
      for (let dy = 0; dy < f; dy++)
        for (let dx = 0; dx < f; dx++) {
          const i = ((y * f + dy) * img.width + x * f + dx) * 4;
          for (let ch = 0; ch < 4; ch++) sums[ch] += img.data[i + ch];
        }
      for (let ch = 0; ch < 4; ch++) out[(y * width + x) * 4 + ch] = Math.round(sums[ch] / (f * f));
    }
  return { width, height, data: out };
}

/**
 * Resampling to `width` x `height`, alpha kept: block averages first when shrinking by 2x or more
 * (bilinear alone would alias a photo into noise), then bilinear with pixel centres aligned.
 */
export function resizeRgba(source: RgbaImage, width: number, height: number): RgbaImage {
  const factor = Math.floor(Math.min(source.width / width, source.height / height));
  const img = factor >= 2 ? boxShrink(source, factor) : source;
  const out = new Uint8Array(width * height * 4);
  const sx = img.width / width;
  const sy = img.height / height;
  const src = img.data;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      const wx = fx - x0;
      const a = (y0 * img.width + x0) * 4;
      const b = (y0 * img.width + x1) * 4;
      const c = (y1 * img.width + x0) * 4;
      const d = (y1 * img.width + x1) * 4;
      const o = (y * width + x) * 4;
      for (let ch = 0; ch < 4; ch++) {
        const top = src[a + ch] + (src[b + ch] - src[a + ch]) * wx;
        const bottom = src[c + ch] + (src[d + ch] - src[c + ch]) * wx;
        out[o + ch] = Math.round(top + (bottom - top) * wy);
      }
    }
  }
  return { width, height, data: out };
}

/** The size that fits within `max` x `max` keeping the aspect ratio (never enlarged). */
export function fitWithin(width: number, height: number, max: number): { width: number; height: number } {
  const scale = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Base64 of bytes, in slices (String.fromCharCode takes a bounded number of arguments). */
export function base64Of(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, Math.min(i + 0x8000, bytes.length)));
  return btoa(binary);
}

/** Scales a vector to unit length in place (a zero vector stays zero). */
export function l2Normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const n = Math.sqrt(s);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

/** An image provider's failure as the QuiverError callers see (a QuiverError, e.g. bad input, passes as it is). */
export function imageEmbeddingFailed(e: unknown, embedder: string): QuiverError {
  if (e instanceof QuiverError) return e;
  return new QuiverError(
    "EMBEDDING_FAILED",
    `image embedder ${embedder}: ${e instanceof Error ? e.message : String(e)}`,
    {
      cause: e,
    },
  );
}
