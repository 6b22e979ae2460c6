/**
 * API keys: the admin key and scoped keys, stored as SHA-256 hashes (never the key itself) in the
 * system file `server-keys.json` of the database directory (JSON with a CRC32C trailer,
 * storage/checked-json.ts), replaced atomically on every change.
 * Presented keys are hashed and compared in constant time.
 *
 * The file goes through a KeyFile: the database directory by default; a cluster passes one kept in
 * etcd (src/cluster/serve/catalog-key-file.ts), `shared`, so every node sees the keys any node
 * creates: such a store is read again when a key is unknown and every few seconds (revocations), and
 * changed by compare-and-set, so two nodes creating keys at once keep both.
 *
 * Why a system file and not a reserved collection: a collection would be visible through the
 * embedded API (listCollections, limits, names a tenant prefix could reach) and would need a
 * vector schema it has no use for; a small JSON file written with writeFileAtomic through the same
 * Directory is durable on acknowledge, invisible to the data API, and easy to audit.
 */
import { QuiverError } from "../core/errors/errors.js";
import { writeFileAtomic, type Directory } from "../storage/directory.js";
import { decodeCheckedJson, encodeCheckedJson } from "../storage/checked-json.js";

export const KEYS_FILE = "server-keys.json";
export type Scope = "admin" | "write" | "read";
const RANK: Record<Scope, number> = { read: 1, write: 2, admin: 3 };

export interface Quota {
  /** Read units per UTC calendar month. */
  readUnits?: number;
  /** Write units per UTC calendar month. */
  writeUnits?: number;
}

/** A key as stored and as listed (the hash is never returned by the API). */
export interface KeyRecord {
  id: string;
  name: string;
  scope: Scope;
  /** Exact collection names this key reaches. */
  collections?: string[];
  /** Or: every collection whose name starts with this prefix. */
  prefix?: string;
  quota?: Quota;
  createdAt: string;
  hash: string;
}

/** Who made a request: a stored key or the admin key. */
export type Principal = Pick<KeyRecord, "id" | "name" | "scope" | "collections" | "prefix" | "quota">;

/**
 * Where the key file's bytes live. `version` is whatever the store uses to detect a concurrent change
 * (0 when absent); `save` writes only if the stored version is still `version`, and says whether it did.
 */
export interface KeyFile {
  load(): Promise<{ bytes: Uint8Array; version: number } | null>;
  save(bytes: Uint8Array, version: number): Promise<boolean>;
  /** Changed by other processes too (a cluster): read again on an unknown key and every few seconds. */
  readonly shared: boolean;
}

/** The key file in a database directory: one writer (the server holds the directory's lock). */
export function directoryKeyFile(dir: Directory): KeyFile {
  return {
    shared: false,
    async load() {
      try {
        return { bytes: await dir.read(KEYS_FILE), version: 1 };
      } catch (e) {
        if (e instanceof QuiverError && e.code === "NOT_FOUND") return null;
        throw e;
      }
    },
    async save(bytes) {
      await writeFileAtomic(dir, KEYS_FILE, bytes);
      return true;
    },
  };
}

/** How often a shared key file is read again, so a key revoked on another node stops working here. */
const SHARED_RELOAD_MS = 2000;
/** How soon after a reload an unknown key may cause another (a flood of bad keys costs one read). */
const MISS_RELOAD_MS = 100;

interface KeysFile {
  version: 1;
  /** SHA-256 of the generated admin key (absent when QUIVER_ADMIN_KEY is used). */
  adminHash?: string;
  keys: KeyRecord[];
}

const utf8 = new TextEncoder();

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8.encode(text)));
  let out = "";
  for (const b of digest) out += b.toString(16).padStart(2, "0");
  return out;
}

/** Compares two equal-length hex digests without an early exit, so timing tells nothing. */
export function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}

function randomToken(bytes: number): string {
  const b = new Uint8Array(bytes);
  crypto.getRandomValues(b);
  let bin = "";
  for (const x of b) bin += String.fromCharCode(x);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomId(): string {
  const b = new Uint8Array(6);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Keys look like `qk_<12 hex id>_<43 base64url secret>`; the id finds the record, the hash proves it. */
const KEY_FORMAT = /^qk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;

export class KeyStore {
  private file: KeysFile;
  /** The hash of QUIVER_ADMIN_KEY when given; else the file's. */
  private readonly envAdminHash: string | null;
  private readonly byId = new Map<string, KeyRecord>();
  private writing: Promise<unknown> = Promise.resolve();
  private version: number;
  private loadedAt = Date.now();
  /**
   * Keys already verified -> their principal, so a busy client does not pay a SHA-256 per request.
   * In memory only, bounded, and cleared whenever a key is created or revoked.
   */
  private readonly verified = new Map<string, Principal>();

  private constructor(
    private readonly store: KeyFile,
    file: KeysFile,
    version: number,
    envAdminHash: string | null,
  ) {
    this.file = file;
    this.version = version;
    this.envAdminHash = envAdminHash;
    this.index();
  }

  private index(): void {
    this.byId.clear();
    for (const k of this.file.keys) this.byId.set(k.id, k);
    this.verified.clear();
  }

  /**
   * Loads the key file (from the database directory `dir`, or any KeyFile). The admin key is
   * `adminKey` (from QUIVER_ADMIN_KEY) when given; otherwise the stored hash, or, on first start, a
   * new key whose hash is stored and which is returned once as `generatedAdminKey` (print it; it
   * cannot be recovered).
   */
  static async open(
    dir: Directory | KeyFile,
    opts: { adminKey?: string; rotateAdminKey?: boolean } = {},
  ): Promise<{ store: KeyStore; generatedAdminKey?: string }> {
    const keyFile = "load" in dir ? dir : directoryKeyFile(dir);
    const loaded = await loadKeys(keyFile);
    if (opts.adminKey !== undefined) {
      if (opts.adminKey.length < 16)
        throw new QuiverError("INVALID_ARGUMENT", "QUIVER_ADMIN_KEY must be at least 16 characters");
      return { store: new KeyStore(keyFile, loaded.file, loaded.version, await sha256Hex(opts.adminKey)) };
    }
    const store = new KeyStore(keyFile, loaded.file, loaded.version, null);
    if (loaded.file.adminHash && !opts.rotateAdminKey) return { store };
    const key = `qk_${"0".repeat(12)}_${randomToken(32)}`;
    const adminHash = await sha256Hex(key);
    await store.update((file) => {
      // Two nodes of a cluster starting at once: the first one's key stands, unless rotating.
      if (opts.rotateAdminKey || !file.adminHash) file.adminHash = adminHash;
    });
    return store.file.adminHash === adminHash ? { store, generatedAdminKey: key } : { store };
  }

  /**
   * Applies `change` to the key file and saves it; when another process changed the file meanwhile
   * (a shared store), reads it again and applies `change` to that, so no one's change is lost.
   */
  private update(change: (file: KeysFile) => void): Promise<void> {
    const run = async (): Promise<void> => {
      for (;;) {
        const next = structuredClone(this.file);
        change(next);
        if (await this.store.save(encodeCheckedJson(next, 2), this.version)) {
          this.file = next;
          this.version += 1;
          this.index();
          return;
        }
        await this.reload();
      }
    };
    const done = this.writing.catch(() => undefined).then(run);
    this.writing = done;
    return done;
  }

  private async reload(): Promise<void> {
    const loaded = await loadKeys(this.store);
    this.file = loaded.file;
    this.version = loaded.version;
    this.loadedAt = Date.now();
    this.index();
  }

  /** The principal a presented key belongs to, or null. Always hashes and compares once. */
  async authenticate(presented: string): Promise<Principal | null> {
    if (this.store.shared && Date.now() - this.loadedAt > SHARED_RELOAD_MS) await this.reload();
    const known = this.verified.get(presented);
    if (known) return known;
    let principal = await this.verify(presented);
    if (principal === null && this.store.shared && Date.now() - this.loadedAt > MISS_RELOAD_MS) {
      // Perhaps created on another node since the last read.
      await this.reload();
      principal = await this.verify(presented);
    }
    if (principal) {
      if (this.verified.size >= 10_000) this.verified.clear();
      this.verified.set(presented, principal);
    }
    return principal;
  }

  private async verify(presented: string): Promise<Principal | null> {
    const hash = await sha256Hex(presented);
    const adminHash = this.envAdminHash ?? this.file.adminHash ?? null;
    if (adminHash !== null && constantTimeEqual(hash, adminHash)) return { id: "admin", name: "admin", scope: "admin" };
    const m = KEY_FORMAT.exec(presented);
    const rec = m ? this.byId.get(m[1]) : undefined;
    if (!rec || !constantTimeEqual(hash, rec.hash)) return null;
    const { hash: _hash, createdAt: _created, ...principal } = rec;
    return principal;
  }

  /** Creates a key; the returned `key` is shown once and never stored. */
  async create(input: {
    name?: string;
    scope: Scope;
    collections?: string[];
    prefix?: string;
    quota?: Quota;
  }): Promise<{ key: string; record: Omit<KeyRecord, "hash"> }> {
    if (input.scope !== "admin" && input.collections === undefined && input.prefix === undefined) {
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        {
          path: "collections",
          message:
            'a read or write key must name its collections or a tenant prefix (prefix "" reaches every collection)',
        },
      ]);
    }
    if (input.collections !== undefined && input.prefix !== undefined) {
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        { path: "prefix", message: "give collections or prefix, not both" },
      ]);
    }
    let id = randomId();
    while (this.byId.has(id) || id === "0".repeat(12)) id = randomId();
    const key = `qk_${id}_${randomToken(32)}`;
    const record: KeyRecord = {
      id,
      name: input.name ?? id,
      scope: input.scope,
      ...(input.scope !== "admin" && input.collections !== undefined ? { collections: [...input.collections] } : {}),
      ...(input.scope !== "admin" && input.prefix !== undefined ? { prefix: input.prefix } : {}),
      ...(input.quota ? { quota: { ...input.quota } } : {}),
      createdAt: new Date().toISOString(),
      hash: await sha256Hex(key),
    };
    await this.update((file) => {
      file.keys.push(record);
    });
    const { hash: _hash, ...shown } = record;
    return { key, record: shown };
  }

  /** Revokes a key at once; resolves false when there was none. */
  async revoke(id: string): Promise<boolean> {
    if (this.store.shared) await this.reload();
    if (!this.byId.has(id)) return false;
    await this.update((file) => {
      file.keys = file.keys.filter((k) => k.id !== id);
    });
    return true;
  }

  list(): Omit<KeyRecord, "hash">[] {
    return this.file.keys.map(({ hash: _hash, ...k }) => k);
  }

  async flush(): Promise<void> {
    await this.writing;
  }
}

/** The key file's content and version; a damaged file is an error, never an empty key list. */
async function loadKeys(store: KeyFile): Promise<{ file: KeysFile; version: number }> {
  try {
    const found = await store.load();
    if (found === null) return { file: { version: 1, keys: [] }, version: 0 };
    // Files from before the checksum are accepted once; the next change rewrites them with one.
    const parsed = decodeCheckedJson(found.bytes, KEYS_FILE, { allowUnchecked: true }) as KeysFile;
    if (parsed.version !== 1 || !Array.isArray(parsed.keys)) throw new Error("unknown format");
    return { file: parsed, version: found.version };
  } catch (e) {
    // Replacing a damaged key file by an empty one would silently revoke every key.
    if (e instanceof QuiverError && e.code === "UNAVAILABLE") throw e;
    throw new QuiverError("CORRUPT", `${KEYS_FILE} cannot be read: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
}

/** Whether a principal reaches a collection at all: outside its reach a collection is invisible. */
export function reaches(p: Principal, collection: string): boolean {
  if (p.scope === "admin") return true;
  if (p.collections) return p.collections.includes(collection);
  return p.prefix !== undefined && collection.startsWith(p.prefix);
}

/** Whether a principal's scope includes `needed` (admin > write > read). */
export function allows(p: Principal, needed: Scope): boolean {
  return RANK[p.scope] >= RANK[needed];
}
