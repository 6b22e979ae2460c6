/**
 * The storage seam: every byte Quiver persists goes through a Directory of named files.
 * Implementations: memory (tests, in-memory databases), node fs (src/node/), fault-injecting (tests).
 *
 * Durability contract, which the WAL and manifest code rely on:
 * - bytes appended to a file are durable only after `WritableFile.sync()` resolves;
 * - a file's existence, a rename or a removal is durable only after `syncDir()` resolves;
 * - `rename(from, to)` atomically replaces `to` (readers see the old or the new file, never a mix).
 * Every method rejects with a QuiverError: NOT_FOUND for a missing file, IO for anything else.
 *
 * Scratch files (optional capability) are outside that contract: caches derived from durable files,
 * never synced, recreated empty at every open, so a crash can leave nothing in them that matters.
 */

/** Suffix of scratch files: recovery removes any it finds, and they never appear in a manifest. */
export const SCRATCH_SUFFIX = ".qscratch";

export const isScratchFile = (name: string): boolean => name.endsWith(SCRATCH_SUFFIX);

/**
 * A file of derived bytes read and written in place, synchronously (search is synchronous; reads are
 * served from the OS page cache). Throws a QuiverError (IO) on failure.
 */
export interface ScratchFile {
  /** Fills `into` with the bytes at `pos`; bytes never written (or past the end) read as zero. */
  read(pos: number, into: Uint8Array): void;
  write(pos: number, data: Uint8Array): void;
  /** Closes and deletes the file. */
  close(): void;
}

export interface WritableFile {
  /** Current length in bytes, including appended bytes that are not yet synced. */
  readonly size: number;
  append(data: Uint8Array): Promise<void>;
  /** Makes every byte appended so far durable (fsync). */
  sync(): Promise<void>;
  /** Cuts the file to `size` bytes; used to drop a torn tail. */
  truncate(size: number): Promise<void>;
  close(): Promise<void>;
}

export interface DirectoryLock {
  release(): Promise<void>;
}

export interface Directory {
  /** Names of the files in the directory (no sub-directories), in no particular order. */
  list(): Promise<string[]>;
  /** Whole content of a file. */
  read(name: string): Promise<Uint8Array>;
  /**
   * Optional: the bytes of a file from `offset` to its current end (empty at or past the end). A
   * reader following a live WAL uses it to read only what was appended since its last look;
   * without it, callers read the whole file.
   */
  readFrom?(name: string, offset: number): Promise<Uint8Array>;
  /** Optional, with `readInto`: a file's size in bytes. */
  sizeOf?(name: string): Promise<number>;
  /**
   * Optional: reads a whole file into the start of `into` and returns that view (a new buffer when it
   * does not fit). An open reads every segment into one buffer sized for the largest this way: one
   * allocation instead of one per file, which also spares the collections of garbage that hundreds
   * of megabytes of short-lived buffers would trigger.
   */
  readInto?(name: string, into: Uint8Array): Promise<Uint8Array>;
  /** Creates the file, or truncates it if it exists, and opens it for appending. */
  create(name: string): Promise<WritableFile>;
  /** Opens an existing file for appending at its end. */
  openAppend(name: string): Promise<WritableFile>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; removing a missing file is not an error. */
  remove(name: string): Promise<void>;
  /** Makes creations, renames and removals durable (fsync of the directory). */
  syncDir(): Promise<void>;
  /**
   * Takes the exclusive writer lock of this directory. Rejects with LOCKED when another live
   * holder (another process, or another open handle in this process) has it.
   */
  lock(): Promise<DirectoryLock>;
  /**
   * Optional: creates (or empties) scratch file `name` (ending in SCRATCH_SUFFIX). Directories without
   * real files (memory) leave it out, and callers keep such data in memory instead.
   */
  openScratch?(name: string): ScratchFile;
}

/** The bytes of `name` from `offset` on, through `readFrom` when the directory has it. */
export async function readFileFrom(dir: Directory, name: string, offset: number): Promise<Uint8Array> {
  if (dir.readFrom) return dir.readFrom(name, offset);
  return (await dir.read(name)).subarray(offset);
}

/** Creates (or replaces) a file with `data` and fsyncs it; its name is durable after `syncDir()`. */
export async function writeFileSynced(dir: Directory, name: string, data: Uint8Array): Promise<void> {
  const f = await dir.create(name);
  try {
    await f.append(data);
    await f.sync();
  } finally {
    await f.close();
  }
}

/**
 * Writes a whole file durably under a temporary name, then renames it into place. `onRename` is
 * called just before the rename is issued: from then on a failure leaves the outcome unknown (the
 * new file may or may not be in place, now or after a crash).
 */
export async function writeFileAtomic(
  dir: Directory,
  name: string,
  data: Uint8Array,
  onRename?: () => void,
): Promise<void> {
  const tmp = `${name}.tmp`;
  await writeFileSynced(dir, tmp, data);
  onRename?.();
  await dir.rename(tmp, name);
  await dir.syncDir();
}
