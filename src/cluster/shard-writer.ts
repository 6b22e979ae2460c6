/**
 * The writer of one shard: each write is PUT as an immutable batch object, then committed by a
 * CommitLog append under the writer's lease epoch, and acknowledged (with its seq, a read-your-writes
 * token) only after that append succeeded. Writes go one at a time (group commit comes later). A
 * fenced writer (another holder took the lease) refuses every later write.
 */
import { QuiverError, isQuiverError } from "../core/errors/errors.js";
import { type BatchOp, encodeBatch, sha256Hex } from "./batch.js";
import type { CommitLog } from "./commit-log.js";
import type { HeldLease } from "./lease.js";
import type { ObjectStore } from "./object-store.js";

export class ShardWriter {
  private queue: Promise<unknown> = Promise.resolve();
  private fencedBy: number | null = null;

  private constructor(
    private readonly log: string,
    private readonly lease: HeldLease,
    private readonly commitLog: CommitLog,
    private readonly objects: ObjectStore,
    private head: number,
  ) {}

  /** A writer for `log`, whose lease (of the same name) the caller holds and keeps renewed. */
  static async open(log: string, lease: HeldLease, commitLog: CommitLog, objects: ObjectStore): Promise<ShardWriter> {
    return new ShardWriter(log, lease, commitLog, objects, await commitLog.head(log));
  }

  /** Writes `ops` durably and returns their seq; rejects (UNAVAILABLE) when not acknowledged. */
  write(ops: BatchOp[]): Promise<number> {
    const result = this.queue.then(() => this.commit(ops));
    this.queue = result.catch(() => {});
    return result;
  }

  private async commit(ops: BatchOp[]): Promise<number> {
    if (this.fencedBy !== null)
      throw new QuiverError("UNAVAILABLE", `${this.log}: this writer was fenced by epoch ${this.fencedBy}`);
    const bytes = encodeBatch(ops);
    const seq = this.head + 1;
    const objectKey = `${this.log}/batches/${this.lease.epoch}-${seq}-${crypto.randomUUID()}`;
    const sha256 = await sha256Hex(bytes);
    await this.objects.put(objectKey, bytes);
    const records = ops.reduce((n, o) => n + (o.op === "upsert" ? o.records.length : o.ids.length), 0);
    const entry = { objectKey, sha256, count: ops.length, records, bytes: bytes.length, epoch: this.lease.epoch };
    let outcome: Awaited<ReturnType<CommitLog["append"]>>;
    try {
      outcome = await this.commitLog.append(this.log, this.head, entry);
    } catch (error) {
      if (!isQuiverError(error, "UNAVAILABLE")) throw error;
      // The outcome is unknown: the log itself says whether our pointer made it.
      const [found] = await this.commitLog.read(this.log, seq, 1);
      if (found?.objectKey !== objectKey) throw error;
      outcome = { committed: true, seq };
    }
    if (outcome.committed) {
      this.head = outcome.seq;
      return outcome.seq;
    }
    if (outcome.reason === "fenced") this.fencedBy = outcome.epoch;
    // A conflict under this writer's own epoch: only it appends under that epoch, so the log moved
    // through an earlier append of its own whose outcome it could not learn (the answer and the
    // read-back both lost). Take the log's head, or every later write would conflict the same way.
    else this.head = outcome.head;
    throw new QuiverError(
      "UNAVAILABLE",
      outcome.reason === "fenced"
        ? `${this.log}: fenced, epoch ${outcome.epoch} took the shard from epoch ${this.lease.epoch}; not written`
        : `${this.log}: the log moved to ${outcome.head} under this writer; not written`,
    );
  }
}
