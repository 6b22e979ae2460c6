/**
 * A shard this node writes: its lease (renewed a few times per period), its ShardWriter, and group
 * commit on top: writes that arrive while a batch is being committed wait and go together in the
 * next batch (one object PUT and one etcd transaction for all of them), each acknowledged with that
 * batch's seq once its transaction committed. Two batches are in flight at most, pipelined: the next
 * one's PUT overlaps the etcd transaction of the one before, and transactions go one at a time, in
 * order (each names the head it follows and the writer's epoch). When the lease cannot be renewed
 * the shard is given up: a later write must go to the new owner, and a commit already under way is
 * fenced by the epoch if someone else took the shard.
 */
import { QuiverError } from "../core/errors/errors.js";
import type { BatchOp } from "./batch.js";
import type { CommitLog } from "./commit-log.js";
import type { HeldLease } from "./lease.js";
import type { ObjectStore } from "./object-store.js";
import { ShardWriter } from "./shard-writer.js";

interface Waiting {
  ops: BatchOp[];
  resolve(seq: number): void;
  reject(error: unknown): void;
}

/** Most operations in one group-committed batch (a batch object stays a few MiB at most). */
const MAX_GROUP_OPS = 256;

export class HeldShard {
  private waiting: Waiting[] = [];
  private committing = false;
  private lost: string | null = null;
  private readonly renewal: ReturnType<typeof setInterval>;

  private constructor(
    readonly log: string,
    private readonly lease: HeldLease,
    private readonly writer: ShardWriter,
    ttlMs: number,
    private readonly onLost: (log: string, reason: string) => void,
  ) {
    this.renewal = setInterval(() => {
      this.lease.renew().catch((error) => this.giveUp(`its lease could not be renewed (${String(error)})`));
    }, ttlMs / 3);
  }

  /** Takes the shard when its lease is free: null when another node holds it. */
  static async take(
    log: string,
    holder: string,
    ttlMs: number,
    deps: { leases: { acquire(n: string, h: string, t: number): Promise<HeldLease | null> } },
    commitLog: CommitLog,
    objects: ObjectStore,
    onLost: (log: string, reason: string) => void,
  ): Promise<HeldShard | null> {
    const lease = await deps.leases.acquire(log, holder, ttlMs);
    if (lease === null) return null;
    try {
      return new HeldShard(log, lease, await ShardWriter.open(log, lease, commitLog, objects), ttlMs, onLost);
    } catch (error) {
      await lease.release().catch(() => {});
      throw error;
    }
  }

  get epoch(): number {
    return this.lease.epoch;
  }

  get held(): boolean {
    return this.lost === null;
  }

  /** Commits `ops` (grouped with concurrent writes) and resolves with the seq of their batch. */
  write(ops: BatchOp[]): Promise<number> {
    if (this.lost !== null) return Promise.reject(this.lostError());
    const acknowledged = new Promise<number>((resolve, reject) => this.waiting.push({ ops, resolve, reject }));
    void this.drain();
    return acknowledged;
  }

  private async drain(): Promise<void> {
    if (this.committing) return;
    this.committing = true;
    // The append of the batch before the current one (they run in order, one at a time).
    let previous: Promise<void> = Promise.resolve();
    while (this.waiting.length > 0) {
      const group = this.nextGroup();
      const staged =
        this.lost === null ? this.writer.stage(group.flatMap((w) => w.ops)) : Promise.reject(this.lostError());
      const appended = previous.then(async () => {
        try {
          if (this.lost !== null) throw this.lostError();
          const seq = await this.writer.append(await staged);
          for (const w of group) w.resolve(seq);
        } catch (error) {
          for (const w of group) w.reject(error);
          if (String(error).includes("fenced")) this.giveUp("another node took it (fenced)");
        }
      });
      // The next group forms while this one's PUT runs and the one before it commits; then it is
      // PUT while this one commits. So no more than two batches are ever in flight.
      await Promise.all([staged.catch(() => {}), previous]);
      previous = appended;
      if (this.waiting.length === 0) await previous;
    }
    this.committing = false;
  }

  /** The first waiting writes, up to MAX_GROUP_OPS operations (at least one write). */
  private nextGroup(): Waiting[] {
    const group: Waiting[] = [];
    let count = 0;
    while (this.waiting.length > 0 && (group.length === 0 || count + this.waiting[0].ops.length <= MAX_GROUP_OPS)) {
      const next = this.waiting.shift() as Waiting;
      group.push(next);
      count += next.ops.length;
    }
    return group;
  }

  private lostError(): QuiverError {
    return new QuiverError("UNAVAILABLE", `${this.log}: this node no longer writes the shard (${this.lost})`);
  }

  private giveUp(reason: string): void {
    if (this.lost !== null) return;
    this.lost = reason;
    clearInterval(this.renewal);
    this.onLost(this.log, reason);
  }

  /** Stops writing and releases the lease so another writer can take the shard at once. */
  async release(): Promise<void> {
    this.giveUp("released");
    while (this.committing) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.lease.release().catch(() => {});
  }
}
