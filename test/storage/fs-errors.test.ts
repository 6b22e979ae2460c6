// I/O errors of the Node directory name files relative to the database, never the folder's
// absolute path: their messages reach clients through the server's error answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QuiverError } from "../../src/index.js";
import { NodeDirectory } from "../../src/node/fs-directory.js";

test("NodeDirectory errors name the file, not the database's absolute path", async () => {
  const root = mkdtempSync(join(tmpdir(), "quiver-fs-errors-"));
  try {
    const dir = new NodeDirectory(root);
    mkdirSync(join(root, "a-folder"));
    // Each call starts only when its turn comes: a rejection nobody awaits yet is an unhandled one,
    // which Deno's test runner fails on (it did, intermittently, when both reads started at once).
    const failures: [string, () => Promise<unknown>][] = [
      ["NOT_FOUND", () => dir.read("missing.seg")],
      ["IO", () => dir.read("a-folder")], // EISDIR
    ];
    for (const [code, failing] of failures) {
      await assert.rejects(failing(), (e: unknown) => {
        assert.ok(e instanceof QuiverError);
        assert.equal(e.code, code);
        assert.ok(!e.message.includes(root), `"${e.message}" shows ${root}`);
        assert.match(e.message, /missing\.seg|a-folder/);
        return true;
      });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
