/**
 * Tests for the WebAssembly CRC32C: the published check value, and the same result as the
 * JavaScript walk at every alignment, across the 1 MiB chunk seam and when continued; and that
 * crc32c() uses it for long inputs once installed.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { crc32c } from "./crc32c.js";
import { installWasmCrc32c, wasmCrc32c } from "./crc32c-wasm.js";

const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 13);

test("the WebAssembly CRC32C gives the published check value and loads on this host", () => {
  const wasm = wasmCrc32c();
  assert.ok(wasm, "WebAssembly CRC32C did not load");
  assert.equal(wasm(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.equal(wasm(new Uint8Array(0)), 0);
});

test("the WebAssembly CRC32C equals the JavaScript one at every offset, length, chunk seam and continuation", () => {
  const wasm = wasmCrc32c()!;
  const data = bytes((1 << 20) + 100);
  // crc32c() before installWasmCrc32c() in this process is the JavaScript walk (the other test file
  // checks it against the bitwise definition).
  for (let start = 0; start < 5; start++) {
    for (const end of [start, start + 1, start + 15, start + 16, start + 17, start + 1000, 1 << 20, data.length]) {
      assert.equal(wasm(data, start, end), crc32c(data, start, end), `[${start}, ${end})`);
    }
  }
  const mid = 777_777;
  assert.equal(wasm(data, mid, data.length, wasm(data, 0, mid)), crc32c(data));
});

test("once installed, crc32c hands long inputs to the WebAssembly walk with the same results", () => {
  const data = bytes(200_000);
  const before = [crc32c(data), crc32c(data, 3, 150_001), crc32c(data, 0, 500)];
  installWasmCrc32c();
  installWasmCrc32c(); // compiled once
  assert.deepEqual([crc32c(data), crc32c(data, 3, 150_001), crc32c(data, 0, 500)], before);
  // Damage still changes the checksum.
  const damaged = data.slice();
  damaged[123_456] ^= 1;
  assert.notEqual(crc32c(damaged), before[0]);
});
