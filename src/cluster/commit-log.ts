/**
 * The CommitLog seam: per-shard logs of small pointers in strict order, each naming an immutable
 * batch object, appended only by the holder of the shard's current epoch. Implementations:
 * LocalCoordinator (one process) and EtcdCoordinator (cluster/etcd/). `followLog` turns any of them
 * into an in-order, gap-free stream for a follower.
 */
import { QuiverError } from "../core/errors/errors.js";

/** One committed pointer: batch `seq` of a log is the object `objectKey` (about 150 bytes in etcd). */
export interface LogEntry {
  seq: number;
  objectKey: string;
  /** Hex sha256 of the object's bytes: a follower refuses a batch that does not match. */
  sha256: string;
  /** Operations in the batch. */
  count: number;
  /**
   * Records the batch upserts plus ids it deletes, and the size of its object in bytes: what an
   * indexer sums to compact a log by records and bytes, not only by batches. Absent from pointers
   * written before they existed (such a pointer counts as a batch only).
   */
  records?: number;
  bytes?: number;
  /** The writer's epoch when it committed (the fencing token it compared). */
  epoch: number;
}

export type AppendResult =
  | { committed: true; seq: number }
  /**
   * Not written. `fenced`: the log's epoch is no longer the caller's (another holder took the lease),
   * so the caller must stop writing. `conflict`: the head moved, so the caller's view is stale.
   */
  | { committed: false; reason: "fenced" | "conflict"; head: number; epoch: number };

export interface CommitLog {
  /** The last committed seq of `log` (0 when empty). */
  head(log: string): Promise<number>;
  /**
   * Appends `entry` as seq `expectedHead + 1`, atomically, only if the log's fencing epoch (the epoch
   * of the Lease of the same name) still equals `entry.epoch` and its head is `expectedHead`.
   * Rejects with UNAVAILABLE when the outcome is unknown: then read `expectedHead + 1` to learn it.
   */
  append(log: string, expectedHead: number, entry: Omit<LogEntry, "seq">): Promise<AppendResult>;
  /**
   * Entries with seq >= `fromSeq`, in order, at most `limit`. After a trim the first entry returned
   * may have a seq above `fromSeq`: those before it were folded into a shard manifest.
   */
  read(log: string, fromSeq: number, limit?: number): Promise<LogEntry[]>;
  /**
   * Deletes the pointers with seq <= `throughSeq` in one atomic step, only if the Catalog key
   * `guard.key` is still at version `guard.version` (the shard manifest that folded them); returns
   * whether it did. The head stays, so appends go on numbering from it.
   */
  trim(log: string, throughSeq: number, guard: { key: string; version: number }): Promise<boolean>;
  /**
   * Calls `onChange` after entries may have been appended to `log` (and after a lost connection is
   * back). A wake-up only: followLog reads what is new, so a missed or repeated call loses nothing.
   */
  subscribe(log: string, onChange: () => void): Promise<{ close(): Promise<void> }>;
}

/**
 * The entries a follower needs next were trimmed (folded into a shard manifest by a compactor): it
 * cannot go on from the log and must load the shard again from the manifest.
 */
export class LogTrimmed extends QuiverError {
  constructor(
    readonly log: string,
    readonly applied: number,
    readonly firstAvailable: number,
  ) {
    super(
      "NOT_FOUND",
      `${log}: entries ${applied + 1} to ${firstAvailable - 1} were trimmed; reload from the manifest`,
    );
  }
}

export interface LogFollower {
  /** The seq of the last entry delivered. */
  readonly applied: number;
  /** Resolves once an entry with seq >= `seq` has been delivered (read-your-writes). */
  waitFor(seq: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Delivers every entry of `log` after `afterSeq` to `onEntry`, one at a time, in seq order and with
 * no gap, including those appended later. Entries trimmed before they were delivered are reported
 * to `onError` as LogTrimmed (delivery cannot go on). A failing read (store unavailable) is reported to
 * `onError` and retried at the next wake-up; `onEntry` failing stops delivery at that entry, which is
 * retried too, so an entry is never skipped.
 */
export async function followLog(
  commitLog: CommitLog,
  log: string,
  afterSeq: number,
  onEntry: (entry: LogEntry) => Promise<void>,
  onError: (error: unknown) => void = () => {},
): Promise<LogFollower> {
  let applied = afterSeq;
  let running: Promise<void> = Promise.resolve();
  let pending = false;
  let scheduled = false;
  let closed = false;
  const waiters: { seq: number; resolve: () => void }[] = [];
  const deliver = async (entry: LogEntry): Promise<void> => {
    await onEntry(entry);
    applied = entry.seq;
    for (const w of waiters.filter((w) => w.seq <= applied)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  // Wake-ups that arrive while a read is running coalesce into one more read after it.
  const drain = async (): Promise<void> => {
    scheduled = false;
    while (pending && !closed) {
      pending = false;
      let entries = await commitLog.read(log, applied + 1);
      if (entries.length === 0) {
        // Nothing after `applied`, yet the head may be past it: then its pointers were all trimmed, or
        // appended after the read. Pointers go only by trim, so a second read tells which.
        const head = await commitLog.head(log);
        if (head > applied) {
          entries = await commitLog.read(log, applied + 1);
          if (entries.length === 0) throw new LogTrimmed(log, applied, head + 1);
        }
      }
      if (entries.length > 0 && entries[0]!.seq > applied + 1) throw new LogTrimmed(log, applied, entries[0]!.seq);
      for (const entry of entries) {
        if (closed || entry.seq !== applied + 1) break;
        await deliver(entry);
      }
    }
  };
  const wake = (): void => {
    if (closed) return;
    pending = true;
    if (scheduled) return;
    scheduled = true;
    running = running.then(drain).catch((error) => {
      scheduled = false;
      onError(error);
    });
  };
  const subscription = await commitLog.subscribe(log, wake);
  wake();
  return {
    get applied() {
      return applied;
    },
    waitFor(seq) {
      if (seq <= applied) return Promise.resolve();
      const waiting = new Promise<void>((resolve) => waiters.push({ seq, resolve }));
      wake();
      return waiting;
    },
    async close() {
      closed = true;
      await subscription.close();
      await running;
    },
  };
}
