/**
 * The writer lock of a browser Directory: a Web Lock (`navigator.locks`), which the browser holds for
 * this tab or worker until it is released or the holder goes away (a closed tab, a killed worker), so a
 * crash never leaves a stale lock behind. Other tabs and workers of the same origin see it too.
 */
import { QuiverError } from "../core/errors/errors.js";
import type { DirectoryLock } from "../storage/directory.js";

/** Takes the lock named `key` if it is free; rejects LOCKED, naming `what`, when another holder has it. */
export async function takeWebLock(key: string, what: string): Promise<DirectoryLock> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) throw new QuiverError("UNSUPPORTED", `${what} needs the Web Locks API (navigator.locks), missing here`);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const granted = await new Promise<boolean>((resolve, reject) => {
    // ifAvailable: the callback runs at once, with null when another holder (any tab or worker) has it.
    // The lock lasts until the promise the callback returns settles, that is until release().
    locks
      .request(key, { ifAvailable: true }, (lock) => {
        resolve(lock !== null);
        return lock === null ? undefined : held;
      })
      .catch(reject);
  });
  if (!granted) {
    throw new QuiverError("LOCKED", `${what} is locked by another open handle (this or another tab or worker)`);
  }
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      release();
    },
  };
}
