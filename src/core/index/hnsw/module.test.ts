// A runtime without WebAssembly SIMD cannot run the HNSW module: that is UNSUPPORTED, not bad input.

import { test } from "node:test";
import assert from "node:assert/strict";
import { isQuiverError } from "../../errors/errors.js";
import { loadHnswModule } from "./module.js";

test("loading the HNSW module where SIMD does not validate is UNSUPPORTED", async () => {
  const validate = WebAssembly.validate;
  WebAssembly.validate = () => false; // what a runtime without SIMD answers for the SIMD probe
  try {
    await assert.rejects(loadHnswModule(), (e: unknown) => isQuiverError(e, "UNSUPPORTED") && /SIMD/.test(String(e)));
  } finally {
    WebAssembly.validate = validate;
  }
  assert.ok((await loadHnswModule()) instanceof WebAssembly.Module);
});
