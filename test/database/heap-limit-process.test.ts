/**
 * A real heap filled to the refusal: a Node process with a 160 MB heap adds records until a write is
 * refused with RESOURCE_EXHAUSTED naming the heap (before, such a process died with V8's "heap out
 * of memory" and lost its unacknowledged writes), replaces and deletes after it, and exits cleanly;
 * reopened in this process, the database holds exactly the acknowledged records.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { open } from "../../src/index.js";

const CHILD = fileURLToPath(new URL("./heap-limit-child.js", import.meta.url));

test("a process with a small heap refuses new records before the heap runs out, and loses nothing", {
  timeout: 120_000,
}, async () => {
  const path = await mkdtemp(join(tmpdir(), "quiver-heap-"));
  try {
    const r = spawnSync(process.execPath, ["--max-old-space-size=160", CHILD, path], { encoding: "utf8" });
    assert.equal(r.status, 0, `the child exited ${r.status} ${r.signal ?? ""}: ${r.stderr.slice(-2000)}`);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.equal(out.code, "RESOURCE_EXHAUSTED", JSON.stringify(out));
    assert.match(out.message, /JavaScript heap holds \d+ MB of its \d+ MB limit/);
    // Far fewer than the 5M the child tries: the heap, not the loop, ended it.
    assert.ok(out.acked >= 50_000 && out.acked < 5_000_000, `acknowledged ${out.acked}`);
    assert.equal(out.replaced, true);
    assert.equal(out.deleted, true);

    const db = await open(path);
    const c = await db.collection("fill");
    assert.equal(await c.count(), out.acked - 1);
    const ids = ["record-0", "record-1", `record-${out.acked - 1}`, `record-${out.acked}`];
    const found = await c.get(ids);
    const [first, deleted, last, refused] = ids.map((id) => found.find((x) => x.id === id));
    assert.deepEqual(first?.payload, { n: -1 });
    assert.equal(deleted, undefined);
    assert.equal(last?.payload?.n, out.acked - 1);
    assert.equal(refused, undefined);
    await db.close();
  } finally {
    await rm(path, { recursive: true, force: true });
  }
});
