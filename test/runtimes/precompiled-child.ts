/**
 * Run by precompiled-wasm.test.ts: compiles both embedded modules, then forbids compiling WebAssembly
 * from bytes as workerd does, and reports what open() gives without and with `wasm: { kernels, hnsw }`.
 */
import { compileEmbedded } from "../../src/core/kernels/embedded.js";
import { KERNELS_WASM_BASE64 } from "../../src/core/kernels/kernels-wasm.generated.js";
import { HNSW_WASM_BASE64 } from "../../src/core/index/hnsw/hnsw-wasm.generated.js";
import { open } from "../../src/index.js";

const wasm = { kernels: await compileEmbedded(KERNELS_WASM_BASE64), hnsw: await compileEmbedded(HNSW_WASM_BASE64) };
const refuse = () => {
  throw new WebAssembly.CompileError("WebAssembly.compile(): Wasm code generation disallowed by embedder");
};
WebAssembly.compile = async () => refuse();
WebAssembly.Module = function Module() {
  refuse();
} as unknown as typeof WebAssembly.Module;

async function nearest(options: Parameters<typeof open>[1]) {
  const db = await open(undefined, options);
  const c = await db.createCollection("docs", { vectors: { v: { dim: 2, metric: "l2", index: { type: "hnsw" } } } });
  await c.upsert([
    { id: "a", vector: [0, 0] },
    { id: "b", vector: [5, 5] },
  ]);
  const { hits, plan } = await c.query({ vector: [4, 4], limit: 1 });
  const { kernels, hnswUnavailable } = await db.stats();
  await db.close();
  return { nearest: hits[0]?.id, strategy: plan.strategy, kernels, hnswUnavailable: hnswUnavailable ?? null };
}

console.log(JSON.stringify({ refused: await nearest({}), precompiled: await nearest({ wasm }) }));
