/**
 * WebP files for the image tests, made at test time with @jsquash/webp's encoder (libwebp as
 * WebAssembly), so lossless, lossy and alpha cases come from the real libwebp rather than stored
 * fixtures. The wasm is compiled from the package's file: in Node the glue cannot fetch it.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { RgbaImage } from "../../src/embed/image.js";

const require = createRequire(import.meta.url);
let ready: Promise<typeof import("@jsquash/webp/encode.js")> | undefined;

async function encoder() {
  ready ??= (async () => {
    const encode = await import("@jsquash/webp/encode.js");
    const wasm = await WebAssembly.compile(await readFile(require.resolve("@jsquash/webp/codec/enc/webp_enc.wasm")));
    await (encode.init as (m: WebAssembly.Module) => Promise<unknown>)(wasm);
    return encode;
  })();
  return ready;
}

/** `img` as WebP: lossless (every pixel kept, also under alpha 0) or lossy at `quality`. */
export async function encodeWebp(img: RgbaImage, opts: { lossless: true } | { quality: number }): Promise<Uint8Array> {
  const encode = await encoder();
  const data = new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  const settings = "lossless" in opts ? { lossless: 1, exact: 1 } : { quality: opts.quality, alpha_quality: 100 };
  return new Uint8Array(
    await encode.default({ data, width: img.width, height: img.height, colorSpace: "srgb" } as ImageData, settings),
  );
}
