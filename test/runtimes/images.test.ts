/**
 * Images in every runtime: the same JPEG, PNG and WebP decoded by the portable codecs and embedded by
 * the offline MobileNet model under Node, Bun and Deno (image-child.ts, a process each), in headless
 * Chromium (image-page.ts, bundled by esbuild, on a page's main thread) and decoded in workerd
 * (image-worker.ts). Every runtime must give Node's decoded pixels exactly (same size, same hash of
 * the RGBA bytes) and Node's vectors within float tolerance, on TensorFlow.js's wasm backend.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { drawScene, SCENE_CLASSES } from "../../bench/image-scenes.js";
import { encodeJpeg, encodePng } from "../../src/images.js";
import { build } from "esbuild";
import { browserShims, bundle, serveFiles } from "../browser/bundle-server.js";
import { launchChromium } from "../support/chromium.js";
import { missingRuntime, runtimeCommand, type Runtime } from "../support/runtimes.js";
import { encodeWebp } from "../support/webp-encode.js";
import { IMAGE_RESULT_MARK } from "./image-worker.js";
import { IMAGE_FILES, type ImageWorkloadResult } from "./image-workload.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const CHILD = join(HERE, "image-child.js");
const require = createRequire(import.meta.url);
const run = promisify(execFile);
const WORKERD = join(HERE, "../../../node_modules/.bin/workerd");

let dir: string;
let files: Uint8Array[];
let node: ImageWorkloadResult;

async function inRuntime(runtime: Runtime): Promise<ImageWorkloadResult> {
  const [exe, args] = runtimeCommand(runtime, CHILD, [dir]);
  const { stdout } = await run(exe, args, { cwd: tmpdir(), timeout: 120_000, maxBuffer: 8 << 20 });
  return JSON.parse(stdout.trim().split("\n").pop()!) as ImageWorkloadResult;
}

/** Node's decoded pixels exactly, and each vector within float tolerance of Node's (cosine and per component). */
function assertSameAsNode(seen: ImageWorkloadResult, runtime: string): string {
  assert.deepEqual(seen.decoded, node.decoded, `${runtime}: decoded sizes and pixels`);
  assert.equal(seen.backend, "wasm", `${runtime}: TensorFlow.js backend`);
  assert.equal(seen.vectors?.length, IMAGE_FILES.length);
  const figures: string[] = [];
  seen.vectors!.forEach((v, i) => {
    const ref = node.vectors![i];
    assert.equal(v.length, 320, `${runtime}: ${IMAGE_FILES[i]} width`);
    const cosine = v.reduce((s, x, j) => s + x * ref[j], 0);
    const worst = Math.max(...v.map((x, j) => Math.abs(x - ref[j])));
    assert.ok(
      cosine > 0.9999 && worst < 1e-3,
      `${runtime}: ${IMAGE_FILES[i]} cosine ${cosine}, largest difference ${worst}`,
    );
    figures.push(`${IMAGE_FILES[i]}: cosine ${cosine.toFixed(7)}, largest difference ${worst.toExponential(1)}`);
  });
  return `${runtime} vs Node: ${figures.join("; ")}`;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "quiver-images-runtimes-"));
  files = [
    encodeJpeg(drawScene(SCENE_CLASSES[0], 1, 160), 85),
    encodePng(drawScene(SCENE_CLASSES[1], 2, 120)),
    await encodeWebp(drawScene(SCENE_CLASSES[2], 3, 200), { quality: 80 }),
  ];
  await Promise.all(IMAGE_FILES.map((f, i) => writeFile(join(dir, f), files[i])));
  node = await inRuntime("node");
});

after(() => rm(dir, { recursive: true, force: true }));

test("node: the three formats decode and embed (the reference: three distinct unit vectors)", () => {
  assert.deepEqual(
    node.decoded.map((d) => [d.file, d.width, d.height]),
    [
      ["scene.jpg", 160, 160],
      ["scene.png", 120, 120],
      ["scene.webp", 200, 200],
    ],
  );
  assert.equal(node.backend, "wasm");
  for (const v of node.vectors!) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
  const [a, b] = node.vectors!;
  assert.ok(a.reduce((s, x, j) => s + x * b[j], 0) < 0.99, "different scenes give different vectors");
});

for (const runtime of ["bun", "deno"] as const) {
  test(`${runtime}: decodes to Node's pixels and embeds to Node's vectors`, {
    skip: missingRuntime(runtime),
  }, async (t) => {
    t.diagnostic(assertSameAsNode(await inRuntime(runtime), runtime));
  });
}

test("chromium: decodes to Node's pixels and embeds to Node's vectors (bundled, wasm files served)", async (t) => {
  const served = await bundle({ page: "../runtimes/image-page.js" });
  for (const [i, f] of IMAGE_FILES.entries()) served.set(`/${f}`, files[i]);
  served.set("/webp_dec.wasm", readFileSync(require.resolve("@jsquash/webp/codec/dec/webp_dec.wasm")));
  const tfjsDist = dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"));
  for (const f of readdirSync(tfjsDist).filter((f) => f.endsWith(".wasm")))
    served.set(`/tfjs/${f}`, readFileSync(join(tfjsDist, f)));
  const server = await serveFiles(served, "/page.js");
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(server.url);
    await page.waitForFunction(() => "runImageWorkload" in globalThis, undefined, { timeout: 30_000 });
    const seen = await page.evaluate(() =>
      (globalThis as unknown as { runImageWorkload(): Promise<ImageWorkloadResult> }).runImageWorkload(),
    );
    assert.deepEqual(errors, [], "uncaught errors in the page");
    t.diagnostic(assertSameAsNode(seen, "chromium"));
  } finally {
    await browser.close();
    await server.close();
  }
});

/** The worker bundled as one module, beside the files and libwebp's wasm, with a config declaring all five. */
async function workerdProject(out: string): Promise<void> {
  const names = IMAGE_FILES.map((_, i) => `file${i}`);
  await build({
    stdin: {
      contents: [
        'import webp from "./webp_dec.wasm";',
        ...IMAGE_FILES.map((f, i) => `import ${names[i]} from "./${f}";`),
        `import { imageWorker } from ${JSON.stringify(join(HERE, "image-worker.js"))};`,
        `export default imageWorker(webp, [${names.join(", ")}]);`,
      ].join("\n"),
      resolveDir: out,
      sourcefile: "image-entry.js",
    },
    outfile: join(out, "worker.js"),
    bundle: true,
    format: "esm",
    // As a bundler targets a worker: the packages' browser builds (no fs or path).
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    target: "es2022",
    external: ["./webp_dec.wasm", ...IMAGE_FILES.map((f) => `./${f}`)],
    logLevel: "silent",
    plugins: [browserShims],
  });
  await writeFile(join(out, "webp_dec.wasm"), readFileSync(require.resolve("@jsquash/webp/codec/dec/webp_dec.wasm")));
  await Promise.all(IMAGE_FILES.map((f, i) => writeFile(join(out, f), files[i])));
  const modules = [
    '(name = "worker.js", esModule = embed "worker.js")',
    '(name = "webp_dec.wasm", wasm = embed "webp_dec.wasm")',
    ...IMAGE_FILES.map((f) => `(name = "${f}", data = embed "${f}")`),
  ];
  await writeFile(
    join(out, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (services = [(name = "worker", worker = .worker)]);
const worker :Workerd.Worker = (modules = [${modules.join(", ")}], compatibilityDate = "2026-11-01");
`,
  );
}

test("workerd: decodes to Node's pixels (libwebp from the config's module) and embeds on the CPU backend", {
  skip: existsSync(WORKERD) ? false : "workerd is not installed (node_modules/.bin/workerd missing)",
}, async (t) => {
  const out = await mkdtemp(join(tmpdir(), "quiver-images-workerd-"));
  try {
    await workerdProject(out);
    const { stdout, stderr } = await run(WORKERD, ["test", "config.capnp"], {
      cwd: out,
      timeout: 180_000,
      maxBuffer: 8 << 20,
    });
    const text = stdout + stderr;
    const line = text.split("\n").find((l) => l.includes(IMAGE_RESULT_MARK));
    assert.ok(line, text);
    const seen = JSON.parse(
      line.slice(line.indexOf(IMAGE_RESULT_MARK) + IMAGE_RESULT_MARK.length),
    ) as ImageWorkloadResult;
    assert.deepEqual(seen.decoded, node.decoded, "workerd: decoded sizes and pixels");
    assert.equal(seen.backend, "cpu");
    seen.vectors!.forEach((v, i) => {
      const cosine = v.reduce((s, x, j) => s + x * node.vectors![i][j], 0);
      assert.ok(cosine > 0.999, `workerd: ${IMAGE_FILES[i]} cosine ${cosine} to Node's wasm-backend vector`);
      t.diagnostic(`workerd (CPU backend) vs Node (wasm): ${IMAGE_FILES[i]} cosine ${cosine.toFixed(7)}`);
    });
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
