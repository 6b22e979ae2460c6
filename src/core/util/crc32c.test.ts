/**
 * Tests for CRC32C: the published check values, and agreement with the bitwise definition at every
 * alignment, length and continuation (the word loop, its byte-wise head and tail, and the seams).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { crc32c } from "./crc32c.js";

/** The definition, one bit at a time. */
function bitwise(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

test("CRC32C gives the published check values (RFC 3720 B.4 and the '123456789' check)", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

test("CRC32C agrees with the bitwise definition at every offset, length and continuation point", () => {
  const buffer = new ArrayBuffer(300);
  const all = new Uint8Array(buffer);
  for (let i = 0; i < all.length; i++) all[i] = (i * 2654435761) >>> 13;
  for (const viewStart of [0, 1, 2, 3]) {
    const data = new Uint8Array(buffer, viewStart, 250);
    for (let start = 0; start < 8; start++) {
      for (const end of [start, start + 1, start + 15, start + 16, start + 17, start + 63, 250]) {
        assert.equal(
          crc32c(data, start, end),
          bitwise(data.subarray(start, end)),
          `view ${viewStart} [${start}, ${end})`,
        );
      }
    }
    const whole = bitwise(data);
    for (const cut of [1, 5, 16, 33, 200]) assert.equal(crc32c(data, cut, data.length, crc32c(data, 0, cut)), whole);
  }
});
