/**
 * CRC32C in WebAssembly: the same slicing-by-16 table walk as crc32c.ts, which V8 runs about twice
 * as fast there (no bounds checks on the lookups). Installed by the Node entry's open() (src/index.ts),
 * so that it adds nothing to the browser bundles; where WebAssembly cannot be compiled from bytes
 * (a strict CSP), or on a big-endian host, the JavaScript implementation stays in use.
 *
 * The module (400 bytes) is this text format, assembled with binaryen (`binaryen.parseText(wat)
 * .emitBinary()`): `crc(p, n, c)` continues CRC `c` over memory [p, p + n); the 16 tables lie at
 * [0, 16384), table t at 1024 · t, as crc32c.ts lays them out.
 *
 *   (func (export "crc") (param $p i32) (param $n i32) (param $c i32) (result i32)
 *     c = ~c; end = p + n
 *     while end - p >= 16: a = load(p) ^ c, b = load(p + 4), d = load(p + 8), e = load(p + 12)
 *       c = T15[a & 255] ^ T14[(a >> 8) & 255] ^ T13[(a >> 16) & 255] ^ T12[a >> 24] ^ ... ^ T0[e >> 24]
 *       p += 16
 *     while p < end: c = T0[(c ^ load8(p)) & 255] ^ (c >> 8); p += 1
 *     return ~c)
 */
import { CRC32C_TABLE, type Crc32c, useCrc32c } from "./crc32c.js";

const MODULE =
  "AGFzbQEAAAABCAFgA39/fwF/AwIBAAUDAQABBxACBm1lbW9yeQIAA2NyYwAACuACAd0CAQV/IAJBf3MhAiAAIAFqIQcCQANAIAcgAGtBEEkNASAAKAIAIAJzIQMgACgCBCEEIAAoAgghBSAAKAIMIQYgA0H/AXFBAnQoAoB4IANBBnZB/AdxKAKAcHMgA0EOdkH8B3EoAoBoIANBGHZBAnQoAoBgc3MgBEH/AXFBAnQoAoBYIARBBnZB/AdxKAKAUHMgBEEOdkH8B3EoAoBIIARBGHZBAnQoAoBAc3NzIAVB/wFxQQJ0KAKAOCAFQQZ2QfwHcSgCgDBzIAVBDnZB/AdxKAKAKCAFQRh2QQJ0KAKAIHNzIAZB/wFxQQJ0KAKAGCAGQQZ2QfwHcSgCgBBzIAZBDnZB/AdxKAKACCAGQRh2QQJ0KAIAc3NzcyECIABBEGohAAwACwALAkADQCAAIAdPDQEgAiAALQAAc0H/AXFBAnQoAgAgAkEIdnMhAiAAQQFqIQAMAAsACyACQX9zCw==";

const TABLE_BYTES = 16384;
/** Input is copied into the module's memory this much at a time. */
const CHUNK = 1 << 20;

let installed = false;

/** Makes crc32c() use the WebAssembly walk for long inputs from now on (compiled once; where it can be). */
export function installWasmCrc32c(): void {
  if (installed) return;
  installed = true;
  useCrc32c(wasmCrc32c());
}

/** A CRC32C function running in WebAssembly, or null where one cannot be had. */
export function wasmCrc32c(): Crc32c | null {
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) return null; // tables are written little-endian
  try {
    const bytes = Uint8Array.from(atob(MODULE), (ch) => ch.charCodeAt(0));
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    const memory = instance.exports.memory as WebAssembly.Memory;
    memory.grow(Math.ceil((TABLE_BYTES + CHUNK) / 65536));
    new Uint32Array(memory.buffer, 0, TABLE_BYTES / 4).set(CRC32C_TABLE);
    const input = new Uint8Array(memory.buffer, TABLE_BYTES, CHUNK);
    const crc = instance.exports.crc as (p: number, n: number, c: number) => number;
    return (data, start = 0, end = data.length, c = 0) => {
      for (let at = start; at < end; at += CHUNK) {
        const n = Math.min(CHUNK, end - at);
        input.set(data.subarray(at, at + n));
        c = crc(TABLE_BYTES, n, c) >>> 0;
      }
      return c >>> 0;
    };
  } catch {
    return null;
  }
}
