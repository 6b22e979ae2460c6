/**
 * The ObjectStore seam: where a cluster keeps every byte (write batches, segments, snapshots) as
 * immutable objects under string keys. Implementations: DirectoryObjectStore below (any storage
 * Directory, so the local file system or memory) and S3ObjectStore (cluster/s3/).
 */
import { QuiverError } from "../core/errors/errors.js";
import { type Directory, writeFileAtomic } from "../storage/directory.js";
import { sha256Hex } from "./batch.js";

export interface ObjectInfo {
  key: string;
  size: number;
}

/**
 * Keys are written once and never changed in place (the cluster names every object by its content or
 * a fresh id), so no conditional PUT is needed. A store that cannot be reached rejects with
 * UNAVAILABLE; the same call succeeds again once it is back.
 */
export interface ObjectStore {
  /** Stores `bytes` under `key`, durably before it resolves. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The object's bytes, or null when no object has that key. */
  get(key: string): Promise<Uint8Array | null>;
  /** Removes the object; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): Promise<ObjectInfo[]>;
}

/**
 * The bytes of `key`, which must hash to `sha256` (hex): a missing or mismatching object is CORRUPT
 * (`what` names it in the message), an unreachable store UNAVAILABLE.
 */
export async function getVerified(
  objects: ObjectStore,
  key: string,
  sha256: string,
  what: string,
): Promise<Uint8Array> {
  const bytes = await objects.get(key);
  if (bytes === null) throw new QuiverError("CORRUPT", `${what}: object ${key} is missing`);
  if ((await sha256Hex(bytes)) !== sha256) throw new QuiverError("CORRUPT", `${what}: object ${key} fails its sha256`);
  return bytes;
}

const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,511}$/;

/** Rejects keys that S3 and file systems would treat differently (empty, "..", odd characters). */
export function checkObjectKey(key: string): void {
  const badPart = key.split("/").some((part) => part === "" || part === "." || part === "..");
  if (!KEY_PATTERN.test(key) || badPart || key.endsWith(".tmp"))
    throw new QuiverError(
      "INVALID_ARGUMENT",
      `object key ${JSON.stringify(key)} must be 1-512 characters of [A-Za-z0-9._/-], with no empty, "." or ".." part, not ending in ".tmp"`,
    );
}

/**
 * An ObjectStore in one flat storage Directory: "/" in a key becomes "~" in the file name (a key has
 * no "~", so the mapping is reversible), and a put is an atomic, synced replace.
 */
export class DirectoryObjectStore implements ObjectStore {
  constructor(private readonly dir: Directory) {}

  async put(key: string, bytes: Uint8Array): Promise<void> {
    checkObjectKey(key);
    await writeFileAtomic(this.dir, fileOf(key), bytes);
  }

  async get(key: string): Promise<Uint8Array | null> {
    checkObjectKey(key);
    const name = fileOf(key);
    if (!(await this.dir.list()).includes(name)) return null;
    return this.dir.read(name);
  }

  async delete(key: string): Promise<void> {
    checkObjectKey(key);
    await this.dir.remove(fileOf(key));
    await this.dir.syncDir();
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const keys = (await this.dir.list())
      .filter((name) => !name.endsWith(".tmp"))
      .map((name) => name.replaceAll("~", "/"))
      .filter((key) => key.startsWith(prefix) && KEY_PATTERN.test(key))
      .sort();
    return Promise.all(keys.map(async (key) => ({ key, size: (await this.dir.read(fileOf(key))).length })));
  }
}

const fileOf = (key: string): string => key.replaceAll("/", "~");
