/**
 * The behaviour every Directory must show (memory, node fs, fault-injecting; OPFS and IndexedDB in
 * Chromium), as one node:test suite that each implementation's test file runs against its own factory
 * (test/browser/ runs it in the browser through small node:test and node:assert stand-ins).
 */

import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { isQuiverError } from "../../src/core/errors/errors.js";
import { type Directory, writeFileAtomic } from "../../src/storage/directory.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string): Uint8Array => enc.encode(s);
const text = (b: Uint8Array): string => dec.decode(b);

/** Byte-wise equality without Buffer, so the suite also runs in a browser (test/browser/). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Deterministic pseudo-random bytes, so a large-file mismatch is reproducible. */
function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function rejectsWith(p: Promise<unknown>, code: "NOT_FOUND" | "IO" | "LOCKED"): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isQuiverError(e, code), `expected QuiverError ${code}, got ${String(e)}`);
    return true;
  });
}

async function writeFile(dir: Directory, name: string, ...chunks: string[]): Promise<void> {
  const f = await dir.create(name);
  for (const c of chunks) await f.append(bytes(c));
  await f.sync();
  await f.close();
}

/** `scratch`: whether this implementation offers scratch files (the optional capability). */
export function directoryConformance(
  name: string,
  make: () => Promise<{ dir: Directory; cleanup?: () => Promise<void> }>,
  opts: { scratch: boolean },
): void {
  describe(`Directory conformance: ${name}`, () => {
    let cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const c of cleanups) await c();
      cleanups = [];
    });
    async function fresh(): Promise<Directory> {
      const { dir, cleanup } = await make();
      if (cleanup) cleanups.push(cleanup);
      return dir;
    }

    it("round-trips create, append, read", async () => {
      const dir = await fresh();
      await writeFile(dir, "a.bin", "hello ", "world");
      assert.equal(text(await dir.read("a.bin")), "hello world");
      const empty = await dir.create("empty");
      await empty.close();
      assert.equal((await dir.read("empty")).length, 0);
    });

    it("reads what was appended before sync or close", async () => {
      const dir = await fresh();
      const f = await dir.create("open");
      await f.append(bytes("abc"));
      assert.equal(text(await dir.read("open")), "abc");
      await f.close();
    });

    it("copies data in and out", async () => {
      const dir = await fresh();
      const f = await dir.create("c");
      const data = bytes("xyz");
      await f.append(data);
      data[0] = 0;
      await f.close();
      const out = await dir.read("c");
      out[1] = 0;
      assert.equal(text(await dir.read("c")), "xyz");
    });

    it("tracks size, including unsynced bytes", async () => {
      const dir = await fresh();
      const f = await dir.create("s");
      assert.equal(f.size, 0);
      await f.append(new Uint8Array(10));
      assert.equal(f.size, 10);
      await f.append(new Uint8Array(0));
      assert.equal(f.size, 10);
      await f.append(new Uint8Array(5));
      assert.equal(f.size, 15);
      await f.sync();
      assert.equal(f.size, 15);
      await f.close();
    });

    it("create truncates an existing file", async () => {
      const dir = await fresh();
      await writeFile(dir, "t", "old content");
      const f = await dir.create("t");
      assert.equal(f.size, 0);
      await f.append(bytes("new"));
      await f.close();
      assert.equal(text(await dir.read("t")), "new");
    });

    it("openAppend continues at the end", async () => {
      const dir = await fresh();
      await writeFile(dir, "log", "one,");
      const f = await dir.openAppend("log");
      assert.equal(f.size, 4);
      await f.append(bytes("two"));
      assert.equal(f.size, 7);
      await f.sync();
      await f.close();
      assert.equal(text(await dir.read("log")), "one,two");
      await rejectsWith(dir.openAppend("missing"), "NOT_FOUND");
    });

    it("truncate cuts the file and appends continue at the new end", async () => {
      const dir = await fresh();
      const f = await dir.create("tr");
      await f.append(bytes("good|torn-tail"));
      await f.truncate(5);
      assert.equal(f.size, 5);
      await f.append(bytes("next"));
      await f.sync();
      await f.close();
      assert.equal(text(await dir.read("tr")), "good|next");
      const g = await dir.openAppend("tr");
      await g.truncate(0);
      assert.equal(g.size, 0);
      await g.close();
      assert.equal((await dir.read("tr")).length, 0);
      const h = await dir.openAppend("tr");
      await rejectsWith(h.truncate(-1), "IO");
      await h.close();
    });

    it("rename moves a file and atomically replaces the target", async () => {
      const dir = await fresh();
      await writeFile(dir, "a", "A");
      await dir.rename("a", "b");
      assert.equal(text(await dir.read("b")), "A");
      await rejectsWith(dir.read("a"), "NOT_FOUND");
      await writeFile(dir, "new", "NEW");
      await dir.rename("new", "b");
      assert.equal(text(await dir.read("b")), "NEW");
      assert.deepEqual((await dir.list()).sort(), ["b"]);
      await rejectsWith(dir.rename("missing", "b"), "NOT_FOUND");
      assert.equal(text(await dir.read("b")), "NEW");
    });

    it("an open handle keeps writing to its file after a rename", async () => {
      const dir = await fresh();
      const f = await dir.create("x.tmp");
      await f.append(bytes("1"));
      await dir.rename("x.tmp", "x");
      await f.append(bytes("2"));
      await f.close();
      assert.equal(text(await dir.read("x")), "12");
    });

    it("remove deletes, and removing a missing file is not an error", async () => {
      const dir = await fresh();
      await writeFile(dir, "r", "r");
      await dir.remove("r");
      await rejectsWith(dir.read("r"), "NOT_FOUND");
      await dir.remove("r");
      await dir.remove("never-existed");
      await dir.syncDir();
    });

    it("read of a missing file rejects NOT_FOUND", async () => {
      const dir = await fresh();
      await rejectsWith(dir.read("nope"), "NOT_FOUND");
    });

    it("rejects names that are not plain file names", async () => {
      const dir = await fresh();
      for (const bad of ["", ".", "..", "../escape", "sub/file"]) {
        await rejectsWith(dir.read(bad), "IO");
        await rejectsWith(dir.create(bad), "IO");
      }
    });

    it("lists the files", async () => {
      const dir = await fresh();
      assert.deepEqual(await dir.list(), []);
      await writeFile(dir, "one", "1");
      await writeFile(dir, "two", "2");
      await writeFile(dir, "three", "3");
      await dir.remove("two");
      await dir.rename("three", "3");
      await dir.syncDir();
      assert.deepEqual((await dir.list()).sort(), ["3", "one"]);
    });

    it("lock is exclusive until released, then can be taken again", async () => {
      const dir = await fresh();
      const l1 = await dir.lock();
      await rejectsWith(dir.lock(), "LOCKED");
      await l1.release();
      await l1.release(); // idempotent
      const l2 = await dir.lock();
      await rejectsWith(dir.lock(), "LOCKED");
      await l2.release();
      assert.deepEqual(await dir.list(), [], "the lock is not a listed file");
    });

    it("writeFileAtomic writes and replaces a whole file, leaving no temporary", async () => {
      const dir = await fresh();
      await writeFileAtomic(dir, "MANIFEST", bytes("v1"));
      assert.equal(text(await dir.read("MANIFEST")), "v1");
      await writeFileAtomic(dir, "MANIFEST", bytes("version two"));
      assert.equal(text(await dir.read("MANIFEST")), "version two");
      assert.deepEqual(await dir.list(), ["MANIFEST"]);
    });

    it("handles large appends (several MB)", async () => {
      const dir = await fresh();
      const chunk = pattern(3 << 20, 7);
      const f = await dir.create("big");
      await f.append(chunk);
      await f.append(chunk.subarray(0, 1 << 20));
      await f.sync();
      assert.equal(f.size, 4 << 20);
      await f.close();
      const back = await dir.read("big");
      assert.equal(back.length, 4 << 20);
      assert.ok(sameBytes(back.subarray(0, 3 << 20), chunk));
      assert.ok(sameBytes(back.subarray(3 << 20), chunk.subarray(0, 1 << 20)));
    });

    it("handles many small appends, in order", async () => {
      const dir = await fresh();
      const all = pattern(64 * 1024, 3);
      const f = await dir.create("small");
      let off = 0;
      for (let i = 0; off < all.length; i++) {
        const n = Math.min(1 + (i % 13), all.length - off);
        await f.append(all.subarray(off, off + n));
        off += n;
        if (i % 500 === 0) await f.sync();
      }
      assert.equal(f.size, all.length);
      await f.close();
      assert.ok(sameBytes(await dir.read("small"), all));
    });

    it("keeps concurrent appends on one handle whole and in call order", async () => {
      const dir = await fresh();
      const f = await dir.create("conc");
      await Promise.all(Array.from({ length: 50 }, (_, i) => f.append(bytes(`<${i}>`))));
      await f.close();
      const expected = Array.from({ length: 50 }, (_, i) => `<${i}>`).join("");
      assert.equal(text(await dir.read("conc")), expected);
    });

    it("rejects use of a closed file with IO", async () => {
      const dir = await fresh();
      const f = await dir.create("closed");
      await f.close();
      await rejectsWith(f.append(bytes("x")), "IO");
      await rejectsWith(f.sync(), "IO");
    });

    if (!opts.scratch) {
      it("offers no scratch files (callers then keep such data in memory)", async () => {
        assert.equal((await fresh()).openScratch, undefined);
      });
      return;
    }

    it("scratch files: positional writes and reads, zeros where unwritten, deleted at close", async () => {
      const dir = await fresh();
      assert.ok(dir.openScratch, "this directory should offer scratch files");
      const f = dir.openScratch("a.qscratch");
      f.write(100, bytes("hello"));
      f.write(0, bytes("ab"));
      f.write(101, bytes("E"));
      const got = new Uint8Array(110).fill(7);
      f.read(0, got);
      assert.equal(text(got.subarray(0, 2)), "ab");
      assert.ok(got.subarray(2, 100).every((x) => x === 0) && got.subarray(105).every((x) => x === 0));
      assert.equal(text(got.subarray(100, 105)), "hEllo");
      assert.ok((await dir.list()).includes("a.qscratch"));
      // Opening it again starts empty: it is a cache, never state.
      f.close();
      assert.ok(!(await dir.list()).includes("a.qscratch"));
      const g = dir.openScratch("a.qscratch");
      const again = new Uint8Array(4).fill(7);
      g.read(0, again);
      assert.deepEqual([...again], [0, 0, 0, 0]);
      g.close();
      assert.throws(
        () => g.write(0, bytes("x")),
        (e: unknown) => isQuiverError(e, "IO"),
      );
    });
  });
}
