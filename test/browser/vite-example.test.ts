/**
 * examples/browser-vite builds with Vite (the repository's vite, its CLI run as a user would) in a
 * copy whose node_modules links `quiverdb` to this checkout, with no warning about a Node module
 * externalized for the browser; the built page then stores and searches notes in Chromium (OPFS in a
 * Worker) and still has them after a reload.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { test } from "node:test";
import { launchChromium } from "../support/chromium.js";
import { serveFiles } from "./bundle-server.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const EXAMPLE = join(ROOT, "examples", "browser-vite");

async function filesUnder(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(`/${relative(dir, path)}`, await readFile(path));
  }
  return out;
}

test("examples/browser-vite: vite build succeeds, and the page stores and searches notes offline, across a reload", async () => {
  const work = await mkdtemp(join(tmpdir(), "quiver-vite-example-"));
  try {
    for (const f of ["index.html", "main.js", "worker.js", "vite.config.js", "package.json"]) {
      await copyFile(join(EXAMPLE, f), join(work, f));
    }
    await mkdir(join(work, "node_modules"));
    await symlink(ROOT, join(work, "node_modules", "quiverdb"), "dir");
    await symlink(join(ROOT, "node_modules", "vite"), join(work, "node_modules", "vite"), "dir");
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [join(ROOT, "node_modules", "vite", "bin", "vite.js"), "build"],
      { cwd: work, timeout: 60_000 },
    );
    assert.doesNotMatch(
      `${stdout}${stderr}`,
      /externalized for browser compatibility/,
      "a node:* module reached the build",
    );
    const files = await filesUnder(join(work, "dist"));
    assert.ok(files.has("/index.html"), `no index.html in ${[...files.keys()].join(", ")}`);

    const browser = await launchChromium();
    const server = await serveFiles(files);
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(server.url);
      await page.waitForFunction(() => "notes" in globalThis, undefined, { timeout: 20_000 });
      type Notes = { add(t: string): Promise<number>; search(q: string): Promise<Array<{ text: string }>> };
      const count = await page.evaluate(async () => {
        const notes = (globalThis as unknown as { notes: Notes }).notes;
        await notes.add("Buy oat milk and coffee beans");
        await notes.add("The vector database runs in the browser");
        return notes.add("Call the plumber about the kitchen sink");
      });
      assert.equal(count, 3);
      const search = () =>
        page.evaluate(
          async () => (await (globalThis as unknown as { notes: Notes }).notes.search("browser database"))[0]?.text,
        );
      assert.equal(await search(), "The vector database runs in the browser");
      await page.reload();
      await page.waitForFunction(() => "notes" in globalThis, undefined, { timeout: 20_000 });
      assert.equal(await page.textContent("#status"), "3 notes");
      assert.equal(await search(), "The vector database runs in the browser");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
