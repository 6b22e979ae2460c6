/**
 * The Directory of a database on a local filesystem (Node): appends with datasync, directory
 * fsync, atomic rename. The writer lock lives in process-lock.ts, error mapping in fs-errors.ts.
 */

import { closeSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { constants, type FileHandle, mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { QuiverError } from "../core/errors/errors.js";
import {
  SCRATCH_SUFFIX,
  type Directory,
  type DirectoryLock,
  type ScratchFile,
  type WritableFile,
} from "../storage/directory.js";
import { checkFileName } from "../storage/memory-directory.js";
import { MANIFEST_FILE } from "../storage/manifest.js";
import { parseWalFileName } from "../storage/wal.js";
import { fsError } from "./fs-errors.js";
import { LOCK_FILE, ProcessLock } from "./process-lock.js";

export { LOCK_FILE, type LockInfo } from "./process-lock.js";

class NodeFile implements WritableFile {
  private closed = false;
  // Serialises appends: two overlapping appends on one handle must not interleave their bytes.
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly fh: FileHandle,
    private readonly name: string,
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
        throw fsError(op, this.name, e);
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
        throw fsError("close", this.name, e);
      }
    });
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** A scratch file on disk: positional sync reads and writes (pread/pwrite), never fsynced. */
class NodeScratchFile implements ScratchFile {
  private fd: number | null;

  constructor(
    private readonly path: string,
    private readonly name: string,
    root: string,
  ) {
    try {
      mkdirSync(root, { recursive: true });
      this.fd = openSync(path, "w+", 0o600);
    } catch (e) {
      throw fsError("openScratch", name, e);
    }
  }

  private handle(op: string): number {
    if (this.fd === null) throw new QuiverError("IO", `${op} of ${this.name} failed: EBADF (file is closed)`);
    return this.fd;
  }

  read(pos: number, into: Uint8Array): void {
    const fd = this.handle("read");
    let off = 0;
    try {
      while (off < into.length) {
        const n = readSync(fd, into, off, into.length - off, pos + off);
        if (n === 0) break; // past the end: never written
        off += n;
      }
    } catch (e) {
      throw fsError("read", this.name, e);
    }
    if (off < into.length) into.fill(0, off);
  }

  write(pos: number, data: Uint8Array): void {
    const fd = this.handle("write");
    let off = 0;
    try {
      while (off < data.length) off += writeSync(fd, data, off, data.length - off, pos + off);
    } catch (e) {
      throw fsError("write", this.name, e);
    }
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      closeSync(fd);
      unlinkSync(this.path);
    } catch {
      /* a leftover scratch file is removed at the next open */
    }
  }
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
        throw fsError("mkdir", "the database folder", e);
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
      throw fsError(op, name, e);
    }
  }

  async list(): Promise<string[]> {
    await this.ensure();
    try {
      const entries = await readdir(this.path, { withFileTypes: true });
      return entries.filter((e) => e.isFile() && e.name !== LOCK_FILE).map((e) => e.name);
    } catch (e) {
      throw fsError("list", "the database folder", e);
    }
  }

  read(name: string): Promise<Uint8Array> {
    return this.fileOp("read", name, async (p) => {
      const buf = await readFile(p);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    });
  }

  sizeOf(name: string): Promise<number> {
    return this.fileOp("read", name, async (p) => (await stat(p)).size);
  }

  readInto(name: string, into: Uint8Array): Promise<Uint8Array> {
    return this.fileOp("read", name, async (p) => {
      const fh = await open(p, constants.O_RDONLY);
      try {
        const size = (await fh.stat()).size;
        const out = size <= into.length ? into.subarray(0, size) : new Uint8Array(size);
        let off = 0;
        while (off < size) {
          const { bytesRead } = await fh.read(out, off, size - off, off);
          if (bytesRead === 0) break; // cut shorter meanwhile: decoding reports it as damage
          off += bytesRead;
        }
        return out.subarray(0, off);
      } finally {
        await fh.close().catch(() => undefined);
      }
    });
  }

  readFrom(name: string, offset: number): Promise<Uint8Array> {
    return this.fileOp("read", name, async (p) => {
      const fh = await open(p, constants.O_RDONLY);
      try {
        // The size as of now: bytes appended while this reads are left for the next call.
        const length = Math.max(0, (await fh.stat()).size - offset);
        const out = new Uint8Array(length);
        let off = 0;
        while (off < length) {
          const { bytesRead } = await fh.read(out, off, length - off, offset + off);
          if (bytesRead === 0) break; // cut shorter meanwhile (a writer truncating a torn tail)
          off += bytesRead;
        }
        return out.subarray(0, off);
      } finally {
        await fh.close().catch(() => undefined);
      }
    });
  }

  create(name: string): Promise<WritableFile> {
    return this.fileOp("create", name, async (p) => {
      // O_TRUNC is not combined with O_APPEND: Deno's node:fs rejects that pair (EINVAL), so an
      // existing file is emptied through the handle instead, before anything is written to it.
      const fh = await open(p, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o644);
      try {
        await fh.truncate(0);
      } catch (e) {
        await fh.close().catch(() => undefined);
        throw e;
      }
      return new NodeFile(fh, name, 0);
    });
  }

  openAppend(name: string): Promise<WritableFile> {
    return this.fileOp("openAppend", name, async (p) => {
      const fh = await open(p, constants.O_WRONLY | constants.O_APPEND);
      try {
        const st = await fh.stat();
        if (!st.isFile()) throw Object.assign(new Error("not a regular file"), { code: "EISDIR" });
        return new NodeFile(fh, name, st.size);
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
      throw fsError("fsync", "the directory", e);
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }

  /** A scratch file (a derived cache: see ScratchFile); created empty, deleted by close(). */
  openScratch(name: string): ScratchFile {
    checkFileName(name, "openScratch");
    if (!name.endsWith(SCRATCH_SUFFIX))
      throw new QuiverError("IO", `openScratch of ${name} failed: EINVAL (name must end in ${SCRATCH_SUFFIX})`);
    return new NodeScratchFile(join(this.path, name), name, this.path);
  }

  /**
   * Takes the writer lock (see process-lock.ts): LOCKED while another live process, or another
   * open handle in this one, holds it; a lock left by a process that is gone is taken over.
   */
  async lock(): Promise<DirectoryLock> {
    await this.ensure();
    return new ProcessLock(this.path).acquire();
  }
}

/**
 * A reader creates nothing: a read-only open of a missing folder, or of a folder that holds neither
 * a MANIFEST nor a WAL file (a mistyped --db), is NOT_FOUND, not a new empty database.
 */
export async function mustBeFolder(path: string): Promise<void> {
  const names = await readdir(path).catch(() => null);
  if (names === null) throw new QuiverError("NOT_FOUND", `no Quiver database at ${path} (no such folder)`);
  if (!names.some((n) => n === MANIFEST_FILE || parseWalFileName(n) !== null))
    throw new QuiverError("NOT_FOUND", `no Quiver database at ${path} (the folder holds no MANIFEST or WAL file)`);
}
