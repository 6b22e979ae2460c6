/**
 * A Directory held entirely in memory: the storage of in-memory databases and of most tests.
 * Everything is durable at once (there is no power to lose); crash behaviour lives in the test-only
 * FaultyDirectory, which builds on the GrowableBytes buffer exported here.
 */

import { QuiverError } from "../core/errors/errors.js";
import type { Directory, DirectoryLock, WritableFile } from "./directory.js";

/**
 * A byte array that grows by doubling, so that many small appends cost amortised O(1) each
 * instead of re-copying the whole file on every append.
 */
export class GrowableBytes {
  private buf: Uint8Array;
  private len = 0;

  constructor(initial?: Uint8Array) {
    this.buf = new Uint8Array(Math.max(64, initial?.length ?? 0));
    if (initial) this.append(initial);
  }

  get length(): number {
    return this.len;
  }

  append(data: Uint8Array): void {
    const need = this.len + data.length;
    if (need > this.buf.length) {
      let cap = this.buf.length;
      while (cap < need) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.buf.set(data, this.len);
    this.len = need;
  }

  /** Shrinks to `size`, or zero-extends to it, as ftruncate does. */
  truncate(size: number): void {
    if (size > this.len) {
      this.append(new Uint8Array(size - this.len));
    } else {
      // Zero the cut tail so a later extension reads zeros, not the old bytes.
      this.buf.fill(0, size, this.len);
      this.len = size;
    }
  }

  /** An independent copy of the content. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  /** A view without copying; valid only until the next mutation. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/**
 * Rejects names that are not a single plain file name. Quiver only ever uses flat names it made
 * itself, so anything else is a bug that must not reach a real filesystem as a path.
 */
export function checkFileName(name: string, op: string): void {
  if (name === "" || name === "." || name === ".." || /[/\\\0]/.test(name)) {
    throw new QuiverError("IO", `${op} of ${JSON.stringify(name)} failed: EINVAL (not a plain file name)`);
  }
}

function notFound(op: string, name: string): QuiverError {
  return new QuiverError("NOT_FOUND", `${op} of ${name} failed: file not found`);
}

class MemoryFile implements WritableFile {
  private closed = false;

  // Holding the content object (not the name) gives POSIX semantics: a handle keeps writing to
  // the same file after a rename, and to an orphan after a removal.
  constructor(
    private readonly name: string,
    private readonly content: GrowableBytes,
  ) {}

  get size(): number {
    return this.content.length;
  }

  private check(op: string): void {
    if (this.closed) throw new QuiverError("IO", `${op} of ${this.name} failed: EBADF (file is closed)`);
  }

  async append(data: Uint8Array): Promise<void> {
    this.check("append");
    this.content.append(data);
  }

  async sync(): Promise<void> {
    this.check("sync");
  }

  async truncate(size: number): Promise<void> {
    this.check("truncate");
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new QuiverError("IO", `truncate of ${this.name} to ${size} failed: EINVAL`);
    }
    this.content.truncate(size);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * An in-memory Directory. `lock()` is exclusive per instance.
 *
 * @example
 * const dir = MemoryDirectory.fromFiles(new Map([["MANIFEST", bytes]]));
 * const copy = dir.snapshot(); // Map<string, Uint8Array>, independent of later writes
 */
export class MemoryDirectory implements Directory {
  private readonly files = new Map<string, GrowableBytes>();
  private locked = false;

  /** A directory holding copies of the given files. */
  static fromFiles(files: Map<string, Uint8Array> | Iterable<[string, Uint8Array]>): MemoryDirectory {
    const dir = new MemoryDirectory();
    for (const [name, data] of files) {
      checkFileName(name, "fromFiles");
      dir.files.set(name, new GrowableBytes(data));
    }
    return dir;
  }

  /** Copies of every file, independent of later writes. */
  snapshot(): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    for (const [name, content] of this.files) out.set(name, content.bytes());
    return out;
  }

  async list(): Promise<string[]> {
    return [...this.files.keys()];
  }

  async read(name: string): Promise<Uint8Array> {
    checkFileName(name, "read");
    const content = this.files.get(name);
    if (!content) throw notFound("read", name);
    return content.bytes();
  }

  async readFrom(name: string, offset: number): Promise<Uint8Array> {
    return (await this.read(name)).subarray(offset);
  }

  async create(name: string): Promise<WritableFile> {
    checkFileName(name, "create");
    let content = this.files.get(name);
    if (content) {
      content.truncate(0);
    } else {
      content = new GrowableBytes();
      this.files.set(name, content);
    }
    return new MemoryFile(name, content);
  }

  async openAppend(name: string): Promise<WritableFile> {
    checkFileName(name, "openAppend");
    const content = this.files.get(name);
    if (!content) throw notFound("openAppend", name);
    return new MemoryFile(name, content);
  }

  async rename(from: string, to: string): Promise<void> {
    checkFileName(from, "rename");
    checkFileName(to, "rename");
    const content = this.files.get(from);
    if (!content) throw notFound("rename", from);
    this.files.delete(from);
    this.files.set(to, content);
  }

  async remove(name: string): Promise<void> {
    checkFileName(name, "remove");
    this.files.delete(name);
  }

  async syncDir(): Promise<void> {}

  async lock(): Promise<DirectoryLock> {
    if (this.locked) {
      // No pid here: this module stays runtime-neutral, and the holder is always this very process (the same JS realm).
      throw new QuiverError(
        "LOCKED",
        "in-memory database is locked by another open handle in this process; close that handle first",
      );
    }
    this.locked = true;
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        this.locked = false;
      },
    };
  }
}
