/**
 * The Directory of a database on a local filesystem (Node), and its cross-process writer lock.
 * OS errors become QuiverErrors here, once: ENOENT is NOT_FOUND, anything else IO naming the
 * operation, the file and the errno, with the original error kept as `cause`.
 */

import { constants, type FileHandle, mkdir, open, readdir, readFile, realpath, rename, rm, unlink } from "node:fs/promises";
import { hostname, uptime } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { QuiverError } from "../core/errors/errors.js";
import type { Directory, DirectoryLock, WritableFile } from "../storage/directory.js";
import { checkFileName } from "../storage/memory-directory.js";

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

function errnoOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Maps an OS error of `op` on `name` to a QuiverError. */
function fsError(op: string, name: string, root: string, e: unknown): QuiverError {
  if (e instanceof QuiverError) return e;
  const errno = errnoOf(e);
  if (errno === "ENOENT") {
    return new QuiverError("NOT_FOUND", `${op} of ${name} failed: file not found in ${root}`, { cause: e });
  }
  const reason = errno ?? (e instanceof Error ? e.message : String(e));
  return new QuiverError("IO", `${op} of ${name} failed: ${reason} (in ${root})`, { cause: e });
}

class NodeFile implements WritableFile {
  private closed = false;
  // Serialises appends: two overlapping appends on one handle must not interleave their bytes.
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly fh: FileHandle,
    private readonly name: string,
    private readonly root: string,
    private length: number,
  ) {}

  get size(): number {
    return this.length;
  }

  private run<T>(op: string, fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(async () => {
      if (this.closed) throw new QuiverError("IO", `${op} of ${this.name} failed: EBADF (file is closed)`);
      try {
        return await fn();
      } catch (e) {
        throw fsError(op, this.name, this.root, e);
      }
    });
    this.tail = next.catch(() => undefined);
    return next;
  }

  append(data: Uint8Array): Promise<void> {
    return this.run("append", async () => {
      // The file is opened O_APPEND, so every write lands at the end, even after a truncate.
      // write() may be short (disk full, signals): loop until every byte is out.
      let off = 0;
      while (off < data.length) {
        const { bytesWritten } = await this.fh.write(data, off, data.length - off);
        off += bytesWritten;
        this.length += bytesWritten;
      }
    });
  }

  sync(): Promise<void> {
    // fdatasync also flushes the file size, which is all the metadata a reader needs.
    return this.run("fsync", () => this.fh.datasync());
  }

  truncate(size: number): Promise<void> {
    return this.run("truncate", async () => {
      if (!Number.isSafeInteger(size) || size < 0) {
        throw new QuiverError("IO", `truncate of ${this.name} to ${size} failed: EINVAL`);
      }
      await this.fh.truncate(size);
      this.length = size;
    });
  }

  close(): Promise<void> {
    const next = this.tail.then(async () => {
      if (this.closed) return;
      this.closed = true;
      try {
        await this.fh.close();
      } catch (e) {
        throw fsError("close", this.name, this.root, e);
      }
    });
    this.tail = next.catch(() => undefined);
    return next;
  }
}

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
      typeof v === "object" && v !== null &&
      Number.isSafeInteger(v.pid) && (v.pid as number) > 0 &&
      typeof v.hostname === "string" && typeof v.startedAt === "string"
    ) {
      return v as LockInfo;
    }
  } catch {
    // Garbage: handled by the caller as a stale lock.
  }
  return undefined;
}

/**
 * A Directory over a filesystem folder, created (recursively) on first use.
 *
 * @example
 * const dir = new NodeDirectory("./quiver-data");
 * const lock = await dir.lock(); // LOCKED if another process has the database open
 * await writeFileAtomic(dir, "MANIFEST", bytes);
 * await lock.release();
 */
export class NodeDirectory implements Directory {
  /** The absolute path of the folder. */
  readonly path: string;
  private ready: Promise<void> | undefined;

  constructor(path: string) {
    this.path = resolve(path);
  }

  /** Opens (creating if needed) the folder now, so a bad path fails here rather than later. */
  static async open(path: string): Promise<NodeDirectory> {
    const dir = new NodeDirectory(path);
    await dir.ensure();
    return dir;
  }

  private ensure(): Promise<void> {
    this.ready ??= mkdir(this.path, { recursive: true }).then(
      () => undefined,
      (e) => {
        this.ready = undefined; // let a later call retry, e.g. once the disk is mounted
        throw fsError("mkdir", this.path, this.path, e);
      },
    );
    return this.ready;
  }

  private async fileOp<T>(op: string, name: string, fn: (path: string) => Promise<T>): Promise<T> {
    checkFileName(name, op);
    await this.ensure();
    try {
      return await fn(join(this.path, name));
    } catch (e) {
      throw fsError(op, name, this.path, e);
    }
  }

  async list(): Promise<string[]> {
    await this.ensure();
    try {
      const entries = await readdir(this.path, { withFileTypes: true });
      return entries.filter((e) => e.isFile() && e.name !== LOCK_FILE).map((e) => e.name);
    } catch (e) {
      throw fsError("list", this.path, this.path, e);
    }
  }

  read(name: string): Promise<Uint8Array> {
    return this.fileOp("read", name, async (p) => {
      const buf = await readFile(p);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    });
  }

  create(name: string): Promise<WritableFile> {
    return this.fileOp("create", name, async (p) => {
      const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_APPEND;
      const fh = await open(p, flags, 0o644);
      return new NodeFile(fh, name, this.path, 0);
    });
  }

  openAppend(name: string): Promise<WritableFile> {
    return this.fileOp("openAppend", name, async (p) => {
      const fh = await open(p, constants.O_WRONLY | constants.O_APPEND);
      try {
        const st = await fh.stat();
        if (!st.isFile()) throw Object.assign(new Error("not a regular file"), { code: "EISDIR" });
        return new NodeFile(fh, name, this.path, st.size);
      } catch (e) {
        await fh.close().catch(() => undefined);
        throw e;
      }
    });
  }

  async rename(from: string, to: string): Promise<void> {
    checkFileName(to, "rename");
    await this.fileOp("rename", from, (p) => rename(p, join(this.path, to)));
  }

  async remove(name: string): Promise<void> {
    await this.fileOp("remove", name, (p) => rm(p, { force: true }));
  }

  async syncDir(): Promise<void> {
    await this.ensure();
    // Windows cannot open a directory for fsync, and NTFS journals names itself.
    if (process.platform === "win32") return;
    let fh: FileHandle | undefined;
    try {
      fh = await open(this.path, constants.O_RDONLY);
      await fh.sync();
    } catch (e) {
      throw fsError("fsync", "the directory", this.path, e);
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }

  /**
   * Takes the writer lock: the LOCK file, created exclusively, naming this process. A LOCK left by
   * a process that is gone (crashed, killed, or from before a reboot) is stale and taken over.
   */
  async lock(): Promise<DirectoryLock> {
    await this.ensure();
    // The real path, so that two spellings (or a symlink) of one folder count as one database.
    let key: string;
    try {
      key = await realpath(this.path);
    } catch (e) {
      throw fsError("lock", this.path, this.path, e);
    }
    if (lockedPaths.has(key)) {
      throw new QuiverError(
        "LOCKED",
        `database at ${this.path} is locked by process ${process.pid} (this process, another open handle); close it there first`,
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
          await rm(join(this.path, LOCK_FILE), { force: true });
        } catch (e) {
          throw fsError("remove", LOCK_FILE, this.path, e);
        } finally {
          lockedPaths.delete(key);
        }
      },
    };
  }

  private async acquireLockFile(): Promise<void> {
    const lockPath = join(this.path, LOCK_FILE);
    const info: LockInfo = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
    for (let attempt = 0; ; attempt++) {
      let fh: FileHandle;
      try {
        fh = await open(lockPath, "wx", 0o644);
      } catch (e) {
        if (errnoOf(e) !== "EEXIST") throw fsError("lock", LOCK_FILE, this.path, e);
        // Take over a stale lock once; finding one again means another opener raced us to it.
        await this.checkHolder(lockPath, attempt === 0);
        continue;
      }
      try {
        await fh.writeFile(JSON.stringify(info));
      } catch (e) {
        await fh.close().catch(() => undefined);
        await unlink(lockPath).catch(() => undefined);
        throw fsError("lock", LOCK_FILE, this.path, e);
      }
      await fh.close().catch(() => undefined);
      return;
    }
  }

  /**
   * Rejects LOCKED if the holder of `lockPath` may be alive; otherwise, when `takeOver`, removes
   * the stale file so the caller can retry.
   *
   * Known gap: two openers that find the same stale lock at the same instant could both remove
   * it and one could then remove the other's fresh lock. Re-reading just before unlinking makes
   * the window tiny; closing it fully would need a lock primitive the filesystem may not offer.
   */
  private async checkHolder(lockPath: string, takeOver: boolean): Promise<void> {
    const holder = await this.readLockInfo(lockPath);
    if (holder === "missing") return; // released meanwhile: just retry
    if (!takeOver) {
      const who = holder === undefined ? "another process" : `process ${holder.pid}`;
      throw new QuiverError(
        "LOCKED",
        `database at ${this.path} is locked by ${who}, which took it while this process was opening it; close it there first`,
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
        `database at ${this.path} is locked by process ${holder.pid}${where} since ${holder.startedAt}; ${hint}`,
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
      if (errnoOf(e) !== "ENOENT") throw fsError("remove stale", LOCK_FILE, this.path, e);
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
