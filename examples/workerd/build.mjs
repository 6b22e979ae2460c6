// Builds the workerd example into build/: worker.js bundled with esbuild (the database, storage and
// server layers, no npm package, no node:*), and the two WebAssembly modules as .wasm files, which
// config.capnp hands to the worker as precompiled modules. Run `npm run build` first (it reads dist/).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { KERNELS_WASM_BASE64 } from "../../dist/src/core/kernels/kernels-wasm.generated.js";
import { HNSW_WASM_BASE64 } from "../../dist/src/core/index/hnsw/hnsw-wasm.generated.js";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(process.argv[2] ?? join(here, "build"));
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "kernels.wasm"), Buffer.from(KERNELS_WASM_BASE64, "base64"));
writeFileSync(join(out, "hnsw.wasm"), Buffer.from(HNSW_WASM_BASE64, "base64"));
for (const entry of ["worker.js", "test-worker.js"]) {
  await build({
    entryPoints: [join(here, entry)],
    outfile: join(out, entry),
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    // Left as imports: workerd resolves them to the modules config.capnp declares.
    external: ["./kernels.wasm", "./hnsw.wasm"],
    logLevel: "warning",
  });
}
console.log(`built ${out}`);
