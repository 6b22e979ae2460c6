// Tests of the node layout helpers: header offsets past 2 GiB read back unsigned (a memory holds up to
// 4 GiB; an Int32Array view reads such offsets as negative, which addressed nothing and threw).

import { test } from "node:test";
import assert from "node:assert/strict";
import { headerOffset, nodeStride } from "./layout.js";

test("header offsets at and beyond 2 GiB read back as the unsigned offsets written", () => {
  const h = new Int32Array(4);
  const offsets = [0, 2 ** 31 - 64, 2 ** 31, 2 ** 31 + 4096, 4 * 2 ** 30 - 64];
  for (const off of offsets) {
    h[1] = off;
    assert.equal(headerOffset(h, 1), off);
  }
  // Why the helper exists: the raw read of the same word is negative.
  h[1] = 2 ** 31 + 4096;
  assert.ok(h[1] < 0);
});

test("a node record is whole cache lines holding codes, correction and 2·m links", () => {
  // dim 96 int8, m 16: 96 code bytes + 4 correction + 4 count + 32 × 4 links = 232 → 256.
  assert.equal(nodeStride(32, 96), 256);
  assert.equal(nodeStride(32, 0) % 64, 0);
});
