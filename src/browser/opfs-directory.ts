/**
 * A Directory in the Origin Private File System, for dedicated Workers (synchronous access handles
 * exist only there). Appends write at the end through a FileSystemSyncAccessHandle, `sync()` is its
 * `flush()`, `rename` is `OpfsFileHandle.move()`, and the writer lock is a Web Lock shared by
 * every tab and worker of the origin. What survives a crash is documented in docs/browser.md.
 *
 * A sync access handle is exclusive (one per file in the whole origin), so each file has at most one,
 * shared by every WritableFile on it and by reads; it is closed when the last writer closes.
 */
import { QuiverError } from "../core/errors/errors.js";
import type { Directory, DirectoryLock, WritableFile } from "../storage/directory.js";
import { checkFileName } from "../storage/memory-directory.js";
import { type OpfsDirectoryHandle, type OpfsFileHandle, opfsRoot, type SyncAccessHandle } from "./opfs-types.js";
import { takeWebLock } from "./web-lock.js";

/** One file's open sync access handle and the writers using it; renames move the entry, not the writers. */
interface OpenEntry {
  file: OpfsFileHandle;
  access: SyncAccessHandle;
  writers: number;
  /** Appended bytes not yet written to the handle: one write per sync instead of one per append (each costs ~1 ms). */
  pending: Uint8Array[];
  pendingBytes: number;
}

/** Past this many buffered bytes an append writes them out. */
const MAX_PENDING = 1 << 20;

/** Writes the entry's buffered appends at the end of the file. */
function drain(entry: OpenEntry): void {
  if (entry.pendingBytes === 0) return;
  const data = new Uint8Array(entry.pendingBytes);
  let off = 0;
  for (const p of entry.pending) {
    data.set(p, off);
    off += p.length;
  }
  entry.pending = [];
  entry.pendingBytes = 0;
  let at = entry.access.getSize();
  off = 0;
  while (off < data.length) {
    const n = entry.access.write(data.subarray(off), { at });
    off += n;
    at += n;
  }
}

function ioError(op: string, name: string, e: unknown): QuiverError {
  if (e instanceof QuiverError) return e;
  const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  if (e instanceof DOMException && e.name === "NotFoundError") {
    return new QuiverError("NOT_FOUND", `${op} of ${name} failed: file not found`, { cause: e });
  }
  return new QuiverError("IO", `${op} of ${name} failed: ${why}`, { cause: e });
}

class OpfsFile implements WritableFile {
  private closed = false;

  constructor(
    private readonly dir: OpfsDirectory,
    private readonly entry: OpenEntry,
    private readonly name: string,
  ) {}

  get size(): number {
    return this.closed ? 0 : this.entry.access.getSize() + this.entry.pendingBytes;
  }

  private check(op: string): SyncAccessHandle {
    if (this.closed) throw new QuiverError("IO", `${op} of ${this.name} failed: EBADF (file is closed)`);
    return this.entry.access;
  }

  // Each call runs synchronously to its end, so concurrent appends cannot interleave their bytes.
  async append(data: Uint8Array): Promise<void> {
    this.check("append");
    if (data.length === 0) return;
    this.entry.pending.push(data.slice());
    this.entry.pendingBytes += data.length;
    try {
      if (this.entry.pendingBytes >= MAX_PENDING) drain(this.entry);
    } catch (e) {
      throw ioError("append", this.name, e);
    }
  }

  async sync(): Promise<void> {
    const access = this.check("sync");
    try {
      drain(this.entry);
      access.flush();
    } catch (e) {
      throw ioError("sync", this.name, e);
    }
  }

  async truncate(size: number): Promise<void> {
    const access = this.check("truncate");
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new QuiverError("IO", `truncate of ${this.name} to ${size} failed: EINVAL`);
    }
    try {
      drain(this.entry);
      access.truncate(size);
    } catch (e) {
      throw ioError("truncate", this.name, e);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dir.release(this.entry);
  }
}

/**
 * A database folder in the Origin Private File System, usable in a dedicated Worker.
 * @example
 * const db = await open(await OpfsDirectory.open("notes")); // in a Worker
 */
export class OpfsDirectory implements Directory {
  /** Files with an open sync access handle, by current name. */
  private readonly open = new Map<string, OpenEntry>();

  private constructor(
    private readonly handle: OpfsDirectoryHandle,
    /** The folder's path under the origin's root, which also names its Web Lock. */
    readonly path: string,
  ) {}

  /** True in a context with OPFS synchronous access handles (a dedicated Worker of a current browser). */
  static available(): boolean {
    const g = globalThis as { FileSystemSyncAccessHandle?: unknown; navigator?: Navigator };
    return (
      typeof g.FileSystemSyncAccessHandle === "function" && typeof g.navigator?.storage?.getDirectory === "function"
    );
  }

  /** Opens (creating if needed) the folder `path` ("a" or "a/b") under the origin's OPFS root. */
  static async open(path: string): Promise<OpfsDirectory> {
    if (!OpfsDirectory.available()) {
      throw new QuiverError(
        "UNSUPPORTED",
        "OPFS synchronous access handles exist only in dedicated Workers; on the main thread use IndexedDbDirectory",
      );
    }
    let dir = await opfsRoot();
    for (const part of path.split("/")) {
      checkFileName(part, "open");
      dir = await dir.getDirectoryHandle(part, { create: true });
    }
    return new OpfsDirectory(dir, path);
  }

  /** Removes the folder `path` and everything in it (nothing when it does not exist). */
  static async destroy(path: string): Promise<void> {
    const parts = path.split("/");
    let dir = await opfsRoot();
    try {
      for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part);
      await dir.removeEntry(parts[parts.length - 1], { recursive: true });
    } catch (e) {
      if (!(e instanceof DOMException && e.name === "NotFoundError")) throw ioError("destroy", path, e);
    }
  }

  private async fileHandle(name: string, op: string, create: boolean): Promise<OpfsFileHandle> {
    checkFileName(name, op);
    try {
      return await this.handle.getFileHandle(name, { create });
    } catch (e) {
      throw ioError(op, name, e);
    }
  }

  /** The open entry of `name`, opening a sync access handle when none is. */
  private async acquire(name: string, op: string, create: boolean): Promise<OpenEntry> {
    const known = this.open.get(name);
    if (known) return known;
    const file = await this.fileHandle(name, op, create);
    const again = this.open.get(name); // another call may have opened it while we awaited
    if (again) return again;
    try {
      const entry: OpenEntry = {
        file,
        access: await file.createSyncAccessHandle(),
        writers: 0,
        pending: [],
        pendingBytes: 0,
      };
      this.open.set(name, entry);
      return entry;
    } catch (e) {
      throw ioError(op, name, e);
    }
  }

  /** Called by a closing file: the handle is closed with its last writer. */
  release(entry: OpenEntry): void {
    entry.writers--;
    if (entry.writers > 0) return;
    // Like close(2) without fsync: the bytes are written out, their durability is not promised.
    drain(entry);
    entry.access.close();
    for (const [name, e] of this.open) if (e === entry) this.open.delete(name);
  }

  /** Runs `fn` on the file's access handle, opened for the call only when no writer has it open. */
  private async withAccess<T>(name: string, op: string, fn: (a: SyncAccessHandle, e: OpenEntry) => T): Promise<T> {
    const entry = await this.acquire(name, op, false);
    entry.writers++;
    try {
      return fn(entry.access, entry);
    } catch (e) {
      throw ioError(op, name, e);
    } finally {
      this.release(entry);
    }
  }

  async list(): Promise<string[]> {
    const names: string[] = [];
    for await (const [name, h] of this.handle.entries()) if (h.kind === "file") names.push(name);
    return names;
  }

  read(name: string): Promise<Uint8Array> {
    return this.readFrom(name, 0);
  }

  readFrom(name: string, offset: number): Promise<Uint8Array> {
    return this.withAccess(name, "read", (access, entry) => {
      drain(entry);
      const out = new Uint8Array(Math.max(0, access.getSize() - offset));
      let at = 0;
      while (at < out.length) {
        const n = access.read(out.subarray(at), { at: offset + at });
        if (n === 0) break;
        at += n;
      }
      return out;
    });
  }

  async create(name: string): Promise<WritableFile> {
    const entry = await this.acquire(name, "create", true);
    entry.writers++;
    try {
      entry.pending = [];
      entry.pendingBytes = 0;
      entry.access.truncate(0);
    } catch (e) {
      this.release(entry);
      throw ioError("create", name, e);
    }
    return new OpfsFile(this, entry, name);
  }

  async openAppend(name: string): Promise<WritableFile> {
    const entry = await this.acquire(name, "openAppend", false);
    entry.writers++;
    return new OpfsFile(this, entry, name);
  }

  async rename(from: string, to: string): Promise<void> {
    checkFileName(to, "rename");
    const file = await this.fileHandle(from, "rename", false);
    // move() refuses a file whose access handle is open: close it for the move, reopen it after, so
    // open writers keep writing to the moved file (POSIX semantics, which the WAL relies on).
    const entry = this.open.get(from);
    const target = this.open.get(to);
    if (target) throw new QuiverError("IO", `rename of ${from} failed: ${to} is open for writing (EBUSY)`);
    if (entry) {
      drain(entry);
      entry.access.close();
    }
    let moved = false;
    try {
      await file.move(to);
      moved = true;
    } catch (e) {
      throw ioError("rename", from, e);
    } finally {
      if (entry) await this.reopen(entry, from, moved ? to : from);
    }
  }

  /** Gives a renamed (or not) open entry a fresh access handle under its current name. */
  private async reopen(entry: OpenEntry, from: string, name: string): Promise<void> {
    this.open.delete(from);
    entry.file = await this.handle.getFileHandle(name);
    entry.access = await entry.file.createSyncAccessHandle();
    this.open.set(name, entry);
  }

  async remove(name: string): Promise<void> {
    checkFileName(name, "remove");
    const entry = this.open.get(name);
    if (entry) throw new QuiverError("IO", `remove of ${name} failed: the file is open for writing (EBUSY)`);
    try {
      await this.handle.removeEntry(name);
    } catch (e) {
      if (!(e instanceof DOMException && e.name === "NotFoundError")) throw ioError("remove", name, e);
    }
  }

  /** No directory fsync exists in OPFS: a creation, rename or removal is as durable as the browser makes it. */
  async syncDir(): Promise<void> {}

  lock(): Promise<DirectoryLock> {
    return takeWebLock(`quiverdb:opfs:${this.path}`, `the OPFS database ${this.path}`);
  }
}
