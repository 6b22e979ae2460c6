/**
 * Little-endian binary writer and reader shared by the WAL, segment and manifest formats.
 * The reader throws CORRUPT on any read past the end, so a truncated or garbled file can never
 * be mistaken for valid data by the code that decodes it.
 */
import { QuiverError } from "../core/errors/errors.js";

const encoder = new TextEncoder();
// Every format is little-endian. On a little-endian host (all mainstream ones) float arrays are
// copied as bytes, which is an order of magnitude faster than a DataView call per number.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const decoder = new TextDecoder("utf-8", { fatal: true });
/** Strings per piece of ByteWriter.strListInPieces: a few milliseconds of encoding each. */
const LIST_PIECE = 1 << 15;

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.pos;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.reserve(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u32(v: number): this {
    this.reserve(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
    return this;
  }

  /** Unsigned integers up to 2^53, the range of a JS number; used for sequence numbers and lengths. */
  u64(v: number): this {
    this.reserve(8);
    this.view.setBigUint64(this.pos, BigInt(v), true);
    this.pos += 8;
    return this;
  }

  bytes(data: Uint8Array): this {
    this.reserve(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    return this;
  }

  /** A u32 byte length followed by UTF-8 bytes. */
  str(s: string): this {
    const b = encoder.encode(s);
    return this.u32(b.length).bytes(b);
  }

  /**
   * A list of strings read back in one decode (ByteReader.strList): u32 count, count × u32 length
   * in UTF-16 code units, u32 byte length + the UTF-8 of them all concatenated (a lone surrogate is
   * written as U+FFFD, one code unit as well, so the lengths still add up). Written by a chunked
   * file writer: yields `drain()` after each piece of LIST_PIECE strings, so that a million ids are
   * not encoded in one slice of the event loop (230 ms at 1M). Pieces end between strings, and ids
   * are well-formed (validated), so encoding them apart writes the bytes one piece would.
   * `undefined` entries (a slot table's free slots) are written as "".
   */
  *strListInPieces(list: readonly (string | undefined)[], drain: () => Uint8Array): Generator<Uint8Array> {
    this.u32(list.length);
    const texts: Uint8Array[] = [];
    let bytes = 0;
    for (let i = 0; i < list.length; i += LIST_PIECE) {
      const piece = list.slice(i, i + LIST_PIECE).map((s) => s ?? "");
      for (const s of piece) this.u32(s.length);
      texts.push(encoder.encode(piece.join("")));
      bytes += texts[texts.length - 1].length;
      yield drain();
    }
    this.u32(bytes);
    for (const text of texts) {
      this.bytes(text);
      yield drain();
    }
  }

  f32s(values: Float32Array): this {
    this.reserve(values.length * 4);
    if (LITTLE_ENDIAN) {
      this.buf.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), this.pos);
      this.pos += values.byteLength;
      return this;
    }
    for (let i = 0; i < values.length; i++) {
      this.view.setFloat32(this.pos, values[i], true);
      this.pos += 4;
    }
    return this;
  }

  /** Writes `v` at an earlier position (for lengths and checksums known only afterwards). */
  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v, true);
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of the bytes written so far; the writer starts empty again (keeping its buffer). */
  drain(): Uint8Array {
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    return out;
  }
}

/** Bytes per chunk of a file written in chunks (segments, index files): a few milliseconds of work each. */
export const CHUNK_BYTES = 256 << 10;

/** The chunks of a file written piece by piece, joined (for callers that want it whole). */
export function joinChunks(chunks: Iterable<Uint8Array>): Uint8Array {
  const parts = [...chunks];
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((sum, c) => sum + c.length, 0));
  let at = 0;
  for (const c of parts) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export class ByteReader {
  private readonly view: DataView;
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
    private readonly what = "data",
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new QuiverError("CORRUPT", `${this.what}: truncated at byte ${this.pos} (needed ${n} more bytes)`);
    }
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new QuiverError("CORRUPT", `${this.what}: integer out of range`);
    return Number(v);
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  str(): string {
    const n = this.u32();
    try {
      return decoder.decode(this.bytes(n));
    } catch (e) {
      if (e instanceof QuiverError) throw e;
      throw new QuiverError("CORRUPT", `${this.what}: invalid UTF-8 at byte ${this.pos}`);
    }
  }

  /** A list written by ByteWriter.strListInPieces. */
  strList(): string[] {
    const n = this.u32();
    this.need(n * 4);
    const lengths = new Uint32Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) total += lengths[i] = this.u32();
    const all = this.str();
    if (all.length !== total) throw new QuiverError("CORRUPT", `${this.what}: string list lengths do not add up`);
    const out = new Array<string>(n);
    let at = 0;
    for (let i = 0; i < n; i++) {
      out[i] = all.substring(at, at + lengths[i]);
      at += lengths[i];
    }
    return out;
  }

  f32s(n: number): Float32Array {
    this.need(n * 4);
    const out = new Float32Array(n);
    if (LITTLE_ENDIAN) {
      new Uint8Array(out.buffer).set(this.buf.subarray(this.pos, this.pos + n * 4));
      this.pos += n * 4;
      return out;
    }
    for (let i = 0; i < n; i++) {
      out[i] = this.view.getFloat32(this.pos, true);
      this.pos += 4;
    }
    return out;
  }
}
