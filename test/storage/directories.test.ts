/**
 * Runs the Directory conformance suite against every implementation, plus what only the node fs
 * directory has: a lock shared with other processes, stale-lock takeover, OS error mapping.
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { hostname, tmpdir, uptime } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isQuiverError, type QuiverError } from "../../src/core/errors/errors.js";
import { LOCK_FILE, NodeDirectory } from "../../src/node/fs-directory.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";
import { FaultyDirectory } from "../support/faulty-directory.js";
import { directoryConformance } from "./directory-conformance.js";

const tempRoots: string[] = [];
async function tempDir(): Promise<string> {
  const p = await mkdtemp(join(tmpdir(), "quiver-dir-test-"));
  tempRoots.push(p);
  return p;
}
after(async () => {
  for (const p of tempRoots) await rm(p, { recursive: true, force: true });
});

directoryConformance("MemoryDirectory", async () => ({ dir: new MemoryDirectory() }), { scratch: false });
directoryConformance(
  "NodeDirectory",
  async () => {
    const path = await tempDir();
    return { dir: new NodeDirectory(path) };
  },
  { scratch: true },
);
directoryConformance("FaultyDirectory (no faults)", async () => ({ dir: new FaultyDirectory() }), { scratch: true });

describe("MemoryDirectory helpers", () => {
  it("fromFiles and snapshot copy, both ways", async () => {
    const src = new Map([["a", new Uint8Array([1, 2, 3])]]);
    const dir = MemoryDirectory.fromFiles(src);
    src.get("a")![0] = 9;
    assert.deepEqual([...(await dir.read("a"))], [1, 2, 3]);
    const snap = dir.snapshot();
    snap.get("a")![0] = 9;
    assert.deepEqual([...(await dir.read("a"))], [1, 2, 3]);
  });
});

const fsDirectoryUrl = new URL("../../src/node/fs-directory.js", import.meta.url).href;

/** Starts a node process that takes the lock of `path` and holds it until killed. */
/**
 * The other process in the lock tests is always Node: under Bun or Deno (test/runtimes/suite.test.ts)
 * this process's own binary cannot run `-e` scripts with Node's flags, so the runner passes Node's path.
 */
const NODE = process.env.QUIVER_NODE || process.execPath;

async function spawnLockHolder(path: string): Promise<ChildProcess> {
  const script = `
    import { NodeDirectory } from ${JSON.stringify(fsDirectoryUrl)};
    const dir = new NodeDirectory(${JSON.stringify(path)});
    try { await dir.lock(); console.log("locked"); } catch (e) { console.log("failed " + e.code); process.exit(1); }
    setInterval(() => {}, 1 << 30);
  `;
  const child = spawn(NODE, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(out.trim());
    });
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`lock holder exited early (${code}): ${out}`)));
  });
  assert.equal(line, "locked");
  return child;
}

async function killAndWait(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(NODE, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid!;
}

/**
 * Takes the lock of `path` and checks that it is really ours: LOCK now names this process with a
 * fresh time (the stale holder's file was replaced, not kept), another handle is refused, and
 * releasing removes the file.
 */
async function assertTakesOver(path: string): Promise<void> {
  const before = Date.now();
  const lock = await new NodeDirectory(path).lock();
  const info = JSON.parse(await readFile(join(path, LOCK_FILE), "utf8"));
  assert.equal(info.pid, process.pid);
  assert.equal(info.hostname, hostname());
  assert.ok(Date.parse(info.startedAt) >= before - 1000, `startedAt ${info.startedAt} is not this acquisition's`);
  await assert.rejects(new NodeDirectory(path).lock(), assertCode("LOCKED"));
  await lock.release();
  await assert.rejects(readFile(join(path, LOCK_FILE)), { code: "ENOENT" });
}

/** Checks that lock() is refused LOCKED and leaves the holder's LOCK file exactly as it was. */
async function assertRespected(path: string, message?: RegExp): Promise<void> {
  const held = await readFile(join(path, LOCK_FILE), "utf8");
  await assert.rejects(new NodeDirectory(path).lock(), (e: unknown) => {
    assertCode("LOCKED")(e);
    if (message) assert.match((e as Error).message, message);
    return true;
  });
  assert.equal(await readFile(join(path, LOCK_FILE), "utf8"), held);
}

function assertCode(code: "LOCKED" | "IO" | "NOT_FOUND") {
  return (e: unknown): boolean => {
    assert.ok(isQuiverError(e, code), `expected ${code}, got ${String(e)}`);
    return true;
  };
}

describe("NodeDirectory", () => {
  it("readInto reads into the given buffer when the file fits, into a new one when not; sizeOf", async () => {
    const dir = new NodeDirectory(await tempDir());
    const f = await dir.create("f");
    await f.append(new Uint8Array([1, 2, 3, 4, 5]));
    await f.close();
    assert.equal(await dir.sizeOf("f"), 5);
    const into = new Uint8Array(8).fill(9);
    const fits = await dir.readInto("f", into);
    assert.deepEqual([...fits], [1, 2, 3, 4, 5]);
    assert.equal(fits.buffer, into.buffer, "a view of the given buffer");
    assert.deepEqual([...into.subarray(5)], [9, 9, 9], "bytes past the file left alone");
    const small = new Uint8Array(2);
    const grown = await dir.readInto("f", small);
    assert.deepEqual([...grown], [1, 2, 3, 4, 5]);
    assert.notEqual(grown.buffer, small.buffer);
    await assert.rejects(dir.readInto("missing", into), (e: QuiverError) => isQuiverError(e, "NOT_FOUND"));
    await assert.rejects(dir.sizeOf("missing"), (e: QuiverError) => isQuiverError(e, "NOT_FOUND"));
  });

  it("creates its folder recursively", async () => {
    const path = join(await tempDir(), "a", "b", "c");
    const dir = await NodeDirectory.open(path);
    const f = await dir.create("x");
    await f.close();
    assert.deepEqual(await new NodeDirectory(path).list(), ["x"]);
  });

  it("list ignores sub-directories and the LOCK file", async () => {
    const path = await tempDir();
    const dir = new NodeDirectory(path);
    await mkdir(join(path, "sub"));
    await writeFile(join(path, "file"), "x");
    const lock = await dir.lock();
    assert.deepEqual(await dir.list(), ["file"]);
    await lock.release();
  });

  it("writes LOCK as JSON naming this process, and removes it on release", async () => {
    const path = await tempDir();
    const lock = await new NodeDirectory(path).lock();
    const info = JSON.parse(await readFile(join(path, LOCK_FILE), "utf8"));
    assert.equal(info.pid, process.pid);
    assert.equal(info.hostname, hostname());
    assert.ok(Number.isFinite(Date.parse(info.startedAt)));
    await lock.release();
    await assert.rejects(readFile(join(path, LOCK_FILE)), { code: "ENOENT" });
  });

  it("a second handle in this process (even via a symlink) cannot lock", async () => {
    const path = await tempDir();
    const link = `${path}-link`;
    await symlink(path, link);
    tempRoots.push(link);
    const lock = await new NodeDirectory(path).lock();
    await assert.rejects(new NodeDirectory(path).lock(), (e: unknown) => {
      assertCode("LOCKED")(e);
      assert.match((e as Error).message, new RegExp(`process ${process.pid}`));
      return true;
    });
    await assert.rejects(new NodeDirectory(link).lock(), assertCode("LOCKED"));
    await lock.release();
    const again = await new NodeDirectory(link).lock();
    await again.release();
  });

  it("another live process holding the lock makes lock() reject LOCKED; its crash frees it", async () => {
    const path = await tempDir();
    const child = await spawnLockHolder(path);
    try {
      await assert.rejects(new NodeDirectory(path).lock(), (e: unknown) => {
        assertCode("LOCKED")(e);
        const msg = (e as Error).message;
        assert.ok(msg.includes(`process ${child.pid}`), msg);
        assert.ok(msg.includes(path), msg);
        assert.ok(msg.includes("close it there first"), msg);
        return true;
      });
      assert.equal(JSON.parse(await readFile(join(path, LOCK_FILE), "utf8")).pid, child.pid);
    } finally {
      await killAndWait(child);
    }
    // SIGKILL left LOCK behind, naming a dead pid: it is stale and taken over.
    assert.equal(JSON.parse(await readFile(join(path, LOCK_FILE), "utf8")).pid, child.pid);
    await assertTakesOver(path);
  });

  it("takes over a LOCK whose holder was killed but not yet reaped (a zombie)", {
    skip: process.platform !== "linux",
  }, async () => {
    const path = await tempDir();
    const script = `
      import { NodeDirectory } from ${JSON.stringify(fsDirectoryUrl)};
      await new NodeDirectory(${JSON.stringify(path)}).lock();
      console.log("locked " + process.pid);
      setInterval(() => {}, 1 << 30);
    `;
    // sh starts the holder, then becomes \`sleep\`, a parent that never reaps it.
    const parent = spawn("sh", ["-c", '"$0" --input-type=module -e "$1" & exec sleep 60', NODE, script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let holder = 0;
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        let out = "";
        parent.stdout!.on("data", (d: Buffer) => {
          out += d.toString();
          const m = /locked (\d+)\n/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        parent.on("exit", (code) => reject(new Error(`holder parent exited (${code}): ${out}`)));
      });
      holder = pid;
      await assertRespected(path);
      process.kill(pid, "SIGKILL");
      for (let i = 0; i < 200; i++) {
        const stat = await readFile(`/proc/${pid}/stat`, "utf8");
        if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      process.kill(pid, 0); // still answers: a zombie
      assert.equal(JSON.parse(await readFile(join(path, LOCK_FILE), "utf8")).pid, pid);
      await assertTakesOver(path);
    } finally {
      // A failed assertion must not leave the holder running (it keeps the runner's pipe open).
      if (holder) process.kill(holder, "SIGKILL");
      await killAndWait(parent);
    }
  });

  it("takes over a LOCK left by a dead pid", async () => {
    const path = await tempDir();
    const pid = await deadPid();
    await writeFile(
      join(path, LOCK_FILE),
      JSON.stringify({ pid, hostname: hostname(), startedAt: new Date().toISOString() }),
    );
    await assertTakesOver(path);
  });

  it("takes over a garbage or empty LOCK file", async () => {
    for (const content of ["", "{not json", JSON.stringify({ pid: "x" })]) {
      const path = await tempDir();
      await writeFile(join(path, LOCK_FILE), content);
      await assertTakesOver(path);
    }
  });

  it("takes over a LOCK written by a previous process that had our pid", async () => {
    const path = await tempDir();
    const info = { pid: process.pid, hostname: hostname(), startedAt: new Date(Date.now() - 5000).toISOString() };
    await writeFile(join(path, LOCK_FILE), JSON.stringify(info));
    await assertTakesOver(path);
  });

  it("takes over a LOCK taken before the last boot, even if its pid is alive again", async () => {
    const path = await tempDir();
    // Our parent is alive, but a lock from a day before this boot cannot be its.
    const bootedAt = Date.now() - uptime() * 1000;
    const old = { pid: process.ppid, hostname: hostname(), startedAt: new Date(bootedAt - 86_400_000).toISOString() };
    await writeFile(join(path, LOCK_FILE), JSON.stringify(old));
    await assertTakesOver(path);
  });

  it("respects a live pid, and a LOCK from another host", async () => {
    const path = await tempDir();
    // Our parent is alive and is not us.
    const live = { pid: process.ppid, hostname: hostname(), startedAt: new Date().toISOString() };
    await writeFile(join(path, LOCK_FILE), JSON.stringify(live));
    await assertRespected(path, new RegExp(`process ${process.ppid}`));
    const remote = { pid: await deadPid(), hostname: `not-${hostname()}`, startedAt: new Date().toISOString() };
    await writeFile(join(path, LOCK_FILE), JSON.stringify(remote));
    await assertRespected(path, /on host not-/);
  });

  it("maps OS errors to NOT_FOUND and IO with op, file, errno and cause", async () => {
    const path = await tempDir();
    const dir = new NodeDirectory(path);
    await assert.rejects(dir.read("missing.log"), (e: unknown) => {
      assertCode("NOT_FOUND")(e);
      assert.match((e as Error).message, /missing\.log/);
      return true;
    });
    await mkdir(join(path, "adir"));
    await assert.rejects(dir.read("adir"), (e: unknown) => {
      assertCode("IO")(e);
      const err = e as QuiverError;
      assert.match(err.message, /^read of adir failed: EISDIR/);
      assert.equal((err.cause as { code?: string }).code, "EISDIR");
      return true;
    });
    await assert.rejects(dir.openAppend("adir"), assertCode("IO"));
    // A file where the folder should be: every operation fails with IO, naming the path.
    const notADir = join(path, "plain-file");
    await writeFile(notADir, "x");
    await assert.rejects(new NodeDirectory(notADir).list(), (e: unknown) => {
      assertCode("IO")(e);
      assert.match((e as Error).message, /EEXIST|ENOTDIR/);
      return true;
    });
  });
});
