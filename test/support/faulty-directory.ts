/**
 * A test Directory that can lose power and fail I/O on command, to prove that the WAL, manifest and
 * recovery code keep every acknowledged write and never trust bytes the contract did not promise.
 *
 * Durability model (what `crash(rng)` returns, mirroring the contract in src/storage/directory.ts):
 * - Each file (an inode: handles follow it across renames and removals, as on POSIX) has durable
 *   content, as of its last completed `sync()`, and a list of unsynced writes since then: appends,
 *   and truncates (a truncate, like `create` of an existing name, is a write: durable after sync).
 *   At a crash the file keeps its durable content plus a random prefix of its unsynced writes,
 *   counted in bytes: the last surviving append is torn at a random byte and everything after the
 *   tear is dropped. (Real disks can do worse, e.g. persist a later page but not an earlier one;
 *   this model is the floor that checksummed records must survive, not the ceiling.)
 * - Creations of new names, renames and removals are pending until `syncDir()` completes. At a
 *   crash a random-length prefix of the pending ones, in order, is applied to the names as of the
 *   last syncDir (metadata journals keep order). So a file created and synced but never syncDir'ed
 *   may vanish, and a rename not followed by syncDir may revert.
 * - A failed `sync()` or `syncDir()` makes nothing durable. A failed append may have written a
 *   random prefix of its bytes (a short write), visible to reads and unsynced like any other write.
 * `crash()` does not change this directory, so one moment can be sampled into many crash states.
 */

import { MemoryRowFile } from "../../src/core/index/hnsw/test-support.js";
import { QuiverError } from "../../src/core/errors/errors.js";
import {
  isScratchFile,
  type Directory,
  type DirectoryLock,
  type ScratchFile,
  type WritableFile,
} from "../../src/storage/directory.js";
import { checkFileName, GrowableBytes, MemoryDirectory } from "../../src/storage/memory-directory.js";
import { seededRandom } from "../../src/core/util/prng.js";

export type FaultOp =
  | "append"
  | "sync"
  | "create"
  | "openAppend"
  | "rename"
  | "remove"
  | "syncDir"
  | "read"
  | "truncate"
  | "list"
  | "openScratch"
  | "scratchWrite";

/** One storage call as the call hook sees it, before it takes effect. */
export interface StorageCall {
  /** 0-based position among every call this directory has seen. */
  index: number;
  op: FaultOp;
  /** The file names involved (two for a rename, none for syncDir and list). */
  files: string[];
}

/**
 * Sees every storage call before it takes effect, so a test can take the crash images of that exact
 * moment (`snapshot()` for a kill, `crash()` for a power loss) or fail the call by returning an error.
 */
export type CallHook = (call: StorageCall) => QuiverError | undefined;

export interface FaultRule {
  op: FaultOp;
  error: "EIO" | "ENOSPC";
  /** Only calls on matching file names count; `rename` matches on either name, `syncDir`/`list` on "". */
  file?: RegExp;
  /** Let this many matching calls succeed, then fail the (after+1)-th. Default 0. */
  after?: number;
  /** How many consecutive matching calls fail from there. Default 1; Infinity allowed. */
  times?: number;
}

type Write = { kind: "append"; data: Uint8Array } | { kind: "truncate"; size: number };

/** One file's bytes: what reads see now, and what would survive power loss. */
class Inode {
  readonly current: GrowableBytes;
  readonly durable: GrowableBytes;
  unsynced: Write[] = [];

  constructor(initial?: Uint8Array) {
    this.current = new GrowableBytes(initial);
    this.durable = new GrowableBytes(initial);
  }

  write(w: Write): void {
    if (w.kind === "append") this.current.append(w.data);
    else this.current.truncate(w.size);
    this.unsynced.push(w);
  }

  /** Replays the unsynced writes onto the durable copy: O(new bytes), not O(file). */
  sync(): void {
    for (const w of this.unsynced) {
      if (w.kind === "append") this.durable.append(w.data);
      else this.durable.truncate(w.size);
    }
    this.unsynced = [];
  }

  /** Durable content plus a random byte-prefix of the unsynced writes. */
  afterCrash(rng: () => number): Uint8Array {
    const out = new GrowableBytes(this.durable.view());
    // A truncate takes one unit of the budget, so it too may or may not survive.
    const total = this.unsynced.reduce((n, w) => n + (w.kind === "append" ? w.data.length : 1), 0);
    let budget = Math.floor(rng() * (total + 1));
    for (const w of this.unsynced) {
      if (w.kind === "truncate") {
        if (budget < 1) break;
        out.truncate(w.size);
        budget -= 1;
        continue;
      }
      if (budget < w.data.length) {
        out.append(w.data.subarray(0, budget));
        break;
      }
      out.append(w.data);
      budget -= w.data.length;
    }
    return out.bytes();
  }
}

type DirOp =
  | { kind: "create"; name: string; inode: Inode }
  | { kind: "rename"; from: string; to: string }
  | { kind: "remove"; name: string };

function applyDirOp(names: Map<string, Inode>, op: DirOp): void {
  if (op.kind === "create") names.set(op.name, op.inode);
  else if (op.kind === "remove") names.delete(op.name);
  else {
    const inode = names.get(op.from);
    if (inode) {
      names.delete(op.from);
      names.set(op.to, inode);
    }
  }
}

/** The error an injected fault throws: an IO QuiverError whose cause carries the errno code. */
export function injectedFault(op: FaultOp, files: string[], error: "EIO" | "ENOSPC"): QuiverError {
  const what = files.length > 0 ? files.join(" -> ") : "directory";
  const cause = Object.assign(new Error(`${error}: injected fault, ${op} ${what}`), { code: error });
  return new QuiverError("IO", `${op} of ${what} failed: ${error} (injected)`, { cause });
}

/** Seeded generator for fault schedules and crash images (mulberry32, from the core). */
export const seededRng = seededRandom;

class FaultyFile implements WritableFile {
  private closed = false;

  constructor(
    private readonly dir: FaultyDirectory,
    private readonly name: string,
    private readonly inode: Inode,
  ) {}

  get size(): number {
    return this.inode.current.length;
  }

  private check(op: FaultOp): void {
    if (this.closed) throw new QuiverError("IO", `${op} of ${this.name} failed: EBADF (file is closed)`);
  }

  async append(data: Uint8Array): Promise<void> {
    this.check("append");
    const fault = this.dir.hit("append", this.name);
    if (fault) {
      const written = Math.floor(this.dir.rng() * data.length);
      if (written > 0) this.inode.write({ kind: "append", data: data.slice(0, written) });
      throw fault;
    }
    this.inode.write({ kind: "append", data: data.slice() });
  }

  async sync(): Promise<void> {
    this.check("sync");
    const fault = this.dir.hit("sync", this.name);
    if (fault) throw fault;
    this.inode.sync();
  }

  async truncate(size: number): Promise<void> {
    this.check("truncate");
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new QuiverError("IO", `truncate of ${this.name} to ${size} failed: EINVAL`);
    }
    const fault = this.dir.hit("truncate", this.name);
    if (fault) throw fault;
    this.inode.write({ kind: "truncate", size });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * An in-memory Directory with power loss and injected I/O errors.
 *
 * @example
 * const dir = new FaultyDirectory({ seed: 7 });
 * dir.injectFault({ op: "sync", error: "EIO", file: /^wal-/, after: 2 }); // 3rd WAL sync fails
 * // ... run the writer until it fails or finishes ...
 * const rebooted = dir.crash(seededRng(42)); // a MemoryDirectory to recover from
 */
export class FaultyDirectory implements Directory {
  /** Names as they look now. */
  private readonly names = new Map<string, Inode>();
  /** Names as of the last completed syncDir. */
  private readonly durableNames = new Map<string, Inode>();
  private pendingDirOps: DirOp[] = [];
  private rules: Array<Required<FaultRule> & { matched: number }> = [];
  private readonly counts = new Map<FaultOp, number>();
  private locked = false;
  /** Names of the open scratch files (their bytes are in their MemoryRowFile only). */
  private readonly scratch = new Set<string>();
  /** Decides short-write lengths; seeded so a failing test replays. */
  readonly rng: () => number;
  /** Called first by every storage call; see CallHook. */
  onCall: CallHook | undefined;
  private callIndex = 0;

  constructor(options: { seed?: number; rng?: () => number } = {}) {
    this.rng = options.rng ?? seededRng(options.seed ?? 1);
  }

  /** A directory whose files are all durable, e.g. the state after a crash, to crash again. */
  static fromFiles(files: Map<string, Uint8Array>, options?: { seed?: number; rng?: () => number }): FaultyDirectory {
    const dir = new FaultyDirectory(options);
    for (const [name, data] of files) {
      const inode = new Inode(data);
      dir.names.set(name, inode);
      dir.durableNames.set(name, inode);
    }
    return dir;
  }

  injectFault(rule: FaultRule): void {
    this.rules.push({ after: 0, times: 1, ...rule, file: rule.file ?? /(?:)/, matched: 0 });
  }

  clearFaults(): void {
    this.rules = [];
  }

  /** Calls made of `op` so far, failed ones included. */
  calls(op: FaultOp): number {
    return this.counts.get(op) ?? 0;
  }

  /** Calls per op so far, failed ones included. */
  callCounts(): Record<FaultOp, number> {
    const ops: FaultOp[] = [
      "append",
      "sync",
      "create",
      "openAppend",
      "rename",
      "remove",
      "syncDir",
      "read",
      "truncate",
      "list",
      "openScratch",
      "scratchWrite",
    ];
    return Object.fromEntries(ops.map((op) => [op, this.calls(op)])) as Record<FaultOp, number>;
  }

  /** What reads see now (including unsynced bytes), as a plain map. */
  snapshot(): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    for (const [name, inode] of this.names) out.set(name, inode.current.bytes());
    return out;
  }

  /** The files a machine would show after losing power now; see the model in the file header. */
  crash(rng: () => number): MemoryDirectory {
    const names = new Map(this.durableNames);
    const applied = Math.floor(rng() * (this.pendingDirOps.length + 1));
    for (const op of this.pendingDirOps.slice(0, applied)) applyDirOp(names, op);
    const files = new Map<string, Uint8Array>();
    for (const [name, inode] of names) files.set(name, inode.afterCrash(rng));
    return MemoryDirectory.fromFiles(files);
  }

  /** How many injected faults have been thrown so far. */
  faultsFired = 0;

  /**
   * @internal Used by open files. Counts a call and returns the error to throw if the call hook or a
   * rule fires. Every matching rule advances its count, so overlapping rules keep independent schedules.
   */
  hit(op: FaultOp, ...files: string[]): QuiverError | undefined {
    this.counts.set(op, this.calls(op) + 1);
    let fault = this.onCall?.({ index: this.callIndex++, op, files });
    if (fault) this.faultsFired++;
    for (const rule of this.rules) {
      if (rule.op !== op) continue;
      const names = files.length > 0 ? files : [""];
      if (!names.some((f) => rule.file.test(f))) continue;
      const i = rule.matched++;
      if (!fault && i >= rule.after && i - rule.after < rule.times) {
        fault = injectedFault(op, files, rule.error);
        this.faultsFired++;
      }
    }
    return fault;
  }

  async list(): Promise<string[]> {
    const fault = this.hit("list");
    if (fault) throw fault;
    return [...this.names.keys(), ...this.scratch];
  }

  async read(name: string): Promise<Uint8Array> {
    checkFileName(name, "read");
    const fault = this.hit("read", name);
    if (fault) throw fault;
    const inode = this.names.get(name);
    if (!inode) throw new QuiverError("NOT_FOUND", `read of ${name} failed: file not found`);
    return inode.current.bytes();
  }

  async create(name: string): Promise<WritableFile> {
    checkFileName(name, "create");
    const fault = this.hit("create", name);
    if (fault) throw fault;
    let inode = this.names.get(name);
    if (inode) {
      // O_TRUNC of an existing file changes its data, not the directory.
      inode.write({ kind: "truncate", size: 0 });
    } else {
      inode = new Inode();
      this.dirOp({ kind: "create", name, inode });
    }
    return new FaultyFile(this, name, inode);
  }

  async openAppend(name: string): Promise<WritableFile> {
    checkFileName(name, "openAppend");
    const fault = this.hit("openAppend", name);
    if (fault) throw fault;
    const inode = this.names.get(name);
    if (!inode) throw new QuiverError("NOT_FOUND", `openAppend of ${name} failed: file not found`);
    return new FaultyFile(this, name, inode);
  }

  async rename(from: string, to: string): Promise<void> {
    checkFileName(from, "rename");
    checkFileName(to, "rename");
    const fault = this.hit("rename", from, to);
    if (fault) throw fault;
    if (!this.names.has(from)) throw new QuiverError("NOT_FOUND", `rename of ${from} failed: file not found`);
    this.dirOp({ kind: "rename", from, to });
  }

  async remove(name: string): Promise<void> {
    checkFileName(name, "remove");
    const fault = this.hit("remove", name);
    if (fault) throw fault;
    if (this.names.has(name)) this.dirOp({ kind: "remove", name });
    this.scratch.delete(name);
  }

  async syncDir(): Promise<void> {
    const fault = this.hit("syncDir");
    if (fault) throw fault;
    for (const op of this.pendingDirOps) applyDirOp(this.durableNames, op);
    this.pendingDirOps = [];
  }

  /**
   * Scratch files live only in this process's memory (a power loss or crash() drops them, as it
   * may drop a real one's unsynced pages): recovery must rebuild them from the durable files.
   */
  openScratch(name: string): ScratchFile {
    if (!isScratchFile(name)) throw new QuiverError("IO", `openScratch of ${name} failed: EINVAL`);
    const fault = this.hit("openScratch", name);
    if (fault) throw fault;
    const rows = new MemoryRowFile();
    this.scratch.add(name);
    const open = (op: string): void => {
      if (rows.closed) throw new QuiverError("IO", `${op} of ${name} failed: EBADF (file is closed)`);
    };
    return {
      read: (pos, into) => {
        open("read");
        return rows.read(pos, into);
      },
      write: (pos, data) => {
        open("write");
        const fault = this.hit("scratchWrite", name);
        if (fault) throw fault;
        rows.write(pos, data);
      },
      close: () => {
        rows.close();
        this.scratch.delete(name);
      },
    };
  }

  async lock(): Promise<DirectoryLock> {
    if (this.locked) {
      throw new QuiverError(
        "LOCKED",
        "faulty test directory is locked by another open handle in this process; close it first",
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

  private dirOp(op: DirOp): void {
    applyDirOp(this.names, op);
    this.pendingDirOps.push(op);
  }
}
