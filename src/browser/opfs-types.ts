/**
 * The parts of the File System API that OPFS in a Worker offers and TypeScript's DOM library leaves
 * out (synchronous access handles are in the worker library; `move()` and `entries()` in neither).
 */

export interface SyncAccessHandle {
  read(into: Uint8Array, options: { at: number }): number;
  write(data: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

export interface OpfsFileHandle {
  readonly kind: "file";
  readonly name: string;
  createSyncAccessHandle(): Promise<SyncAccessHandle>;
  /** Renames the file within its folder, replacing a file of that name. */
  move(name: string): Promise<void>;
}

export interface OpfsDirectoryHandle {
  readonly kind: "directory";
  getFileHandle(name: string, options?: { create?: boolean }): Promise<OpfsFileHandle>;
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<OpfsDirectoryHandle>;
  removeEntry(name: string, options?: { recursive?: boolean }): Promise<void>;
  entries(): AsyncIterable<[string, OpfsFileHandle | OpfsDirectoryHandle]>;
}

/** The origin's OPFS root, typed with the members above. */
export async function opfsRoot(): Promise<OpfsDirectoryHandle> {
  return (await navigator.storage.getDirectory()) as unknown as OpfsDirectoryHandle;
}
