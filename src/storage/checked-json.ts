/**
 * Small JSON files with a checksum (the manifest, the server's key and usage files): UTF-8 JSON,
 * then a newline and `crc32c:<8 hex digits>` of the JSON bytes. JSON keeps them inspectable with a
 * text editor; the checksum turns any damage into an error instead of a silently different value.
 */
import { QuiverError } from "../core/errors/errors.js";
import { crc32c } from "./crc32c.js";

const TRAILER = /\ncrc32c:([0-9a-f]{8})\n$/;

export function encodeCheckedJson(value: unknown, indent?: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(value, null, indent));
  const trailer = new TextEncoder().encode(`\ncrc32c:${crc32c(json).toString(16).padStart(8, "0")}\n`);
  const out = new Uint8Array(json.length + trailer.length);
  out.set(json);
  out.set(trailer, json.length);
  return out;
}

/**
 * Parses a file written by `encodeCheckedJson`; CORRUPT naming `name` when it fails its checksum.
 * `allowUnchecked` accepts plain JSON without a trailer (files written before the checksum existed);
 * damage that breaks the trailer still fails, because the trailer then makes the JSON invalid.
 */
export function decodeCheckedJson(data: Uint8Array, name: string, opts: { allowUnchecked?: boolean } = {}): unknown {
  const text = new TextDecoder().decode(data);
  const m = TRAILER.exec(text);
  if (!m) {
    if (!opts.allowUnchecked) throw new QuiverError("CORRUPT", `${name}: missing checksum trailer`);
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new QuiverError("CORRUPT", `${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const jsonBytes = data.subarray(0, data.length - m[0].length);
  if (crc32c(jsonBytes).toString(16).padStart(8, "0") !== m[1]) {
    throw new QuiverError("CORRUPT", `${name}: checksum mismatch`);
  }
  try {
    return JSON.parse(new TextDecoder().decode(jsonBytes));
  } catch (e) {
    throw new QuiverError("CORRUPT", `${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
