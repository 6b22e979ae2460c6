/**
 * CacheFiles in a folder of the local disk, for SegmentCache: each write goes to a temporary file,
 * is fsynced and renamed into place (so a crash never leaves a half-written file under a real name),
 * and the order of use is the files' modification time (touch sets it), which survives a restart.
 */
import { open, readFile, readdir, rename, rm, stat, utimes, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { QuiverError } from "../../core/errors/errors.js";
import type { CacheFiles } from "../segment-cache.js";

export class DiskCacheFiles implements CacheFiles {
  private constructor(private readonly folder: string) {}

  /** The cache in `folder`, created when missing; temporary files of an earlier crash are removed. */
  static async open(folder: string): Promise<DiskCacheFiles> {
    await io(`cache folder ${folder}`, () => mkdir(folder, { recursive: true }));
    for (const name of await io(`cache folder ${folder}`, () => readdir(folder)))
      if (name.endsWith(".tmp")) await rm(join(folder, name), { force: true });
    return new DiskCacheFiles(folder);
  }

  async read(name: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(join(this.folder, name)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw ioError(`cache file ${name}`, error);
    }
  }

  async write(name: string, bytes: Uint8Array): Promise<void> {
    const temporary = join(this.folder, `${name}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    await io(`cache file ${name}`, async () => {
      const file = await open(temporary, "w");
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, join(this.folder, name));
    });
  }

  async remove(name: string): Promise<void> {
    await io(`cache file ${name}`, () => rm(join(this.folder, name), { force: true }));
  }

  async list(): Promise<{ name: string; size: number; lastUsed: number }[]> {
    const names = (await io(`cache folder ${this.folder}`, () => readdir(this.folder))).filter(
      (n) => !n.endsWith(".tmp"),
    );
    const found = await Promise.all(
      names.map(async (name) => {
        const info = await stat(join(this.folder, name)).catch(() => null);
        return info && { name, size: info.size, lastUsed: info.mtimeMs };
      }),
    );
    return found.filter((f) => f !== null);
  }

  async touch(name: string): Promise<void> {
    const now = new Date();
    await utimes(join(this.folder, name), now, now).catch(() => {});
  }
}

async function io<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw ioError(what, error);
  }
}

function ioError(what: string, error: unknown): QuiverError {
  return new QuiverError("IO", `${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
