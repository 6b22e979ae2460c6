// The HNSW persistence format: writes and reads the graph of one named vector (not the vectors, which
// the segment already holds; quantized codes are re-encoded from them on load).
//
// All integers little-endian. Offsets in bytes.
// | offset | size      | field                                                                  |
// |--------|-----------|------------------------------------------------------------------------|
// | 0      | 4         | magic "QHNW"                                                           |
// | 4      | 4         | format version (u32) = 1                                               |
// | 8      | 4         | dim (u32)                                                              |
// | 12     | 1         | metric: 0 cosine, 1 dot, 2 l2                                          |
// | 13     | 1         | quantization: 0 none, 1 int8, 2 binary                                 |
// | 14     | 1         | quantizer trained (0/1)                                                |
// | 15     | 1         | reserved (0)                                                           |
// | 16     | 4         | m (u32); level 0 holds up to 2·m links                                 |
// | 20     | 4         | efConstruction (u32)                                                   |
// | 24     | 4         | efSearch default (u32)                                                 |
// | 28     | 4         | n: slots stored, [0, n) (u32)                                          |
// | 32     | 4         | entry point slot (i32, −1 when empty)                                  |
// | 36     | 4         | top level (u32)                                                        |
// | 40     | 4         | int8 scale (f32)                                                       |
// | 44     | 4         | int8 offset (f32)                                                      |
// | 48     | 4         | level generator state (u32)                                            |
// | 52     | 4         | next quantizer training size (f64 truncated to u32; 0 = never)         |
// | 56     | 8         | reserved (0)                                                           |
// | 64     | n, pad 4  | per slot: 1 = in the graph, 0 = free                                   |
// | …      | n, pad 4  | per slot: top level (u8)                                               |
// | …      | 4·L       | links: for each slot in the graph, for level 0..top: count, then count |
// |        |           | neighbour slots (u32 each)                                             |
// | end−4  | 4         | CRC32C of every byte before it                                         |

import { QuiverError } from "../../errors/errors.js";
import type { Metric } from "../../schema/schema.js";
import { QUANT_CODE, QUANT_NAME, type Quantization } from "./layout.js";
import { crc32c } from "../../util/crc32c.js";

const MAGIC = 0x574e4851; // "QHNW" read as a little-endian u32
const VERSION = 1;
const HEAD = 64;
const METRICS: Metric[] = ["cosine", "dot", "l2"];

export interface HnswSnapshot {
  dim: number;
  metric: Metric;
  quantization: Quantization;
  m: number;
  efConstruction: number;
  efSearch: number;
  n: number;
  entry: number;
  maxLevel: number;
  qReady: boolean;
  scale: number;
  offset: number;
  rng: number;
  nextTrain: number;
  flags: Uint8Array;
  levels: Uint8Array;
  /** Concatenated [count, ...slots] lists, slot order then level order. */
  links: Uint32Array;
}

export type HnswSnapshotSource = Omit<HnswSnapshot, "links"> & { links(slot: number, layer: number): Uint32Array };

const pad4 = (n: number): number => (n + 3) & ~3;
// Links are copied as words on a little-endian host (all mainstream ones), byte-swapped elsewhere.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The graph's bytes in one piece. */
export function writeHnsw(s: HnswSnapshotSource): Uint8Array {
  const chunks = [...hnswChunks(s)];
  const out = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Bytes per chunk of hnswChunks: a few milliseconds of work between two chances to yield. */
export const HNSW_CHUNK_BYTES = 256 << 10;

/**
 * The graph's bytes as a sequence of chunks of about HNSW_CHUNK_BYTES, produced on demand, so that a
 * checkpoint can serialize a large graph in slices (yielding between chunks) from a frozen copy.
 */
export function* hnswChunks(s: HnswSnapshotSource): Generator<Uint8Array> {
  const head = new Uint8Array(HEAD + 2 * pad4(s.n));
  const dv = new DataView(head.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, VERSION, true);
  dv.setUint32(8, s.dim, true);
  head[12] = METRICS.indexOf(s.metric);
  head[13] = QUANT_CODE[s.quantization];
  head[14] = s.qReady ? 1 : 0;
  dv.setUint32(16, s.m, true);
  dv.setUint32(20, s.efConstruction, true);
  dv.setUint32(24, s.efSearch, true);
  dv.setUint32(28, s.n, true);
  dv.setInt32(32, s.entry, true);
  dv.setUint32(36, s.maxLevel, true);
  dv.setFloat32(40, s.scale, true);
  dv.setFloat32(44, s.offset, true);
  dv.setUint32(48, s.rng, true);
  dv.setUint32(52, Number.isFinite(s.nextTrain) ? s.nextTrain : 0, true);
  head.set(s.flags.subarray(0, s.n), HEAD);
  // Free slots keep a stale level in memory; 0 is written so equal graphs give equal bytes.
  for (let i = 0; i < s.n; i++) head[HEAD + pad4(s.n) + i] = s.flags[i] === 1 ? s.levels[i] : 0;
  let crc = crc32c(head, 0, head.length, 0);
  yield head;
  // Link lists, then the checksum, in words: one list never exceeds 2·m + 1 words (m ≤ 128).
  let words = new Uint32Array(HNSW_CHUNK_BYTES >>> 2);
  let p = 0;
  const flush = (): Uint8Array => {
    const bytes = new Uint8Array(words.buffer, 0, 4 * p);
    if (!LITTLE_ENDIAN) for (let i = 0; i < p; i++) new DataView(words.buffer).setUint32(4 * i, words[i], true);
    crc = crc32c(bytes, 0, bytes.length, crc);
    words = new Uint32Array(words.length);
    p = 0;
    return bytes;
  };
  for (let i = 0; i < s.n; i++) {
    if (s.flags[i] !== 1) continue;
    for (let l = 0; l <= s.levels[i]; l++) {
      const list = s.links(i, l);
      if (p + 1 + list.length > words.length) yield flush();
      words[p++] = list.length;
      words.set(list, p);
      p += list.length;
    }
  }
  if (p > 0) yield flush();
  const tail = new Uint8Array(4);
  new DataView(tail.buffer).setUint32(0, crc, true);
  yield tail;
}

/**
 * Reads serialize()'s bytes. `checked`: an enclosing checksum already covered them (an index file's,
 * verified as it was read), so their own CRC is not computed a second time; structure is still checked.
 */
export function readHnsw(bytes: Uint8Array, checked = false): HnswSnapshot {
  const bad = (why: string): QuiverError => new QuiverError("CORRUPT", `HNSW data: ${why}`);
  if (bytes.length < HEAD + 4) throw bad(`${bytes.length} bytes is too short`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) throw bad("bad magic");
  const version = dv.getUint32(4, true);
  if (version !== VERSION) throw bad(`unsupported version ${version}`);
  const end = bytes.length - 4;
  if (!checked && crc32c(bytes, 0, end, 0) !== dv.getUint32(end, true)) throw bad("checksum mismatch");
  const n = dv.getUint32(28, true);
  const linksAt = HEAD + 2 * pad4(n);
  if (linksAt > end || (end - linksAt) % 4 !== 0) throw bad("truncated");
  const metric = METRICS[bytes[12]];
  const quantization = QUANT_NAME[bytes[13]];
  if (metric === undefined || quantization === undefined) throw bad("unknown metric or quantization");
  // The link stream in place when it is 4-byte aligned, else one byte copy (little-endian hosts, as
  // all current ones are); restore copies it into the graph's memory, so a view is enough.
  const links = LITTLE_ENDIAN
    ? (bytes.byteOffset + linksAt) % 4 === 0
      ? new Uint32Array(bytes.buffer, bytes.byteOffset + linksAt, (end - linksAt) / 4)
      : new Uint32Array(bytes.slice(linksAt, end).buffer)
    : Uint32Array.from({ length: (end - linksAt) / 4 }, (_, i) => dv.getUint32(linksAt + 4 * i, true));
  const nextTrain = dv.getUint32(52, true);
  const snap: HnswSnapshot = {
    dim: dv.getUint32(8, true),
    metric,
    quantization,
    qReady: bytes[14] === 1,
    m: dv.getUint32(16, true),
    efConstruction: dv.getUint32(20, true),
    efSearch: dv.getUint32(24, true),
    n,
    entry: dv.getInt32(32, true),
    maxLevel: dv.getUint32(36, true),
    scale: dv.getFloat32(40, true),
    offset: dv.getFloat32(44, true),
    rng: dv.getUint32(48, true),
    nextTrain: nextTrain === 0 ? Infinity : nextTrain,
    flags: bytes.slice(HEAD, HEAD + n),
    levels: bytes.slice(HEAD + pad4(n), HEAD + pad4(n) + n),
    links,
  };
  // The link stream must cover exactly the levels of the slots in the graph.
  let p = 0;
  for (let i = 0; i < n; i++) {
    if (snap.flags[i] !== 1) continue;
    for (let l = 0; l <= snap.levels[i]; l++) {
      if (p >= links.length) throw bad("link lists end early");
      p += 1 + links[p];
    }
  }
  if (p !== links.length) throw bad("link lists do not match the levels");
  if (n > 0 && (snap.entry < -1 || snap.entry >= n)) throw bad(`entry point ${snap.entry} outside [0, ${n})`);
  return snap;
}
