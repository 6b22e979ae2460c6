/**
 * Garbage collection of one shard's objects: batches (`<log>/batches/`), segments and graphs
 * (`<log>/segments/`, `<log>/graphs/`) that neither the current manifest nor a live log pointer
 * names. Such an object is deleted only once this collector has seen it unreferenced for the whole
 * grace period: an object that stopped being referenced at time t (a manifest replaced, a pointer
 * trimmed) survives until at least t + grace, so a node that read the previous manifest or pointer
 * before t can still fetch it for that long; and a batch or segment PUT but not yet committed is
 * kept as long as its writer or compactor may still commit it (writers and compactors must finish
 * well within the grace period: the compactor gives up past its `maxCommitDelayMs`).
 *
 * Each pass lists the objects before it reads the manifest and the log, so an object committed
 * between the two is seen referenced. The "unreferenced since" times live in this process: a
 * collector that restarts starts counting again, which only delays deletions.
 */
import type { Catalog } from "./catalog.js";
import type { CommitLog } from "./commit-log.js";
import type { ObjectStore } from "./object-store.js";
import { readShardManifest, referencedKeys } from "./shard-manifest.js";

export interface GarbageCollectorOptions {
  log: string;
  catalog: Catalog;
  commitLog: CommitLog;
  objects: ObjectStore;
  /** How long an object must stay unreferenced before it is deleted (default 10 min). */
  graceMs?: number;
  now?: () => number;
}

export class GarbageCollector {
  private readonly unreferencedSince = new Map<string, number>();

  constructor(private readonly options: GarbageCollectorOptions) {}

  /** One pass: deletes what has been unreferenced for the grace period; returns those keys. */
  async collect(): Promise<{ deleted: string[]; waiting: number }> {
    const { log, objects } = this.options;
    const now = this.options.now ?? Date.now;
    const grace = this.options.graceMs ?? 10 * 60_000;
    const kinds = ["batches/", "segments/", "graphs/"].map((kind) => `${log}/${kind}`);
    const listed = (await Promise.all(kinds.map((prefix) => objects.list(prefix)))).flat().map((o) => o.key);
    const { manifest } = await readShardManifest(this.options.catalog, log);
    const pointers = await this.options.commitLog.read(log, 1);
    const referenced = new Set([...referencedKeys(manifest), ...pointers.map((p) => p.objectKey)]);
    const seen = new Set(listed);
    for (const key of this.unreferencedSince.keys())
      if (referenced.has(key) || !seen.has(key)) this.unreferencedSince.delete(key);
    const deleted: string[] = [];
    for (const key of listed) {
      if (referenced.has(key)) continue;
      const since = this.unreferencedSince.get(key);
      if (since === undefined) this.unreferencedSince.set(key, now());
      else if (now() - since >= grace) {
        await objects.delete(key);
        this.unreferencedSince.delete(key);
        deleted.push(key);
      }
    }
    return { deleted, waiting: this.unreferencedSince.size };
  }
}
