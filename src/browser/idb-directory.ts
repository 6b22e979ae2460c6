/**
 * A Directory in IndexedDB, for the main thread (where OPFS has no synchronous access handles) and
 * any other context with IndexedDB. One IndexedDB database per Quiver directory: `files` maps a name
 * to a file id, `chunks` holds each file's appended bytes under [id, seq]. Appends are buffered in
 * memory; `sync()` commits them in a transaction with `durability: "strict"` (the browser flushes
 * it to disk before it completes). Renames and removals are single transactions, hence atomic.
 * What survives a crash is documented in docs/browser.md.
 */
import { QuiverError } from "../core/errors/errors.js";
import type { Directory, DirectoryLock, WritableFile } from "../storage/directory.js";
import { checkFileName } from "../storage/memory-directory.js";
import { takeWebLock } from "./web-lock.js";

const FILES = "files";
const CHUNKS = "chunks";
const STRICT = { durability: "strict" } as const;

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function completion(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("transaction aborted"));
  });
}

const chunksOf = (id: string): IDBKeyRange => IDBKeyRange.bound([id, 0], [id, Number.MAX_SAFE_INTEGER]);

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p.subarray(0, Math.min(p.length, total - at)), at);
    at += p.length;
    if (at >= total) break;
  }
  return out;
}

function ioError(op: string, name: string, e: unknown): QuiverError {
  if (e instanceof QuiverError) return e;
  const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new QuiverError("IO", `${op} of ${name} failed: ${why}`, { cause: e });
}

/** One file's bytes not yet committed, shared by every handle on it in this directory object. */
interface FileState {
  id: string;
  size: number;
  nextSeq: number;
  pending: Uint8Array[];
  handles: number;
  /** No name refers to the file any more (removed or replaced while open): its bytes go with its last handle. */
  unnamed?: boolean;
}

class IdbFile implements WritableFile {
  private closed = false;

  constructor(
    private readonly dir: IndexedDbDirectory,
    private readonly state: FileState,
    private readonly name: string,
  ) {}

  get size(): number {
    return this.state.size;
  }

  private check(op: string): void {
    if (this.closed) throw new QuiverError("IO", `${op} of ${this.name} failed: EBADF (file is closed)`);
  }

  async append(data: Uint8Array): Promise<void> {
    this.check("append");
    if (data.length === 0) return;
    this.state.pending.push(data.slice());
    this.state.size += data.length;
  }

  async sync(): Promise<void> {
    this.check("sync");
    await this.dir.commit(this.state, this.name);
  }

  async truncate(size: number): Promise<void> {
    this.check("truncate");
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new QuiverError("IO", `truncate of ${this.name} to ${size} failed: EINVAL`);
    }
    await this.dir.rewrite(this.state, this.name, size);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Like close(2) without fsync: the bytes are kept (committed), their durability is not promised.
    await this.dir.commit(this.state, this.name);
    await this.dir.forget(this.state);
  }
}

/**
 * A database folder kept in IndexedDB; works on the main thread and in workers.
 * @example
 * const db = await open(await IndexedDbDirectory.open("notes"));
 */
export class IndexedDbDirectory implements Directory {
  private readonly states = new Map<string, FileState>();

  private constructor(
    private readonly db: IDBDatabase,
    readonly name: string,
  ) {}

  /** True where IndexedDB exists. */
  static available(): boolean {
    return typeof (globalThis as { indexedDB?: unknown }).indexedDB === "object";
  }

  static databaseName(name: string): string {
    return `quiverdb:${name}`;
  }

  /** Opens (creating if needed) the directory `name`, an IndexedDB database of this origin. */
  static async open(name: string): Promise<IndexedDbDirectory> {
    if (!IndexedDbDirectory.available()) throw new QuiverError("UNSUPPORTED", "IndexedDB is not available here");
    const r = indexedDB.open(IndexedDbDirectory.databaseName(name), 1);
    r.onupgradeneeded = () => {
      r.result.createObjectStore(FILES);
      r.result.createObjectStore(CHUNKS);
    };
    const db = await request(r).catch((e) => {
      throw ioError("open", name, e);
    });
    // Let a deletion (destroy(), or the user clearing site data) proceed instead of waiting on this connection.
    db.onversionchange = () => db.close();
    return new IndexedDbDirectory(db, name);
  }

  /** Deletes the directory `name` and every file in it. */
  static async destroy(name: string): Promise<void> {
    await request(indexedDB.deleteDatabase(IndexedDbDirectory.databaseName(name)));
  }

  /** Closes the IndexedDB connection (after the database using this directory is closed). */
  close(): void {
    this.db.close();
  }

  private tx(mode: IDBTransactionMode): IDBTransaction {
    return this.db.transaction([FILES, CHUNKS], mode, STRICT);
  }

  private async idOf(name: string, op: string): Promise<string> {
    checkFileName(name, op);
    const entry = await request<{ id: string } | undefined>(this.tx("readonly").objectStore(FILES).get(name));
    if (!entry) throw new QuiverError("NOT_FOUND", `${op} of ${name} failed: file not found`);
    return entry.id;
  }

  /** Commits a file's pending appends as one chunk, durably. */
  async commit(state: FileState, name: string): Promise<void> {
    if (state.pending.length === 0) return;
    const bytes = concat(
      state.pending,
      state.pending.reduce((n, p) => n + p.length, 0),
    );
    state.pending = [];
    const tx = this.tx("readwrite");
    tx.objectStore(CHUNKS).put(bytes, [state.id, state.nextSeq++]);
    await completion(tx).catch((e) => {
      throw ioError("sync", name, e);
    });
  }

  /** Replaces a file's content by its first `size` bytes (zero-extended when longer). */
  async rewrite(state: FileState, name: string, size: number): Promise<void> {
    const bytes = concat([await this.readId(state.id)], size);
    state.pending = [];
    state.size = size;
    const tx = this.tx("readwrite");
    const chunks = tx.objectStore(CHUNKS);
    chunks.delete(chunksOf(state.id));
    chunks.put(bytes, [state.id, 0]);
    state.nextSeq = 1;
    await completion(tx).catch((e) => {
      throw ioError("truncate", name, e);
    });
  }

  async forget(state: FileState): Promise<void> {
    if (--state.handles > 0) return;
    this.states.delete(state.id);
    if (!state.unnamed) return;
    const tx = this.tx("readwrite");
    tx.objectStore(CHUNKS).delete(chunksOf(state.id));
    await completion(tx);
  }

  /** Deletes the chunks of a file no name refers to any more, or leaves them to its open handles. */
  private dropUnnamed(tx: IDBTransaction, id: string): void {
    const open = this.states.get(id);
    if (open) open.unnamed = true;
    else tx.objectStore(CHUNKS).delete(chunksOf(id));
  }

  /** Committed chunks, then the bytes still pending in this object (read in one step, in order). */
  private async readId(id: string): Promise<Uint8Array> {
    const pending = [...(this.states.get(id)?.pending ?? [])];
    const stored = await request<Uint8Array[]>(this.tx("readonly").objectStore(CHUNKS).getAll(chunksOf(id)));
    const parts = [...stored, ...pending];
    return concat(
      parts,
      parts.reduce((n, p) => n + p.length, 0),
    );
  }

  private async stateOf(id: string): Promise<FileState> {
    const known = this.states.get(id);
    if (known) return known;
    const keys = await request(this.tx("readonly").objectStore(CHUNKS).getAllKeys(chunksOf(id)));
    const size = (await this.readId(id)).length;
    const fresh = this.states.get(id) ?? {
      id,
      size,
      nextSeq: keys.length === 0 ? 0 : (keys[keys.length - 1] as [string, number])[1] + 1,
      pending: [],
      handles: 0,
    };
    this.states.set(id, fresh);
    return fresh;
  }

  async list(): Promise<string[]> {
    return (await request(this.tx("readonly").objectStore(FILES).getAllKeys())) as string[];
  }

  async read(name: string): Promise<Uint8Array> {
    return this.readId(await this.idOf(name, "read"));
  }

  async create(name: string): Promise<WritableFile> {
    checkFileName(name, "create");
    const id = crypto.randomUUID();
    const tx = this.tx("readwrite");
    const files = tx.objectStore(FILES);
    const old = await request<{ id: string } | undefined>(files.get(name));
    if (old) this.dropUnnamed(tx, old.id);
    files.put({ id }, name);
    await completion(tx).catch((e) => {
      throw ioError("create", name, e);
    });
    const state: FileState = { id, size: 0, nextSeq: 0, pending: [], handles: 1 };
    this.states.set(id, state);
    return new IdbFile(this, state, name);
  }

  async openAppend(name: string): Promise<WritableFile> {
    const state = await this.stateOf(await this.idOf(name, "openAppend"));
    state.handles++;
    return new IdbFile(this, state, name);
  }

  async rename(from: string, to: string): Promise<void> {
    checkFileName(to, "rename");
    const id = await this.idOf(from, "rename");
    const tx = this.tx("readwrite");
    const files = tx.objectStore(FILES);
    const old = await request<{ id: string } | undefined>(files.get(to));
    if (old && old.id !== id) this.dropUnnamed(tx, old.id);
    files.put({ id }, to);
    files.delete(from);
    await completion(tx).catch((e) => {
      throw ioError("rename", from, e);
    });
  }

  async remove(name: string): Promise<void> {
    checkFileName(name, "remove");
    const tx = this.tx("readwrite");
    const files = tx.objectStore(FILES);
    const old = await request<{ id: string } | undefined>(files.get(name));
    if (old) {
      files.delete(name);
      // An open handle keeps its bytes (an unnamed file, as on POSIX) until it closes.
      this.dropUnnamed(tx, old.id);
    }
    await completion(tx).catch((e) => {
      throw ioError("remove", name, e);
    });
  }

  /** Creations, renames and removals were committed with strict durability when they happened. */
  async syncDir(): Promise<void> {}

  lock(): Promise<DirectoryLock> {
    return takeWebLock(`quiverdb:idb:${this.name}`, `the IndexedDB database ${this.name}`);
  }
}
