/**
 * A payload field index packed into a few arrays: how a checkpoint persists it in the index file
 * and how an open holds it until the index is first written. Loading it costs a few copies, not a
 * `Set` per distinct value (200,000 of them for a unique number field at 200k records), and range
 * reads, counts and equality lookups are answered from it directly.
 *
 * Bytes (u32 little-endian unless noted):
 *
 * | field                                                                                   |
 * |-----------------------------------------------------------------------------------------|
 * | u32 type (0 keyword, 1 number, 2 boolean), u32 d distinct values, u32 total slot-value  |
 * | pairs, u32 p slots where the field exists                                               |
 * | d × u32 slots per value (in value order), total × u32 slots, p × u32 slots present      |
 * | the d values in ascending order: number: d × f64 LE; keyword, boolean: UTF-8 JSON array |
 *
 * Values ascend as the index sorts them (numbers numerically, strings in UTF-16 code-unit order,
 * false before true), which `<` orders the same way; decoding checks it, so a lookup's binary
 * search can rely on it.
 */
import type { PayloadIndexType } from "./indexes.js";

export type Key = string | number | boolean;

export interface PackedField {
  type: PayloadIndexType;
  /** The distinct values, ascending. */
  keys: Key[];
  /** The slots of keys[i] are slots[offsets[i], offsets[i + 1]). */
  offsets: Uint32Array;
  slots: Uint32Array;
  /** Slots where the field exists (for `$exists`). */
  present: Uint32Array;
}

const TYPES: PayloadIndexType[] = ["keyword", "number", "boolean"];
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function encodePacked(p: PackedField): Uint8Array {
  const d = p.keys.length;
  const words = 4 + d + p.slots.length + p.present.length;
  const u32 = new Uint32Array(words);
  u32.set([TYPES.indexOf(p.type), d, p.slots.length, p.present.length]);
  for (let i = 0; i < d; i++) u32[4 + i] = p.offsets[i + 1] - p.offsets[i];
  u32.set(p.slots, 4 + d);
  u32.set(p.present, 4 + d + p.slots.length);
  const keys = p.type === "number" ? f64Bytes(p.keys as number[]) : new TextEncoder().encode(JSON.stringify(p.keys));
  const out = new Uint8Array(words * 4 + keys.length);
  out.set(wordBytes(u32));
  out.set(keys, words * 4);
  return out;
}

/**
 * The packed field in `bytes`; throws a RangeError on bytes that do not describe a consistent
 * index of `type` over slots below `slotLimit`.
 */
export function decodePacked(bytes: Uint8Array, type: PayloadIndexType, slotLimit: number): PackedField {
  if (bytes.length < 16) throw new RangeError("payload index bytes cut short");
  const head = readWords(bytes, 0, 4);
  const [code, d, total, p] = head;
  if (TYPES[code] !== type) throw new RangeError(`payload index of type ${TYPES[code]}, declared ${type}`);
  const words = 4 + d + total + p;
  if (words * 4 > bytes.length) throw new RangeError("payload index bytes cut short");
  const body = readWords(bytes, 16, words - 4);
  const offsets = new Uint32Array(d + 1);
  for (let i = 0; i < d; i++) offsets[i + 1] = offsets[i] + body[i];
  if (offsets[d] !== total) throw new RangeError("payload index counts do not add up");
  const slots = body.subarray(d, d + total);
  const present = body.subarray(d + total);
  for (const list of [slots, present])
    for (let i = 0; i < list.length; i++)
      if (list[i] >= slotLimit) throw new RangeError(`payload index names slot ${list[i]}, past the slot table`);
  const rest = bytes.subarray(words * 4);
  const keys: unknown[] =
    type === "number" ? readF64(rest, d) : JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(rest));
  if (!Array.isArray(keys) || keys.length !== d) throw new RangeError("payload index values do not match their counts");
  for (let i = 0; i < d; i++) {
    const ok =
      type === "number" ? Number.isFinite(keys[i]) : typeof keys[i] === (type === "keyword" ? "string" : "boolean");
    if (!ok || (i > 0 && !((keys[i - 1] as Key) < (keys[i] as Key))))
      throw new RangeError("payload index values are not distinct, ascending and of the declared type");
  }
  return { type, keys: keys as Key[], offsets, slots, present };
}

/** The position of `key` in the ascending `keys`, or -1. */
export function findKey(keys: readonly Key[], key: Key): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo < keys.length && keys[lo] === key ? lo : -1;
}

/** Little-endian bytes of `u32` (its own buffer on little-endian hosts, as all current ones are). */
function wordBytes(u32: Uint32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(u32.buffer, u32.byteOffset, u32.byteLength);
  const out = new Uint8Array(u32.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < u32.length; i++) view.setUint32(4 * i, u32[i], true);
  return out;
}

/** `n` little-endian u32 words at byte `at` of `bytes`, copied into an array of their own. */
function readWords(bytes: Uint8Array, at: number, n: number): Uint32Array {
  if (LITTLE_ENDIAN) return new Uint32Array(bytes.slice(at, at + 4 * n).buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, 4 * n);
  return Uint32Array.from({ length: n }, (_, i) => view.getUint32(4 * i, true));
}

function f64Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(8 * i, values[i], true);
  return out;
}

function readF64(bytes: Uint8Array, n: number): number[] {
  if (bytes.length !== 8 * n) throw new RangeError("payload index values cut short");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
  return out;
}
