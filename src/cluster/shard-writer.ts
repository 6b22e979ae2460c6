/**
 * The writer of one shard: each write is PUT as an immutable batch object, then committed by a
 * CommitLog append under the writer's lease epoch, and acknowledged (with its seq, a read-your-writes
 * token) only after that append succeeded. `write` does both, one write at a time; a caller that
 * groups writes (held-shard.ts) may `stage` (PUT) the next batch while the previous one is being
 * appended, and `append` them in order. A fenced writer (another holder took the lease) refuses
 * every later write.
 */
import { QuiverError, isQuiverError } from "../core/errors/errors.js";
import { type BatchOp, encodeBatch, sha256Hex } from "./batch.js";
import type { CommitLog } from "./commit-log.js";
import type { HeldLease } from "./lease.js";
import type { ObjectStore } from "./object-store.js";

/** A batch PUT as an object and not yet committed: what `append` commits. */
export interface StagedBatch {
  objectKey: string;
  sha256: string;
  count: number;
}

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
    const result = this.queue.then(async () => this.append(await this.stage(ops)));
    this.queue = result.catch(() => {});
    return result;
  }

  /**
   * PUTs `ops` as a batch object under a fresh key (the epoch first, so a writer's objects can be
   * listed); nothing is committed. Stages may overlap each other and an append.
   */
  async stage(ops: BatchOp[]): Promise<StagedBatch> {
    this.refuseIfFenced();
    const bytes = encodeBatch(ops);
    const objectKey = `${this.log}/batches/${this.lease.epoch}-${crypto.randomUUID()}`;
    const sha256 = await sha256Hex(bytes);
    await this.objects.put(objectKey, bytes);
    return { objectKey, sha256, count: ops.length };
  }

  private refuseIfFenced(): void {
    if (this.fencedBy !== null)
      throw new QuiverError("UNAVAILABLE", `${this.log}: this writer was fenced by epoch ${this.fencedBy}`);
  }

  /**
   * Commits a staged batch: one CommitLog append under this writer's epoch, after the head it
   * knows. Returns its seq; rejects (UNAVAILABLE) when not acknowledged. The caller runs appends
   * one at a time, in the order the batches must have in the log.
   */
  async append(staged: StagedBatch): Promise<number> {
    this.refuseIfFenced();
    const { objectKey } = staged;
    const seq = this.head + 1;
    const entry = { ...staged, epoch: this.lease.epoch };
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
