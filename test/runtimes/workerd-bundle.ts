/**
 * Bundles a worker for the `workerd` binary (workerd.test.ts's suite, the runtimes bench): esbuild with
 * the browser's shims, an entry that imports the two `.wasm` files as modules (workerd compiles them;
 * it refuses to compile bytes) and exports `factory({ kernels, hnsw })` from `module` as the worker,
 * written to `dir` as `name` beside kernels.wasm and hnsw.wasm; `workerdConfig` declares the three.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";
import { HNSW_WASM_BASE64 } from "../../src/core/index/hnsw/hnsw-wasm.generated.js";
import { KERNELS_WASM_BASE64 } from "../../src/core/kernels/kernels-wasm.generated.js";
import { browserShims } from "../browser/bundle-server.js";

export async function bundleWorker(dir: string, name: string, module: string, factory: string): Promise<void> {
  await build({
    stdin: {
      contents: [
        'import kernels from "./kernels.wasm";',
        'import hnsw from "./hnsw.wasm";',
        `import { ${factory} } from ${JSON.stringify(module)};`,
        `export default ${factory}({ kernels, hnsw });`,
      ].join("\n"),
      resolveDir: dir,
      sourcefile: "worker-entry.js",
    },
    outfile: join(dir, name),
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    // Left as imports: workerd resolves them to the wasm modules the config declares.
    external: ["./kernels.wasm", "./hnsw.wasm"],
    logLevel: "silent",
    plugins: [browserShims],
  });
  await writeFile(join(dir, "kernels.wasm"), Buffer.from(KERNELS_WASM_BASE64, "base64"));
  await writeFile(join(dir, "hnsw.wasm"), Buffer.from(HNSW_WASM_BASE64, "base64"));
}

/** A workerd config running the bundled `name` as the service "worker", served on `address` when given. */
export function workerdConfig(name: string, address?: string): string {
  const sockets = address ? `, sockets = [(name = "http", address = "${address}", http = (), service = "worker")]` : "";
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (services = [(name = "worker", worker = .worker)]${sockets});
const worker :Workerd.Worker = (
  modules = [
    (name = "${name}", esModule = embed "${name}"),
    (name = "kernels.wasm", wasm = embed "kernels.wasm"),
    (name = "hnsw.wasm", wasm = embed "hnsw.wasm"),
  ],
  compatibilityDate = "2026-11-01",
);
`;
}
