/**
 * The cross-process writer lock of a database folder: a LOCK file created exclusively, naming the
 * holder's pid, host and start time, so that a later opener can tell a live holder from a crashed
 * one and take over a stale lock (crash tests kill writers with SIGKILL, so this must work).
 */
import { type FileHandle, open, readFile, realpath, rm, unlink } from "node:fs/promises";
import { hostname, uptime } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { QuiverError } from "../core/errors/errors.js";
import type { DirectoryLock } from "../storage/directory.js";
import { errnoOf, fsError } from "./fs-errors.js";

/** The lock file's name; reserved, and hidden from `list()`. */
export const LOCK_FILE = "LOCK";

/** What the lock file holds, so that a later opener can tell a live holder from a crashed one. */
export interface LockInfo {
  pid: number;
  hostname: string;
  /** ISO time at which the lock was taken. */
  startedAt: string;
}

/**
 * Absolute paths locked by this process. The pid check cannot catch a second open in the same
 * process (our own pid is alive), so this set does.
 */
const lockedPaths = new Set<string>();

/** True when `pid` names a live process on this machine. */
async function processAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    return errnoOf(e) === "EPERM";
  }
  // A killed child that its parent has not reaped yet still answers kill(0). A crash test that
  // reopens right after SIGKILL hits exactly that, so on Linux a zombie counts as dead.
  if (process.platform === "linux") {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      if (state === "Z" || state === "X") return false;
    } catch {
      // No /proc (or the process just went away): trust kill(0).
    }
  }
  return true;
}

function parseLockInfo(text: string): LockInfo | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (
      typeof v === "object" &&
      v !== null &&
      Number.isSafeInteger(v.pid) &&
      (v.pid as number) > 0 &&
      typeof v.hostname === "string" &&
      typeof v.startedAt === "string"
    ) {
      return v as LockInfo;
    }
  } catch {
    // Garbage: handled by the caller as a stale lock.
  }
  return undefined;
}

/** The writer lock of one folder (which must exist). */
export class ProcessLock {
  constructor(private readonly dir: string) {}

  /**
   * Takes the writer lock: the LOCK file, created exclusively, naming this process. A LOCK left by
   * a process that is gone (crashed, killed, or from before a reboot) is stale and taken over.
   */
  async acquire(): Promise<DirectoryLock> {
    // The real path, so that two spellings (or a symlink) of one folder count as one database.
    let key: string;
    try {
      key = await realpath(this.dir);
    } catch (e) {
      throw fsError("lock", "the database folder", e);
    }
    if (lockedPaths.has(key)) {
      throw new QuiverError(
        "LOCKED",
        `database at ${this.dir} is locked by process ${process.pid} (this process, another open handle); close it there first`,
      );
    }
    // Claim the path before any await, so two concurrent lock() calls here cannot both proceed.
    lockedPaths.add(key);
    try {
      await this.acquireLockFile();
    } catch (e) {
      lockedPaths.delete(key);
      throw e;
    }
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        try {
          await rm(join(this.dir, LOCK_FILE), { force: true });
        } catch (e) {
          throw fsError("remove", LOCK_FILE, e);
        } finally {
          lockedPaths.delete(key);
        }
      },
    };
  }

  private async acquireLockFile(): Promise<void> {
    const lockPath = join(this.dir, LOCK_FILE);
    const info: LockInfo = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
    for (let attempt = 0; ; attempt++) {
      let fh: FileHandle;
      try {
        fh = await open(lockPath, "wx", 0o644);
      } catch (e) {
        if (errnoOf(e) !== "EEXIST") throw fsError("lock", LOCK_FILE, e);
        // Take over a stale lock once; finding one again means another opener raced us to it.
        await this.checkHolder(lockPath, attempt === 0);
        continue;
      }
      try {
        await fh.writeFile(JSON.stringify(info));
      } catch (e) {
        await fh.close().catch(() => undefined);
        await unlink(lockPath).catch(() => undefined);
        throw fsError("lock", LOCK_FILE, e);
      }
      await fh.close().catch(() => undefined);
      return;
    }
  }

  /**
   * Rejects LOCKED if the holder of `lockPath` may be alive; otherwise, when `takeOver`, removes
   * the stale file so the caller can retry.
   *
   * Known gap (docs/readers.md, "The writer lock"): two openers that find the same stale lock at
   * the same instant could both remove it, and the second could then remove the first's fresh
   * lock, so both would hold it. Re-reading just before unlinking narrows the window to the time
   * between that read and the unlink, and only after a crash left a stale lock. Closing it needs a
   * lock the kernel releases on process death (flock/fcntl), which Node offers only through a
   * native addon; readers (`readOnly`) take no lock and are never part of this race.
   */
  private async checkHolder(lockPath: string, takeOver: boolean): Promise<void> {
    const holder = await this.readLockInfo(lockPath);
    if (holder === "missing") return; // released meanwhile: just retry
    if (!takeOver) {
      const who = holder === undefined ? "another process" : `process ${holder.pid}`;
      throw new QuiverError(
        "LOCKED",
        `database at ${this.dir} is locked by ${who}, which took it while this process was opening it; close it there first`,
      );
    }
    if (holder !== undefined && !(await this.isStale(holder))) {
      const where = holder.hostname === hostname() ? "" : ` on host ${holder.hostname}`;
      const hint =
        holder.hostname === hostname()
          ? "close it there first"
          : `close it there first, or delete ${lockPath} if that host is down`;
      throw new QuiverError(
        "LOCKED",
        `database at ${this.dir} is locked by process ${holder.pid}${where} since ${holder.startedAt}; ${hint}`,
      );
    }
    const again = await this.readLockInfo(lockPath);
    if (again === "missing") return;
    if (JSON.stringify(again) !== JSON.stringify(holder)) {
      return; // replaced meanwhile by a new holder: the retry will see it
    }
    try {
      await unlink(lockPath);
    } catch (e) {
      if (errnoOf(e) !== "ENOENT") throw fsError("remove stale", LOCK_FILE, e);
    }
  }

  /**
   * Reads the lock file. Between a holder's exclusive create and its write the file is empty, so
   * an unreadable file is re-read for a moment before it counts as garbage (a writer killed in
   * that window). Returns undefined for garbage.
   */
  private async readLockInfo(lockPath: string): Promise<LockInfo | "missing" | undefined> {
    for (let i = 0; i < 5; i++) {
      let text: string;
      try {
        text = await readFile(lockPath, "utf8");
      } catch (e) {
        if (errnoOf(e) === "ENOENT") return "missing";
        if (i === 4) return undefined;
        await sleep(20);
        continue;
      }
      const info = parseLockInfo(text);
      if (info) return info;
      await sleep(20);
    }
    return undefined;
  }

  private async isStale(holder: LockInfo): Promise<boolean> {
    // Another host's pids mean nothing here: assume it is alive.
    if (holder.hostname !== hostname()) return false;
    // Our own pid without our own entry in lockedPaths: a previous process that had our pid
    // (common in containers, where pids restart at 1) and died.
    if (holder.pid === process.pid) return true;
    // Taken before the last boot: that process is gone even if its pid was reused since.
    const started = Date.parse(holder.startedAt);
    const bootedAt = Date.now() - uptime() * 1000;
    if (Number.isFinite(started) && started < bootedAt - 60_000) return true;
    return !(await processAlive(holder.pid));
  }
}
