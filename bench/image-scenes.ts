/**
 * Procedurally drawn scenes with known classes, and transformed copies of them, for the image
 * bench and tests: a class is a shape, a colour and a texture; its instances vary in position,
 * size, background and noise (seeded, so every run draws the same set). Copies are what a photo
 * library holds twice: crops, resizes, colour shifts and JPEG re-encodings.
 */
import type { RgbaImage } from "../src/embed/image.js";
import { resizeRgba } from "../src/embed/image.js";
import { decodeJpeg, encodeJpeg } from "../src/embed/node/image-codec.js";

export type Shape = "circle" | "square" | "triangle" | "ring";
export type Texture = "solid" | "stripes" | "checker" | "dots";

export interface SceneClass {
  name: string;
  shape: Shape;
  texture: Texture;
  rgb: [number, number, number];
}

/** Eight classes: every shape twice, each with its own colour and texture. */
export const SCENE_CLASSES: SceneClass[] = [
  { name: "red-circle-solid", shape: "circle", texture: "solid", rgb: [220, 40, 40] },
  { name: "blue-square-stripes", shape: "square", texture: "stripes", rgb: [40, 70, 220] },
  { name: "green-triangle-checker", shape: "triangle", texture: "checker", rgb: [40, 180, 60] },
  { name: "yellow-ring-dots", shape: "ring", texture: "dots", rgb: [230, 210, 40] },
  { name: "purple-circle-checker", shape: "circle", texture: "checker", rgb: [150, 50, 190] },
  { name: "orange-square-dots", shape: "square", texture: "dots", rgb: [240, 140, 30] },
  { name: "cyan-triangle-stripes", shape: "triangle", texture: "stripes", rgb: [40, 200, 210] },
  { name: "white-ring-solid", shape: "ring", texture: "solid", rgb: [240, 240, 240] },
];

export const TRANSFORMS = ["crop", "resize", "colour", "jpeg"] as const;
export type Transform = (typeof TRANSFORMS)[number];

/** mulberry32: a small seeded generator, so a scene is a function of its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function inside(shape: Shape, dx: number, dy: number, r: number): boolean {
  switch (shape) {
    case "circle":
      return dx * dx + dy * dy <= r * r;
    case "square":
      return Math.abs(dx) <= r * 0.85 && Math.abs(dy) <= r * 0.85;
    case "triangle":
      return dy <= r * 0.8 && dy >= -r && Math.abs(dx) <= ((dy + r) / 1.8) * 1.1;
    case "ring": {
      const d = Math.sqrt(dx * dx + dy * dy);
      return d <= r && d >= r * 0.6;
    }
  }
}

function textured(texture: Texture, x: number, y: number, period: number): boolean {
  switch (texture) {
    case "solid":
      return true;
    case "stripes":
      return Math.floor((x + y) / period) % 2 === 0;
    case "checker":
      return (Math.floor(x / period) + Math.floor(y / period)) % 2 === 0;
    case "dots": {
      const cx = (x % period) - period / 2;
      const cy = (y % period) - period / 2;
      return cx * cx + cy * cy <= (period * period) / 8;
    }
  }
}

/** Instance `seed` of a class, `size` x `size` px. */
export function drawScene(cls: SceneClass, seed: number, size = 128): RgbaImage {
  const rnd = random(seed * 7919 + SCENE_CLASSES.indexOf(cls) * 104729 + 1);
  const data = new Uint8Array(size * size * 4);
  const bg = [rnd() * 90, rnd() * 90, rnd() * 90];
  const r = size * (0.25 + rnd() * 0.12);
  const cx = size * (0.38 + rnd() * 0.24);
  const cy = size * (0.38 + rnd() * 0.24);
  const period = Math.max(4, Math.round(size * (0.06 + rnd() * 0.03)));
  const shade = 0.55;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 4;
      const noise = (rnd() - 0.5) * 24;
      const fill = inside(cls.shape, x - cx, y - cy, r);
      const c = fill ? cls.rgb.map((v) => (textured(cls.texture, x, y, period) ? v : v * shade)) : bg;
      for (let ch = 0; ch < 3; ch++) data[o + ch] = Math.max(0, Math.min(255, Math.round(c[ch] + noise)));
      data[o + 3] = 255;
    }
  return { width: size, height: size, data };
}

/** A transformed copy of an image. */
export function transformScene(img: RgbaImage, t: Transform): RgbaImage {
  switch (t) {
    case "crop": {
      // The central 80%, scaled back to the original size.
      const w = Math.round(img.width * 0.8);
      const h = Math.round(img.height * 0.8);
      const x0 = Math.round((img.width - w) / 2);
      const y0 = Math.round((img.height - h) / 2);
      const data = new Uint8Array(w * h * 4);
      for (let y = 0; y < h; y++)
        data.set(img.data.subarray(((y0 + y) * img.width + x0) * 4, ((y0 + y) * img.width + x0 + w) * 4), y * w * 4);
      return resizeRgba({ width: w, height: h, data }, img.width, img.height);
    }
    case "resize":
      return resizeRgba(img, Math.round(img.width * 0.6), Math.round(img.height * 0.6));
    case "colour": {
      // Warmer and brighter: red up, blue down, everything +15.
      const data = new Uint8Array(img.data);
      for (let i = 0; i < data.length; i += 4) {
        data[i] = Math.min(255, data[i] * 1.1 + 15);
        data[i + 1] = Math.min(255, data[i + 1] + 15);
        data[i + 2] = Math.min(255, data[i + 2] * 0.85 + 15);
      }
      return { width: img.width, height: img.height, data };
    }
    case "jpeg":
      return decodeJpeg(encodeJpeg(img, 35));
  }
}

export interface SceneImage {
  /** e.g. `red-circle-solid/2/crop` (the original's last part is `original`). */
  name: string;
  classIndex: number;
  /** Index of the original this image is (a copy of), across the whole set. */
  group: number;
  image: RgbaImage;
}

/** `perClass` originals of each of the first `classes` classes, each followed by its transformed copies. */
export function sceneSet(classes = SCENE_CLASSES.length, perClass = 3, size = 128): SceneImage[] {
  const out: SceneImage[] = [];
  let group = 0;
  for (let c = 0; c < classes; c++)
    for (let s = 0; s < perClass; s++, group++) {
      const cls = SCENE_CLASSES[c];
      const image = drawScene(cls, s, size);
      out.push({ name: `${cls.name}/${s}/original`, classIndex: c, group, image });
      for (const t of TRANSFORMS)
        out.push({ name: `${cls.name}/${s}/${t}`, classIndex: c, group, image: transformScene(image, t) });
    }
  return out;
}
