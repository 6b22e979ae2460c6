/**
 * A tiny, deterministic CLIP-shaped (or SigLIP-shaped) model folder written at test time (no real
 * weights exist on the test machines): the files transformers.js reads for CLIP, or SigLIP (whose
 * towers answer `pooler_output`), with ONNX graphs written by onnx-proto.
 * Images: the mean of each normalised colour channel, projected to 4 dimensions. Texts: the mean of
 * the tokens' embeddings, where the colour words sit where an image of that colour lands (every
 * other word at zero), projected the same way; so "a red car" lands on red pictures.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;

/** The projection both towers share: 3 colour channels to 4 dimensions. */
export const TINY_CLIP_DIM = 4;
const PROJECTION = [1, 0, 0, 0.2, 0, 1, 0, 0.2, 0, 0, 1, 0.2];
/** The vocabulary; the colour words carry the normalised pixel (2 * c - 1) of their colour. */
const WORDS: Record<string, [number, number, number]> = {
  "[PAD]": [0, 0, 0],
  "[UNK]": [0, 0, 0],
  a: [0, 0, 0],
  photo: [0, 0, 0],
  of: [0, 0, 0],
  car: [0, 0, 0],
  red: [1, -1, -1],
  green: [-1, 1, -1],
  blue: [-1, -1, 1],
};
/** The side images are cropped to (small, so the test runs fast). */
const SIDE = 32;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

function floats(name: string, dims: number[], values: number[]) {
  return onnx.TensorProto.create({ name, dims, dataType: FLOAT, floatData: values });
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

function model(graph: InstanceType<typeof onnx.GraphProto>): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 7,
      opsetImport: [{ domain: "", version: 13 }],
      producerName: "quiver-test",
      graph,
    }),
  ).finish();
}

const textGraph = (output: string) =>
  onnx.GraphProto.create({
    name: "text",
    initializer: [
      floats("token_embedding", [Object.keys(WORDS).length, 3], Object.values(WORDS).flat()),
      floats("text_projection", [3, TINY_CLIP_DIM], PROJECTION),
    ],
    node: [
      {
        opType: "Gather",
        input: ["token_embedding", "input_ids"],
        output: ["tokens"],
        attribute: [{ name: "axis", i: 0, type: onnx.AttributeProto.AttributeType.INT }],
      },
      {
        opType: "ReduceMean",
        input: ["tokens"],
        output: ["pooled"],
        attribute: [
          { name: "axes", ints: [1], type: onnx.AttributeProto.AttributeType.INTS },
          { name: "keepdims", i: 0, type: onnx.AttributeProto.AttributeType.INT },
        ],
      },
      { opType: "MatMul", input: ["pooled", "text_projection"], output: [output] },
    ],
    input: [valueInfo("input_ids", INT64, ["batch", "sequence"])],
    output: [valueInfo(output, FLOAT, ["batch", TINY_CLIP_DIM])],
  });

const visionGraph = (output: string) =>
  onnx.GraphProto.create({
    name: "vision",
    initializer: [floats("visual_projection", [3, TINY_CLIP_DIM], PROJECTION)],
    node: [
      { opType: "GlobalAveragePool", input: ["pixel_values"], output: ["channels"] },
      {
        opType: "Flatten",
        input: ["channels"],
        output: ["pooled"],
        attribute: [{ name: "axis", i: 1, type: onnx.AttributeProto.AttributeType.INT }],
      },
      { opType: "MatMul", input: ["pooled", "visual_projection"], output: [output] },
    ],
    input: [valueInfo("pixel_values", FLOAT, ["batch", 3, SIDE, SIDE])],
    output: [valueInfo(output, FLOAT, ["batch", TINY_CLIP_DIM])],
  });

/** The tokenizer files: lower-cased words split on whitespace, looked up in WORDS (else [UNK]). */
function tokenizerJson(): object {
  const vocab = Object.fromEntries(Object.keys(WORDS).map((w, i) => [w, i]));
  const special = (content: string, id: number) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [special("[PAD]", 0), special("[UNK]", 1)],
    normalizer: { type: "Lowercase" },
    pre_tokenizer: { type: "Whitespace" },
    post_processor: null,
    decoder: null,
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

/** Which files to leave out, to test the refusal of an incomplete folder. */
export interface TinyClipOptions {
  omit?: string[];
  /** "siglip": config, tokenizer class and output names of a SigLIP export (default "clip"). */
  architecture?: "clip" | "siglip";
}

/** Writes the model into `dir` (created) and returns it. */
export function writeTinyClip(dir: string, opts: TinyClipOptions = {}): string {
  mkdirSync(join(dir, "onnx"), { recursive: true });
  const siglip = opts.architecture === "siglip";
  // SigLIP's pooled outputs have the towers' width (no projection_dim).
  const config = siglip
    ? {
        model_type: "siglip",
        text_config: { model_type: "siglip_text_model", hidden_size: TINY_CLIP_DIM },
        vision_config: { model_type: "siglip_vision_model", hidden_size: TINY_CLIP_DIM, image_size: SIDE },
      }
    : {
        model_type: "clip",
        projection_dim: TINY_CLIP_DIM,
        text_config: { model_type: "clip_text_model", hidden_size: 3, projection_dim: TINY_CLIP_DIM },
        vision_config: {
          model_type: "clip_vision_model",
          hidden_size: 3,
          image_size: SIDE,
          projection_dim: TINY_CLIP_DIM,
        },
      };
  const files: Record<string, string | Uint8Array> = {
    "config.json": JSON.stringify(config),
    "tokenizer.json": JSON.stringify(tokenizerJson()),
    "tokenizer_config.json": JSON.stringify({
      tokenizer_class: siglip ? "SiglipTokenizer" : "CLIPTokenizer",
      pad_token: "[PAD]",
      unk_token: "[UNK]",
      model_max_length: 16,
    }),
    "preprocessor_config.json": JSON.stringify({
      image_processor_type: siglip ? "SiglipImageProcessor" : "CLIPImageProcessor",
      do_resize: true,
      size: { shortest_edge: SIDE },
      do_center_crop: true,
      crop_size: { height: SIDE, width: SIDE },
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.5, 0.5, 0.5],
      do_convert_rgb: true,
      resample: 3,
    }),
    "onnx/text_model.onnx": model(textGraph(siglip ? "pooler_output" : "text_embeds")),
    "onnx/vision_model.onnx": model(visionGraph(siglip ? "pooler_output" : "image_embeds")),
  };
  for (const [name, data] of Object.entries(files))
    if (!opts.omit?.includes(name)) writeFileSync(join(dir, name), data);
  return dir;
}
