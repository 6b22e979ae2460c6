/**
 * Readers beside the writer (src/database/follower.ts), in one process over a shared in-memory
 * directory so that each race is made to happen, not hoped for: a WAL removed under the reader's
 * read, a checkpoint that overtakes it, one it has already caught up with, a torn tail that is a
 * write in flight. Each check compares the reader's whole state with the writer's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, isQuiverError, MemoryDirectory, type Collection, type Database } from "../../src/index.js";
import type { Directory } from "../../src/storage/directory.js";
import { frameRecord } from "../../src/storage/wal.js";
import { encodeOp } from "../../src/database/ops.js";
import { randomVector, rng } from "../support/brute.js";

/** Every record of a collection as id -> "vector|payload", to compare two databases exactly. */
async function contents(c: Collection): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let cursor: string | undefined;
  do {
    const page = await c.scroll({ cursor, limit: 500, withVectors: true });
    for (const r of page.records) out.set(r.id, JSON.stringify([r.vectors, r.payload]));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

async function assertSame(reader: Database, writer: Database, why: string): Promise<void> {
  assert.deepEqual(
    (await reader.listCollections()).map((c) => [c.name, c.count]),
    (await writer.listCollections()).map((c) => [c.name, c.count]),
    why,
  );
  for (const info of await writer.listCollections()) {
    const want = await contents(await writer.collection(info.name));
    assert.deepEqual(await contents(await reader.collection(info.name)), want, `${why}: ${info.name}`);
  }
}

/** A directory that runs `hook` before a read, once per armed name pattern, and records what each read met. */
class HookedDirectory implements Directory {
  hook: { match: RegExp; run: () => Promise<void> } | null = null;
  readonly reads: string[] = [];
  readonly missing: string[] = [];
  constructor(private readonly inner: MemoryDirectory) {}
  async list(): Promise<string[]> {
    await this.before("(list)");
    return this.inner.list();
  }
  private async before(name: string): Promise<void> {
    this.reads.push(name);
    const h = this.hook;
    if (h?.match.test(name)) {
      this.hook = null;
      await h.run();
    }
  }
  async read(name: string): Promise<Uint8Array> {
    await this.before(name);
    return this.inner.read(name).catch((e) => {
      if (isQuiverError(e, "NOT_FOUND")) this.missing.push(name);
      throw e;
    });
  }
  async readFrom(name: string, offset: number): Promise<Uint8Array> {
    await this.before(name);
    return this.inner.readFrom(name, offset).catch((e) => {
      if (isQuiverError(e, "NOT_FOUND")) this.missing.push(name);
      throw e;
    });
  }
  create = (name: string) => this.inner.create(name);
  openAppend = (name: string) => this.inner.openAppend(name);
  rename = (a: string, b: string) => this.inner.rename(a, b);
  remove = (name: string) => this.inner.remove(name);
  syncDir = () => this.inner.syncDir();
  lock = () => this.inner.lock();
}

const SCHEMA = { vectors: { v: { dim: 4, metric: "l2" as const } }, indexes: { g: "number" as const } };

async function writeSome(c: Collection, r: () => number, n: number, from: number): Promise<void> {
  await c.upsert(
    Array.from({ length: n }, (_, i) => ({ id: `r${from + i}`, vector: randomVector(r, 4), payload: { g: i } })),
  );
  await c.delete([`r${from}`]);
}

test("a reader loads the checkpoint and the WAL, follows new writes on refresh, and rejects every write with READ_ONLY", async () => {
  const mem = new MemoryDirectory();
  const r = rng(1);
  const writer = await open(mem, { walMaxBytes: 1 << 30 });
  const wc = await writer.createCollection("docs", SCHEMA);
  await writeSome(wc, r, 50, 0);
  await writer.checkpoint();
  await writeSome(wc, r, 30, 100); // in the WAL only
  const reader = await open(mem, { readOnly: true, refreshIntervalMs: 0 });
  try {
    assert.equal(reader.readOnly, true);
    await assertSame(reader, writer, "at open");
    const before = mem.snapshot();
    await writeSome(wc, r, 20, 200);
    await writer.createCollection("later", SCHEMA);
    assert.equal((await reader.listCollections()).length, 1, "nothing new before a refresh");
    await reader.refresh();
    await assertSame(reader, writer, "after refresh");

    const rc = await reader.collection("docs");
    const attempts: [string, () => Promise<unknown>][] = [
      ["createCollection", () => reader.createCollection("x", SCHEMA)],
      ["dropCollection", () => reader.dropCollection("docs")],
      ["checkpoint", () => reader.checkpoint()],
      ["upsert", () => rc.upsert([{ id: "n", vector: [1, 2, 3, 4] }])],
      ["upsert of nothing", () => rc.upsert([])],
      ["delete", () => rc.delete(["r1"])],
      ["deleteByFilter", () => rc.deleteByFilter({ g: { gte: 0 } })],
    ];
    for (const [what, attempt] of attempts) {
      await assert.rejects(attempt, (e: unknown) => isQuiverError(e, "READ_ONLY"), what);
    }
    assert.equal((await rc.query({ vector: [0, 0, 0, 0], limit: 3 })).hits.length, 3, "reads work");
    const after = mem.snapshot();
    // The writer wrote meanwhile; the reader must not have touched any file it had not.
    for (const [name, bytes] of after) if (before.has(name)) assert.ok(bytes.length >= before.get(name)!.length, name);
  } finally {
    await reader.close();
    await writer.close();
  }
});

test("a reader whose WAL is removed by a checkpoint mid-read reloads from the new manifest, missing nothing", async () => {
  const mem = new MemoryDirectory();
  const dir = new HookedDirectory(mem);
  const r = rng(2);
  const writer = await open(mem, { walMaxBytes: 1 << 30 });
  const wc = await writer.createCollection("docs", SCHEMA);
  await writeSome(wc, r, 40, 0);
  const reader = await open(dir, { readOnly: true, refreshIntervalMs: 0 });
  try {
    await writeSome(wc, r, 40, 100);
    // Just before the reader reads the WAL it follows, the writer writes more and checkpoints: the
    // WAL is deleted, and what the reader had not read yet is only in the new segments.
    dir.hook = {
      match: /^wal-/,
      run: async () => {
        await writeSome(wc, r, 40, 200);
        await writer.checkpoint();
      },
    };
    await reader.refresh();
    assert.equal(dir.hook, null, "the hook ran");
    assert.ok(
      dir.missing.some((n) => n.startsWith("wal-")),
      `the WAL was gone when read: ${dir.missing}`,
    );
    await assertSame(reader, writer, "after the reload");
    const stats = await reader.stats();
    assert.equal(stats.seq, (await writer.stats()).seq);
    assert.equal(stats.lastCheckpointSeq, (await writer.stats()).lastCheckpointSeq);

    // Now the checkpoint lands after the reader read the (old) manifest and before it lists the
    // WAL files: it finds only the new WAL, whose first record is not the next one (a gap).
    await writeSome(wc, r, 40, 300);
    dir.hook = {
      match: /^\(list\)$/,
      run: async () => {
        await writeSome(wc, r, 40, 400);
        await writer.checkpoint();
        await writeSome(wc, r, 5, 500);
      },
    };
    await reader.refresh();
    assert.equal(dir.hook, null, "the second hook ran");
    await assertSame(reader, writer, "after the gap");
  } finally {
    await reader.close();
    await writer.close();
  }
});

test("a reader already past a new checkpoint keeps its state and follows the new WAL (no reload)", async () => {
  const mem = new MemoryDirectory();
  const dir = new HookedDirectory(mem);
  const r = rng(3);
  const writer = await open(mem, { walMaxBytes: 1 << 30, maxSegments: 1 });
  const wc = await writer.createCollection("docs", SCHEMA);
  await writeSome(wc, r, 40, 0);
  const reader = await open(dir, { readOnly: true, refreshIntervalMs: 0 });
  try {
    await writer.checkpoint(); // the reader has everything this checkpoint holds
    await writeSome(wc, r, 40, 100);
    dir.reads.length = 0;
    await reader.refresh();
    assert.deepEqual(
      dir.reads.filter((n) => n.endsWith(".qseg")),
      [],
      "no segment read: adopted, not reloaded",
    );
    await assertSame(reader, writer, "after adopting");
    assert.equal((await reader.stats()).collections[0].segments, 1, "the new manifest's segments are reported");
    // And again through a compaction that replaces the segment (maxSegments 1).
    await writeSome(wc, r, 10, 300);
    await reader.refresh();
    await writer.checkpoint();
    await writeSome(wc, r, 10, 400);
    await reader.refresh();
    await assertSame(reader, writer, "after a compaction");
  } finally {
    await reader.close();
    await writer.close();
  }
});

test("a torn WAL tail is a write in flight for a reader: skipped without error, applied once complete", async () => {
  const mem = new MemoryDirectory();
  const r = rng(4);
  const writer = await open(mem, { walMaxBytes: 1 << 30 });
  const wc = await writer.createCollection("docs", SCHEMA);
  await writeSome(wc, r, 10, 0);
  await writer.close(); // final checkpoint: a fresh, empty newest WAL
  const wals = (await mem.list()).filter((n) => n.startsWith("wal-")).sort();
  const newest = wals[wals.length - 1];
  const manifest = JSON.parse(new TextDecoder().decode(await mem.read("MANIFEST")).replace(/\ncrc32c:.*\n$/, ""));
  const seq = manifest.checkpointSeq as number;
  const vectors = new Map([["v", new Float32Array([1, 2, 3, 4])]]);
  const late = { id: "late", payloadJson: "{}", vectors, sparse: new Map() };
  const frame = frameRecord(seq + 1, encodeOp({ type: "upsert", uid: manifest.collections[0].uid, records: [late] }));
  const file = await mem.openAppend(newest);
  await file.append(frame.subarray(0, 20)); // the writer is in the middle of this append
  const reader = await open(mem, { readOnly: true, refreshIntervalMs: 0 });
  try {
    assert.equal((await reader.listCollections())[0].count, 9);
    await reader.refresh();
    assert.equal((await reader.listCollections())[0].count, 9, "the torn record is not applied");
    await file.append(frame.subarray(20));
    await reader.refresh();
    const rc = await reader.collection("docs");
    assert.equal((await rc.get(["late"])).length, 1, "applied once complete");
    assert.equal((await reader.stats()).seq, seq + 1);
    assert.equal(mem.snapshot().get(newest)!.length, 8 + frame.length, "the reader cut nothing");
  } finally {
    await file.close();
    await reader.close();
  }
});

test("the background refresh picks up writes by itself, and closing stops it", async () => {
  const mem = new MemoryDirectory();
  const r = rng(5);
  const writer = await open(mem);
  const wc = await writer.createCollection("docs", SCHEMA);
  const reader = await open(mem, { readOnly: true, refreshIntervalMs: 20 });
  try {
    await writeSome(wc, r, 25, 0);
    const deadline = Date.now() + 5000;
    while ((await reader.listCollections())[0]?.count !== 24 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 10));
    }
    assert.equal((await reader.listCollections())[0]?.count, 24);
  } finally {
    await reader.close();
    await writer.close();
  }
  await assert.rejects(
    () => reader.refresh(),
    (e: unknown) => isQuiverError(e, "CLOSED"),
  );
});

test("a read-only open of a missing folder is NOT_FOUND and creates nothing", async () => {
  const path = `/tmp/quiver-no-such-${process.pid}-${Date.now()}`;
  await assert.rejects(
    () => open(path, { readOnly: true }),
    (e: unknown) => isQuiverError(e, "NOT_FOUND"),
  );
  const { existsSync } = await import("node:fs");
  assert.equal(existsSync(path), false);
});
