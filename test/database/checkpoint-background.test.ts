/**
 * A running checkpoint never holds up the writer: with its segment write held back, automatic
 * triggers, an explicit checkpoint() and close() all wait for it without stopping writes; two
 * checkpoints never write at once; and everything acknowledged meanwhile is there after reopening.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Database } from "../../src/database/database.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";
import type { Directory, WritableFile } from "../../src/storage/directory.js";

/** A directory whose segment appends wait while `held`, counting segment files open at once. */
class GatedDirectory implements Directory {
  private gate: Promise<void> | null = null;
  private openGate: () => void = () => undefined;
  segmentsCreated = 0;
  private writingSegments = 0;
  mostSegmentsAtOnce = 0;
  constructor(private readonly inner: MemoryDirectory) {}

  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }
  release(): void {
    this.gate = null;
    this.openGate();
  }

  async create(name: string): Promise<WritableFile> {
    const file = await this.inner.create(name);
    if (!name.endsWith(".qseg")) return file;
    this.segmentsCreated++;
    this.mostSegmentsAtOnce = Math.max(this.mostSegmentsAtOnce, ++this.writingSegments);
    return {
      get size() {
        return file.size;
      },
      append: async (data) => {
        await this.gate;
        return file.append(data);
      },
      sync: () => file.sync(),
      truncate: (size) => file.truncate(size),
      close: async () => {
        this.writingSegments--;
        return file.close();
      },
    };
  }
  list = () => this.inner.list();
  read = (name: string) => this.inner.read(name);
  openAppend = (name: string) => this.inner.openAppend(name);
  rename = (a: string, b: string) => this.inner.rename(a, b);
  remove = (name: string) => this.inner.remove(name);
  syncDir = () => this.inner.syncDir();
  lock = () => this.inner.lock();
}

const settled = (p: Promise<unknown>): Promise<boolean> =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20))]);

test("writes, automatic triggers, checkpoint() and close() go on while a checkpoint is held back", {
  timeout: 30_000,
}, async () => {
  const mem = new MemoryDirectory();
  const dir = new GatedDirectory(mem);
  const db = await Database.openDirectory(dir, { walMaxBytes: 2048 });
  const c = await db.createCollection("c", { vectors: { v: { dim: 4, metric: "l2" } } });
  const vector = (i: number) => [i, i + 1, i + 2, i + 3];
  dir.hold();
  // The first group past 2 KiB of WAL starts a checkpoint, whose segment append then waits.
  let i = 0;
  while (dir.segmentsCreated === 0) await c.upsert([{ id: `r${i}`, vector: vector(i++) }]);
  // Many more WAL-fulls of writes: each is acknowledged, and no second checkpoint starts.
  const before = i;
  for (; i < before + 200; i++) await c.upsert([{ id: `r${i}`, vector: vector(i) }]);
  assert.equal(dir.segmentsCreated, 1, "automatic triggers wait for the running checkpoint");
  // An explicit checkpoint waits for it too, outside the writer: writes still go on.
  const explicit = db.checkpoint();
  await c.upsert([{ id: "during-explicit", vector: vector(0) }]);
  await c.delete(["r0"]);
  assert.equal(await settled(explicit), false, "checkpoint() waits for the held one");
  assert.equal((await c.get(["during-explicit"])).length, 1, "reads see the writes made meanwhile");
  const closing = db.close();
  assert.equal(await settled(closing), false, "close() waits for the held one");
  dir.release();
  await explicit;
  await closing;
  assert.equal(dir.mostSegmentsAtOnce, 1, "two checkpoints never wrote at once");
  assert.ok(dir.segmentsCreated >= 2, "the explicit checkpoint ran after the held one");

  const again = await Database.openDirectory(mem);
  const c2 = await again.collection("c");
  assert.equal(await c2.count(), i);
  assert.equal((await c2.get(["during-explicit", "r0", `r${i - 1}`])).length, 2);
  await again.close();
});
