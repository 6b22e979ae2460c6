/**
 * The single writer of a database: a queue of write requests committed in groups. Each group is
 * framed into WAL records, appended with one write and one fsync, then applied to memory, and only
 * then are its callers' promises resolved (so a resolved write is durable and visible).
 *
 * Before a request joins a group, the memory its operations need is reserved (hooks.reserve), so a
 * request that cannot be applied is refused unlogged instead of failing after it is durable.
 *
 * A request whose outcome depends on the current state (delete by filter, create and drop) always
 * starts a new group, so it is prepared against a state that already includes every earlier write.
 */
import { QuiverError } from "../core/errors/errors.js";
import { frameRecord, WalPoisoned } from "../storage/wal.js";
import { encodeOp, type Op } from "./ops.js";

export interface WriteRequest<T = unknown> {
  /** True when `prepare` reads state that earlier writes in the same group could change. */
  readsState: boolean;
  /** Builds the operations to log, or throws a user error (the request is then rejected unlogged). */
  prepare(): Op[];
  /** Applies the logged operations to memory and computes the caller's result. */
  apply(ops: Op[]): T;
  /** An exclusive task (see `exclusive`), run instead of logging anything. */
  task?: () => Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export interface WriterHooks {
  nextSeq(): number;
  /** The last sequence number taken. */
  currentSeq(): number;
  /** Gives back the sequence numbers taken since `to` (a group that was not logged). */
  rewindSeq(to: number): void;
  commit(framed: Uint8Array): Promise<void>;
  /**
   * Reserves what applying `ops` needs (memory), on top of the earlier requests of the group
   * (`first`: this request starts a new group). Throws (e.g. RESOURCE_EXHAUSTED) to refuse the
   * request before it is logged.
   */
  reserve?(ops: Op[], first: boolean): void;
  /**
   * Finishes what applying the group left to do (its deferred graph inserts: graph-inserts.ts), before
   * any of its callers is answered. A failure is a failure to apply: the group is logged, so the
   * writer is poisoned and its callers rejected with it.
   */
  settle?(): Promise<void>;
  /** Called after each group; may rotate the WAL and start a checkpoint. */
  afterGroup(): Promise<void>;
  /**
   * Holds the graphs' readers off (search threads: src/core/index/hnsw/parallel.ts) until the returned
   * function is called. The writer holds them while it changes memory: while a group reserves (slots and
   * regions may move), while it is applied and checkpointed, and during a task; not while it is logged.
   */
  holdReaders?(): Promise<() => void>;
}

const MAX_GROUP_BYTES = 32 << 20;

export class Writer {
  private queue: WriteRequest[] = [];
  private running: Promise<void> | null = null;
  /** Set when the WAL can no longer be trusted; every later write fails until the database is reopened. */
  poisoned: QuiverError | null = null;

  constructor(private readonly hooks: WriterHooks) {}

  submit<T>(req: Omit<WriteRequest<T>, "resolve" | "reject">): Promise<T> {
    if (this.poisoned) return Promise.reject(this.poisoned);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ ...req, resolve, reject } as WriteRequest);
      this.kick();
    });
  }

  /**
   * Runs `task` alone between groups, with no WAL commit in flight: used to rotate the WAL for a
   * checkpoint requested by the user.
   */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    if (this.poisoned) return Promise.reject(this.poisoned);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        readsState: true,
        prepare: () => [],
        apply: () => undefined,
        task,
        resolve,
        reject,
      } as WriteRequest);
      this.kick();
    });
  }

  /** Resolves when every request submitted so far has been settled. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /**
   * Starts the drain loop unless it is running. `running` is cleared by the loop itself, in the
   * same tick it sees the queue empty, so a request submitted after that always starts a new loop.
   */
  private kick(): void {
    if (this.running) return;
    let done!: () => void;
    this.running = new Promise<void>((r) => (done = r));
    void this.drain(done);
  }

  private async drain(done: () => void): Promise<void> {
    let release: (() => void) | null = null;
    const hold = async () => {
      release ??= (await this.hooks.holdReaders?.()) ?? null;
    };
    const letGo = () => {
      release?.();
      release = null;
    };
    for (;;) {
      if (this.queue.length === 0) {
        this.running = null;
        done();
        return;
      }
      try {
        await this.step(hold, letGo);
      } finally {
        letGo();
      }
    }
  }

  private poisonOnApply(e: unknown): void {
    this.poisoned ??= poisonFor(e);
  }

  /** One task, or one group: reserved, logged, applied, acknowledged. */
  private async step(hold: () => Promise<void>, letGo: () => void): Promise<void> {
    const head = this.queue[0];
    if (head.task) {
      this.queue.shift();
      try {
        await hold();
        head.resolve(await head.task());
      } catch (e) {
        head.reject(e);
      }
      return;
    }
    await hold();
    const group: { req: WriteRequest; ops: Op[] }[] = [];
    const seqBefore = this.hooks.currentSeq();
    const frames: Uint8Array[] = [];
    let bytes = 0;
    while (this.queue.length > 0 && bytes < MAX_GROUP_BYTES) {
      const req = this.queue[0];
      if ((req.readsState || req.task) && group.length > 0) break;
      this.queue.shift();
      if (this.poisoned) {
        req.reject(this.poisoned);
        continue;
      }
      let ops: Op[];
      const encoded: Uint8Array[] = [];
      try {
        ops = req.prepare();
        for (const op of ops) encoded.push(encodeOp(op));
        this.hooks.reserve?.(ops, group.length === 0);
      } catch (e) {
        req.reject(e);
        continue;
      }
      for (const op of encoded) {
        const f = frameRecord(this.hooks.nextSeq(), op);
        frames.push(f);
        bytes += f.length;
      }
      group.push({ req, ops });
      if (req.readsState) break;
    }
    letGo();
    if (group.length === 0) return;
    try {
      if (frames.length > 0) await this.hooks.commit(concat(frames, bytes));
    } catch (e) {
      const err = toIoError(e);
      if (e instanceof WalPoisoned) this.poisoned = err;
      // Cut back, so not logged: the next group reuses the numbers (replay checks for gaps).
      else this.hooks.rewindSeq(seqBefore);
      for (const { req } of group) req.reject(err);
      return;
    }
    await hold();
    const applied: { req: WriteRequest; value: unknown }[] = [];
    for (const { req, ops } of group) {
      try {
        applied.push({ req, value: req.apply(ops) });
      } catch (e) {
        this.poisonOnApply(e);
        req.reject(e);
      }
    }
    try {
      if (this.hooks.settle) await this.hooks.settle();
      for (const { req, value } of applied) req.resolve(value);
    } catch (e) {
      this.poisonOnApply(e);
      for (const { req } of applied) req.reject(e);
    }
    // Once poisoned, memory may hold a half-applied write that the log holds whole: a checkpoint
    // would persist the half and mark the logged write as covered, so none is started.
    if (this.poisoned) return;
    try {
      await this.hooks.afterGroup();
    } catch (e) {
      // A failed WAL rotation leaves the current WAL usable, unless it poisoned it.
      if (e instanceof WalPoisoned) this.poisoned = toIoError(e);
    }
  }
}

/**
 * Logged but maybe half applied (e.g. a scratch file write failed, or a graph build's thread): memory
 * may now differ from the log, so later writes wait for a reopen, whose recovery rebuilds memory from
 * the segments and replays the log.
 */
function poisonFor(e: unknown): QuiverError {
  return new QuiverError(
    "IO",
    `applying a logged write failed (${e instanceof Error ? e.message : String(e)}); the database accepts no more writes until it is reopened`,
    { cause: e },
  );
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

function toIoError(e: unknown): QuiverError {
  if (e instanceof WalPoisoned) {
    const inner = e.original instanceof Error ? e.original.message : String(e.original);
    return new QuiverError(
      "IO",
      `write-ahead log failed (${inner}); the write was not acknowledged and the database accepts no more writes until it is reopened`,
      { cause: e.original },
    );
  }
  if (e instanceof QuiverError) return e;
  return new QuiverError(
    "IO",
    `write failed: ${e instanceof Error ? e.message : String(e)}; the write was not acknowledged`,
    { cause: e },
  );
}
