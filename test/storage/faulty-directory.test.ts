/**
 * Checks the FaultyDirectory itself: its power-loss model and its fault injection. Crash tests of
 * the WAL and manifest are only as strong as this model is faithful.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isQuiverError, type QuiverError } from "../../src/core/errors/errors.js";
import { writeFileAtomic } from "../../src/storage/directory.js";
import { FaultyDirectory, seededRng } from "../support/faulty-directory.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string): Uint8Array => enc.encode(s);
const text = (b: Uint8Array): string => dec.decode(b);

/** Every distinct outcome of `sample` over many seeds, as strings. */
function outcomes(sample: (rng: () => number) => string, n = 300): Set<string> {
  const seen = new Set<string>();
  for (let seed = 1; seed <= n; seed++) seen.add(sample(seededRng(seed)));
  return seen;
}

function fileOr(snapshot: Map<string, Uint8Array>, name: string): string {
  const b = snapshot.get(name);
  return b === undefined ? "<missing>" : text(b);
}

function isIO(errno: string) {
  return (e: unknown): boolean => {
    assert.ok(isQuiverError(e, "IO"), `expected IO, got ${String(e)}`);
    assert.match((e as QuiverError).message, new RegExp(errno));
    assert.equal(((e as QuiverError).cause as { code?: string }).code, errno);
    return true;
  };
}

describe("FaultyDirectory durability model", () => {
  it("keeps synced bytes and a torn prefix of unsynced ones", async () => {
    const dir = new FaultyDirectory();
    const f = await dir.create("wal");
    await dir.syncDir();
    await f.append(bytes("synced|"));
    await f.sync();
    await f.append(bytes("abc"));
    await f.append(bytes("def"));
    const seen = outcomes((rng) => fileOr(dir.crash(rng).snapshot(), "wal"));
    // Every prefix of the unsynced bytes, and nothing else.
    const expected = ["", "a", "ab", "abc", "abcd", "abcde", "abcdef"].map((s) => `synced|${s}`);
    assert.deepEqual([...seen].sort(), expected.sort());
  });

  it("loses nothing that was synced and syncDir'ed", async () => {
    const dir = new FaultyDirectory();
    await writeFileAtomic(dir, "MANIFEST", bytes("v1"));
    const seen = outcomes((rng) => [...dir.crash(rng).snapshot()].map(([k, v]) => `${k}=${text(v)}`).join(","));
    assert.deepEqual([...seen], ["MANIFEST=v1"]);
  });

  it("a synced file whose creation was never syncDir'ed may vanish", async () => {
    const dir = new FaultyDirectory();
    const f = await dir.create("seg-1");
    await f.append(bytes("data"));
    await f.sync();
    const seen = outcomes((rng) => fileOr(dir.crash(rng).snapshot(), "seg-1"));
    assert.deepEqual([...seen].sort(), ["<missing>", "data"]);
    await dir.syncDir();
    assert.deepEqual([...outcomes((rng) => fileOr(dir.crash(rng).snapshot(), "seg-1"))], ["data"]);
  });

  it("a rename not followed by syncDir may revert, but never mixes old and new", async () => {
    const dir = new FaultyDirectory();
    await writeFileAtomic(dir, "MANIFEST", bytes("old"));
    const f = await dir.create("MANIFEST.tmp");
    await f.append(bytes("new"));
    await f.sync();
    await f.close();
    await dir.rename("MANIFEST.tmp", "MANIFEST");
    const seen = outcomes((rng) => fileOr(dir.crash(rng).snapshot(), "MANIFEST"));
    assert.deepEqual([...seen].sort(), ["new", "old"]);
    await dir.syncDir();
    assert.deepEqual([...outcomes((rng) => fileOr(dir.crash(rng).snapshot(), "MANIFEST"))], ["new"]);
  });

  it("applies pending directory operations as an in-order prefix", async () => {
    const dir = new FaultyDirectory();
    for (const name of ["a", "b", "c"]) {
      const f = await dir.create(name);
      await f.sync();
      await f.close();
    }
    const seen = outcomes((rng) => [...dir.crash(rng).snapshot().keys()].sort().join(""));
    assert.deepEqual([...seen].sort(), ["", "a", "ab", "abc"]);
  });

  it("an un-syncDir'ed removal may revert; the file keeps its durable bytes", async () => {
    const dir = new FaultyDirectory();
    await writeFileAtomic(dir, "old-seg", bytes("x"));
    await dir.remove("old-seg");
    assert.deepEqual(await dir.list(), []);
    const seen = outcomes((rng) => fileOr(dir.crash(rng).snapshot(), "old-seg"));
    assert.deepEqual([...seen].sort(), ["<missing>", "x"]);
  });

  it("treats truncate and create-over-existing as writes, durable only after sync", async () => {
    const dir = new FaultyDirectory();
    await writeFileAtomic(dir, "log", bytes("good|torn"));
    const f = await dir.openAppend("log");
    await f.truncate(5);
    assert.deepEqual([...outcomes((rng) => fileOr(dir.crash(rng).snapshot(), "log"))].sort(), ["good|", "good|torn"]);
    await f.sync();
    assert.deepEqual([...outcomes((rng) => fileOr(dir.crash(rng).snapshot(), "log"))], ["good|"]);
    await f.close();
    const g = await dir.create("log");
    await g.append(bytes("v2"));
    const seen = outcomes((rng) => fileOr(dir.crash(rng).snapshot(), "log"));
    assert.deepEqual([...seen].sort(), ["", "good|", "v", "v2"]);
  });

  it("crash does not disturb the running directory, and its result can crash again", async () => {
    const dir = new FaultyDirectory();
    const f = await dir.create("wal");
    await f.append(bytes("abc"));
    const crashed = dir.crash(() => 0);
    assert.equal(crashed.snapshot().size, 0);
    assert.equal(text(await dir.read("wal")), "abc");
    await f.append(bytes("d"));
    await f.sync();
    await dir.syncDir();
    const again = FaultyDirectory.fromFiles(dir.crash(() => 0.999).snapshot());
    assert.equal(text(await again.read("wal")), "abcd");
    assert.equal(fileOr(again.crash(() => 0).snapshot(), "wal"), "abcd", "fromFiles content is durable");
  });
});

describe("FaultyDirectory fault injection", () => {
  it("fails the (after+1)-th matching call, `times` times, then recovers", async () => {
    const dir = new FaultyDirectory();
    const f = await dir.create("wal-000001.log");
    dir.injectFault({ op: "sync", error: "EIO", after: 2, times: 2 });
    await f.sync();
    await f.sync();
    await assert.rejects(f.sync(), isIO("EIO"));
    await assert.rejects(f.sync(), isIO("EIO"));
    await f.sync();
    assert.equal(dir.calls("sync"), 5);
  });

  it("matches on file names, and only matching calls count toward `after`", async () => {
    const dir = new FaultyDirectory();
    const wal = await dir.create("wal-000003.log");
    const other = await dir.create("seg-1");
    dir.injectFault({ op: "sync", error: "EIO", file: /^wal-/, after: 1 });
    await other.sync();
    await other.sync();
    await wal.sync();
    await other.sync();
    await assert.rejects(wal.sync(), (e: unknown) => {
      isIO("EIO")(e);
      assert.match((e as Error).message, /sync of wal-000003\.log failed: EIO/);
      return true;
    });
    await wal.sync();
  });

  it("times: Infinity keeps failing until clearFaults", async () => {
    const dir = new FaultyDirectory();
    dir.injectFault({ op: "create", error: "ENOSPC", times: Infinity });
    for (let i = 0; i < 5; i++) await assert.rejects(dir.create(`f${i}`), isIO("ENOSPC"));
    assert.deepEqual(await dir.list(), []);
    dir.clearFaults();
    await (await dir.create("f")).close();
    assert.equal(dir.calls("create"), 6);
  });

  it("a failed append may have written a prefix of its bytes, which is not durable", async () => {
    let sawShort = false;
    let sawNone = false;
    for (let seed = 1; seed <= 50; seed++) {
      const dir = new FaultyDirectory({ seed });
      const f = await dir.create("wal");
      await dir.syncDir();
      await f.append(bytes("ok|"));
      await f.sync();
      dir.injectFault({ op: "append", error: "ENOSPC" });
      await assert.rejects(f.append(bytes("0123456789")), isIO("ENOSPC"));
      const now = text(await dir.read("wal"));
      assert.ok(now.startsWith("ok|") && "ok|0123456789".startsWith(now) && now !== "ok|0123456789", now);
      assert.equal(f.size, now.length);
      if (now.length > 3) sawShort = true;
      else sawNone = true;
      assert.equal(fileOr(dir.crash(() => 0).snapshot(), "wal"), "ok|");
    }
    assert.ok(sawShort && sawNone);
  });

  it("a failed sync or syncDir makes nothing durable", async () => {
    const dir = new FaultyDirectory();
    const f = await dir.create("m");
    await f.append(bytes("x"));
    dir.injectFault({ op: "sync", error: "EIO" });
    dir.injectFault({ op: "syncDir", error: "EIO" });
    await assert.rejects(f.sync(), isIO("EIO"));
    await assert.rejects(dir.syncDir(), isIO("EIO"));
    assert.equal(fileOr(dir.crash(() => 0.999).snapshot(), "m"), "x");
    assert.equal(dir.crash(() => 0).snapshot().size, 0);
  });

  it("injects into read, rename, remove, truncate; a failed operation changes nothing", async () => {
    const dir = new FaultyDirectory();
    await writeFileAtomic(dir, "a", bytes("A"));
    for (const op of ["read", "rename", "remove", "truncate"] as const) {
      dir.injectFault({ op, error: "EIO" });
    }
    await assert.rejects(dir.read("a"), isIO("EIO"));
    await assert.rejects(dir.rename("a", "b"), isIO("EIO"));
    await assert.rejects(dir.remove("a"), isIO("EIO"));
    const f = await dir.openAppend("a");
    await assert.rejects(f.truncate(0), isIO("EIO"));
    assert.equal(text(await dir.read("a")), "A");
    assert.deepEqual(await dir.list(), ["a"]);
  });

  it("counts calls per op, failed ones included", async () => {
    const dir = new FaultyDirectory();
    await writeFileAtomic(dir, "x", bytes("1"));
    await writeFileAtomic(dir, "x", bytes("2"));
    const counts = dir.callCounts();
    assert.equal(counts.create, 2);
    assert.equal(counts.append, 2);
    assert.equal(counts.sync, 2);
    assert.equal(counts.rename, 2);
    assert.equal(counts.syncDir, 2);
    assert.equal(counts.read, 0);
  });

  it("places a fault at a random point of a workload (the intended use)", async () => {
    // A dry run counts the appends; the real run fails one of them chosen by the seed.
    const run = async (dir: FaultyDirectory): Promise<number> => {
      const f = await dir.create("wal");
      let acked = 0;
      for (let i = 0; i < 20; i++) {
        try {
          await f.append(bytes(`r${i};`));
          await f.sync();
          acked++;
        } catch {
          break;
        }
      }
      return acked;
    };
    const dry = new FaultyDirectory();
    await run(dry);
    const total = dry.calls("append");
    const rng = seededRng(5);
    const at = Math.floor(rng() * total);
    const dir = new FaultyDirectory({ seed: 5 });
    dir.injectFault({ op: "append", error: "EIO", after: at });
    assert.equal(await run(dir), at);
  });
});
