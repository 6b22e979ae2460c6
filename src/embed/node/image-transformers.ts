/**
 * The text-image embedder: a CLIP or SigLIP model run by transformers.js (`@huggingface/transformers`,
 * an optional peer dependency, loaded on first use) from a folder the user supplies; never a
 * download (`allowRemoteModels` is off). Its images and texts share one space, so a collection of
 * images it embedded can be searched by words. The folder is checked when the embedder is made, so a
 * wrong path fails at once with every missing file named, not at the first image.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import { QuiverError, type Problem } from "../../core/errors/errors.js";
import { l2Normalize, type ImageEmbedder, type ImageInput } from "../image.js";
import { toRgba } from "./image-codec.js";

type Transformers = typeof import("@huggingface/transformers");

/** Weight precisions transformers.js can load, and the file-name suffix of each (its own convention). */
const DTYPE_SUFFIX = { fp32: "", fp16: "_fp16", q8: "_quantized", int8: "_int8", uint8: "_uint8", q4: "_q4" };
export type TransformersDtype = keyof typeof DTYPE_SUFFIX;

/** What each supported architecture is called in transformers.js, and which output is the embedding. */
const ARCHITECTURES = {
  clip: {
    text: "CLIPTextModelWithProjection",
    vision: "CLIPVisionModelWithProjection",
    textOutput: "text_embeds",
    imageOutput: "image_embeds",
    padding: true,
  },
  siglip: {
    text: "SiglipTextModel",
    vision: "SiglipVisionModel",
    textOutput: "pooler_output",
    imageOutput: "pooler_output",
    // SigLIP was trained on texts padded to the full length; shorter padding shifts its vectors.
    padding: "max_length",
  },
} as const;
type Architecture = keyof typeof ARCHITECTURES;

export interface TransformersImageEmbedderOptions {
  /** A folder holding a transformers.js export: config.json, tokenizer files, preprocessor_config.json, onnx/. */
  modelPath: string;
  /** Which weight files to load (default fp32: onnx/text_model.onnx and onnx/vision_model.onnx). */
  dtype?: TransformersDtype;
}

/** A text-image embedder: `embedTexts` (and `embed`, the same, for binding as a text Embedder) beside `embedImages`. */
export interface TransformersImageEmbedder extends ImageEmbedder {
  readonly dim: number;
  embedTexts(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
  close(): Promise<void>;
}

interface ModelFolder {
  path: string;
  architecture: Architecture;
  dim: number;
}

function readJson(file: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Checks the folder has everything the embedder reads, reporting every missing or unreadable file. */
export function checkModelFolder(modelPath: string, dtype: TransformersDtype = "fp32"): ModelFolder {
  const path = resolve(modelPath);
  const problems: Problem[] = [];
  if (!existsSync(path))
    throw QuiverError.fromProblems("NOT_FOUND", [{ path: "modelPath", message: `no model folder at ${path}` }]);
  if (!Object.hasOwn(DTYPE_SUFFIX, dtype))
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      { path: "dtype", message: `is "${dtype}"; one of ${Object.keys(DTYPE_SUFFIX).join(", ")}` },
    ]);
  const suffix = DTYPE_SUFFIX[dtype];
  const files = [
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "preprocessor_config.json",
    `onnx/text_model${suffix}.onnx`,
    `onnx/vision_model${suffix}.onnx`,
  ];
  for (const f of files)
    if (!existsSync(join(path, f))) problems.push({ path: `modelPath/${f}`, message: `missing in ${path}` });
  const config = readJson(join(path, "config.json"));
  let architecture: Architecture = "clip";
  let dim = 0;
  if (config) {
    const type = config.model_type;
    if (type === "clip" || type === "siglip") architecture = type;
    else
      problems.push({
        path: "modelPath/config.json/model_type",
        message: `is ${JSON.stringify(type)}: only "clip" and "siglip" models embed both texts and images`,
      });
    // CLIP projects both towers to projection_dim; SigLIP's pooled outputs have the towers' width.
    const vision = config.vision_config as Record<string, unknown> | undefined;
    const width = type === "siglip" ? vision?.hidden_size : (config.projection_dim ?? 512);
    if (Number.isInteger(width) && (width as number) > 0) dim = width as number;
    else problems.push({ path: "modelPath/config.json", message: "gives no embedding width (projection_dim)" });
  } else if (existsSync(join(path, "config.json")))
    problems.push({ path: "modelPath/config.json", message: "is not valid JSON" });
  if (problems.length > 0) throw QuiverError.fromProblems("INVALID_ARGUMENT", problems);
  return { path, architecture, dim };
}

interface Loaded {
  tokenizer: Awaited<ReturnType<Transformers["AutoTokenizer"]["from_pretrained"]>>;
  processor: Awaited<ReturnType<Transformers["AutoImageProcessor"]["from_pretrained"]>>;
  text: Awaited<ReturnType<Transformers["PreTrainedModel"]["from_pretrained"]>>;
  vision: Awaited<ReturnType<Transformers["PreTrainedModel"]["from_pretrained"]>>;
  RawImage: Transformers["RawImage"];
}

/**
 * Loads one after another: transformers.js reads `env.localModelPath`, one setting for the whole
 * process, while it opens files, so two models from different parent folders must not load at once.
 */
let loads: Promise<unknown> = Promise.resolve();
function loadInTurn(folder: ModelFolder, dtype: TransformersDtype): Promise<Loaded> {
  const next = loads.then(() => load(folder, dtype));
  loads = next.catch(() => undefined);
  return next;
}

async function load(folder: ModelFolder, dtype: TransformersDtype): Promise<Loaded> {
  let t: Transformers;
  try {
    t = await import("@huggingface/transformers");
  } catch (e) {
    throw new QuiverError(
      "UNSUPPORTED",
      "the text-image embedder needs the npm package @huggingface/transformers (npm install @huggingface/transformers@3)",
      { cause: e },
    );
  }
  // transformers.js resolves a model name under localModelPath; the folder's parent is that root.
  t.env.allowRemoteModels = false;
  t.env.allowLocalModels = true;
  t.env.localModelPath = dirname(folder.path) + sep;
  const name = basename(folder.path);
  const names = ARCHITECTURES[folder.architecture];
  const opts = { local_files_only: true, dtype, device: "cpu" as const };
  const classes = t as unknown as Record<string, Transformers["PreTrainedModel"]>;
  const [tokenizer, processor, text, vision] = await Promise.all([
    t.AutoTokenizer.from_pretrained(name, { local_files_only: true }),
    t.AutoImageProcessor.from_pretrained(name, { local_files_only: true }),
    classes[names.text].from_pretrained(name, opts),
    classes[names.vision].from_pretrained(name, opts),
  ]);
  return { tokenizer, processor, text, vision, RawImage: t.RawImage };
}

/** Rows of a [batch, dim] output tensor as normalised vectors, checked against the declared width. */
function rows(output: unknown, name: string, count: number, dim: number): Float32Array[] {
  const tensor = output as { dims?: number[]; data?: Float32Array } | undefined;
  if (!tensor?.data || tensor.dims?.length !== 2 || tensor.dims[0] !== count || tensor.dims[1] !== dim)
    throw new QuiverError(
      "EMBEDDING_FAILED",
      `the model's ${name} output is ${JSON.stringify(tensor?.dims)}, not [${count}, ${dim}] (config.json's width)`,
    );
  return Array.from({ length: count }, (_, i) => l2Normalize(tensor.data!.slice(i * dim, (i + 1) * dim)));
}

/**
 * @example
 * // once, with internet (and git-lfs): git clone https://huggingface.co/Xenova/clip-vit-base-patch32 ./clip
 * const clip = transformersImageEmbedder({ modelPath: "./clip" });
 * const [photo] = await clip.embedImages([readFileSync("car.jpg")]);
 * const [words] = await clip.embedTexts(["a red car"]);
 */
export function transformersImageEmbedder(opts: TransformersImageEmbedderOptions): TransformersImageEmbedder {
  const dtype = opts.dtype ?? "fp32";
  const folder = checkModelFolder(opts.modelPath, dtype);
  const names = ARCHITECTURES[folder.architecture];
  let loading: Promise<Loaded> | null = null;
  const loaded = () =>
    (loading ??= loadInTurn(folder, dtype).catch((e: unknown) => {
      loading = null;
      throw e instanceof QuiverError
        ? e
        : new QuiverError("EMBEDDING_FAILED", `loading the model in ${folder.path}: ${(e as Error).message}`, {
            cause: e,
          });
    }));
  const embedTexts = async (texts: string[], signal?: AbortSignal): Promise<Float32Array[]> => {
    const m = await loaded();
    signal?.throwIfAborted();
    const inputs = m.tokenizer(texts, { padding: names.padding, truncation: true });
    const out = (await m.text(inputs)) as Record<string, unknown>;
    return rows(out[names.textOutput], names.textOutput, texts.length, folder.dim);
  };
  const suffix = dtype === "fp32" ? "" : `:${dtype}`;
  return {
    id: `transformers.js:${folder.architecture}:${basename(folder.path)}${suffix}`,
    dim: folder.dim,
    maxBatch: 16,
    async embedImages(images: ImageInput[], signal?: AbortSignal) {
      const m = await loaded();
      const raw = [];
      for (const [n, im] of images.entries()) {
        const px = await toRgba(im, `images[${n}]`);
        raw.push(new m.RawImage(new Uint8ClampedArray(px.data), px.width, px.height, 4));
      }
      signal?.throwIfAborted();
      const { pixel_values } = await m.processor(raw);
      const out = (await m.vision({ pixel_values })) as Record<string, unknown>;
      return rows(out[names.imageOutput], names.imageOutput, images.length, folder.dim);
    },
    embedTexts,
    embed: embedTexts,
    async close() {
      const m = await loading?.catch(() => null);
      loading = null;
      await Promise.all([m?.text.dispose(), m?.vision.dispose()]);
    },
  };
}
