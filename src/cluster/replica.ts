/**
 * A shard this node serves reads for: loaded from the shard's manifest (its sealed segments and graph,
 * through the node's disk cache) and kept up with the log tail after the manifest's appliedThrough
 * (shard-bootstrap.ts). It is ready once it has applied everything committed when it started, so a
 * node that just took a shard never answers from a half-loaded copy; a read may also name the seq it
 * must see (read-your-writes), which it waits for up to a limit.
 *
 * When a compactor trims log entries this replica has not applied yet (it fell behind, or the store
 * was unreachable for a while), its follower stops with LogTrimmed. The replica then loads the shard
 * again from the newer manifest in the background and keeps answering from the state it has until the
 * new copy has caught up with the log head; then it swaps the two and closes the old one. So a trim
 * never fails a query; a read that needs a seq the old copy cannot reach waits for the swap.
 */
import type { Collection } from "../database/collection.js";
import { QuiverError } from "../core/errors/errors.js";
import { type CommitLog, LogTrimmed } from "./commit-log.js";
import type { ShardReplica } from "./shard-bootstrap.js";

/** Opens a fresh copy of the shard from its current manifest; `onError` gets its follower's errors. */
export type OpenShardCopy = (onError: (error: unknown) => void) => Promise<ShardReplica>;

export class Replica {
  private ready = false;
  private lastError: unknown = null;
  private reloading: Promise<void> | null = null;
  private closed = false;
  /** Resolved (and replaced) each time a reloaded copy takes over, to wake reads waiting on the old one. */
  private swapped = signal();
  /** Copies loaded after the first (a compaction trimmed the log under this one), for status and tests. */
  reloads = 0;
  /** When the shard stopped being assigned here (it keeps answering a while, for the move). */
  unassignedAt: number | null = null;

  private constructor(
    readonly log: string,
    private current: ShardReplica,
    private readonly openCopy: OpenShardCopy,
    private readonly commitLog: CommitLog,
  ) {}

  static async start(log: string, openCopy: OpenShardCopy, commitLog: CommitLog): Promise<Replica> {
    let replica: Replica | null = null;
    const first = await openCopy((error) => replica?.onFollowError(first, error));
    replica = new Replica(log, first, openCopy, commitLog);
    const started = replica;
    started
      .caughtUp(first)
      .then(() => {
        started.ready = true;
      })
      .catch((error) => {
        started.lastError = error;
      });
    return replica;
  }

  get applied(): number {
    return this.current.applied;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** The manifest generation the serving copy was loaded from. */
  get generation(): number {
    return this.current.manifest.generation;
  }

  /**
   * The collection once it is ready and has applied `minSeq`; UNAVAILABLE (try another replica) when
   * it is still loading, or does not reach `minSeq` within `waitMs`.
   */
  async collection(minSeq: number, waitMs: number): Promise<Collection> {
    if (!this.ready)
      throw new QuiverError(
        "UNAVAILABLE",
        `${this.log} is still loading on this node${this.lastError ? ` (${String(this.lastError)})` : ""}`,
      );
    const deadline = Date.now() + waitMs;
    while (minSeq > this.current.applied) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new QuiverError(
          "UNAVAILABLE",
          `${this.log} has applied seq ${this.current.applied}, not yet ${minSeq}, after ${waitMs} ms`,
        );
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, left);
      });
      try {
        // The copy may be replaced while waiting (a reload): then wait on the new one.
        await Promise.race([this.current.waitFor(minSeq), this.swapped.promise, late]);
      } finally {
        clearTimeout(timer);
      }
    }
    return this.current.collection;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.reloading?.catch(() => {});
    await this.current.close();
  }

  /** Resolves once `copy` has applied everything committed when this was called. */
  private async caughtUp(copy: ShardReplica): Promise<void> {
    await copy.waitFor(await this.commitLog.head(this.log));
  }

  private onFollowError(copy: ShardReplica, error: unknown): void {
    this.lastError = error;
    if (error instanceof LogTrimmed && copy === this.current && !this.reloading && !this.closed)
      this.reloading = this.reload().finally(() => {
        this.reloading = null;
      });
  }

  /** Loads a copy from the newer manifest, lets it catch up, then serves it instead of the stale one. */
  private async reload(): Promise<void> {
    let fresh: ShardReplica | null = null;
    try {
      fresh = await this.openCopy((error) => fresh && this.onFollowError(fresh, error));
      await this.caughtUp(fresh);
    } catch (error) {
      this.lastError = error;
      await fresh?.close().catch(() => {});
      return; // the next LogTrimmed (the old copy's follower retries at each wake-up) tries again
    }
    if (this.closed) {
      await fresh.close();
      return;
    }
    const stale = this.current;
    this.current = fresh;
    this.reloads++;
    this.ready = true;
    this.lastError = null;
    const wake = this.swapped;
    this.swapped = signal();
    wake.resolve();
    await stale.close();
  }
}

function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
