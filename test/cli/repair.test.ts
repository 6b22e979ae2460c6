/**
 * `quiver repair` end to end on real directories: it reports the damage and the exact loss, changes
 * nothing without --yes, backs up what it changes, repairs the log, and refuses what it cannot repair.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Database } from "../../src/database/database.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";
import { NodeDirectory } from "../../src/node/fs-directory.js";
import { scanWal } from "../../src/storage/wal.js";
import { QuiverError } from "../../src/core/errors/errors.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "quiver-repair-test-"));
after(() => rmSync(root, { recursive: true, force: true }));

function quiver(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function files(dir: string): Map<string, Buffer> {
  return new Map(
    readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => [e.name, readFileSync(join(dir, e.name))]),
  );
}

/** A database killed after 20 one-record upserts (r0..r19), written out to a real directory. */
async function killedDatabase(name: string): Promise<{ path: string; wal: string; offsets: number[] }> {
  const mem = new MemoryDirectory();
  const db = await Database.openDirectory(mem);
  const c = await db.createCollection("docs", { vectors: { v: { dim: 2, metric: "l2" } } });
  for (let i = 0; i < 20; i++) await c.upsert([{ id: `r${i}`, vector: [i, 1] }]);
  const path = join(root, name);
  mkdirSync(path);
  for (const [f, bytes] of mem.snapshot()) writeFileSync(join(path, f), bytes);
  const wal = [...mem.snapshot().keys()].find((f) => f.startsWith("wal-"))!;
  return { path, wal, offsets: scanWal(readFileSync(join(path, wal)), wal).records.map((r) => r.offset) };
}

test("repair of a damaged WAL record: exact loss, nothing changed without --yes, backup, then it opens", async () => {
  const { path, wal, offsets } = await killedDatabase("wal");
  const bytes = readFileSync(join(path, wal));
  bytes[offsets[11] + 12] ^= 0x40; // record 11 = seq 12 = r10
  writeFileSync(join(path, wal), bytes);
  const before = files(path);

  const stats = quiver("--db", path, "stats");
  assert.equal(stats.code, 2, stats.stderr);
  assert.match(stats.stderr, new RegExp(`CORRUPT.*${wal} offset ${offsets[11]} seq 12`));

  const dry = quiver("repair", path);
  assert.equal(dry.code, 1, dry.stderr);
  assert.match(dry.stdout, new RegExp(`${wal} offset ${offsets[11]} seq 12: the record is damaged`));
  assert.match(dry.stdout, new RegExp(`cut ${wal} at offset ${offsets[11]}`));
  // Records 12..20 (seq 13..21) are intact after the damaged one.
  assert.match(dry.stdout, /every operation from seq 12 on: 9 intact operation\(s\), seq 13 to 21/);
  assert.match(dry.stderr, /--yes/);
  assert.deepEqual(files(path), before, "nothing changed without --yes");

  const done = quiver("repair", path, "--yes");
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /the database opens: docs \(10\)/);
  const backup = readdirSync(path).find((f) => f.startsWith("repair-backup-"))!;
  assert.ok(backup, "a backup folder");
  assert.deepEqual(readFileSync(join(path, backup, wal)), before.get(wal), "the WAL as it was");
  const db = await Database.openDirectory(new NodeDirectory(path));
  const c = await db.collection("docs");
  assert.equal(await c.count(), 10);
  assert.equal((await c.get(["r9", "r10"])).length, 1);
  await db.close();
  assert.equal(quiver("repair", path).stdout.trim(), `${path}: no damage found`);
});

test("repair refuses what it cannot repair (a missing MANIFEST beside segments) and changes nothing", async () => {
  const { path } = await killedDatabase("manifest");
  // Checkpoint so that segments exist, then lose the manifest.
  const db = await Database.openDirectory(new NodeDirectory(path));
  await db.close();
  unlinkSync(join(path, "MANIFEST"));
  const before = files(path);
  const r = quiver("repair", path, "--yes");
  assert.equal(r.code, 2, r.stdout);
  assert.match(r.stderr, /CORRUPT.*MANIFEST.*restore MANIFEST from a backup/);
  assert.deepEqual(files(path), before);
  await assert.rejects(
    Database.openDirectory(new NodeDirectory(path)),
    (e: unknown) => e instanceof QuiverError && e.code === "CORRUPT",
  );
});
