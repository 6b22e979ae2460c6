/**
 * A fixed-size pool of worker threads running one script, for CPU-bound work (the local embedding
 * model) on every core. Workers start on demand, up to the size; a job goes to an idle worker or
 * waits in line; an idle worker does not keep the process alive (unref), and close() terminates them.
 * The protocol: the pool posts `{ id, ...job }`, the worker answers `{ id, result }` or
 * `{ id, error: { code?, message } }`; a worker that dies fails its job and is replaced on demand.
 */
import { Worker } from "node:worker_threads";
import { ERROR_CATALOG, QuiverError, type ErrorCode } from "../../core/errors/errors.js";

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  /** The job it runs, or null when idle. */
  job: { id: number; pending: Pending } | null;
}

export interface WorkerFailure {
  code?: string;
  message: string;
}

export class WorkerPool<Job extends object, Result> {
  readonly #script: URL;
  readonly #size: number;
  readonly #slots: Slot[] = [];
  readonly #queue: { id: number; job: Job; pending: Pending }[] = [];
  /** The code of a failure that a worker reports without a catalog code of its own, or of a dead worker. */
  readonly #failureCode: ErrorCode;
  #nextId = 0;
  #closed = false;

  constructor(script: URL, size: number, failureCode: ErrorCode) {
    if (!Number.isInteger(size) || size < 1)
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        { path: "threads", message: `must be an integer of at least 1, got ${JSON.stringify(size)}` },
      ]);
    this.#script = script;
    this.#size = size;
    this.#failureCode = failureCode;
  }

  get size(): number {
    return this.#size;
  }

  /** Workers started so far. */
  get started(): number {
    return this.#slots.length;
  }

  /** Runs one job on the next free worker. */
  run(job: Job): Promise<Result> {
    if (this.#closed) return Promise.reject(new QuiverError("CLOSED", "the worker pool was closed"));
    return new Promise<Result>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, job, pending: { resolve: resolve as (v: unknown) => void, reject } });
      this.#dispatch();
    });
  }

  /** Terminates every worker; jobs still waiting or running fail with CLOSED. */
  async close(): Promise<void> {
    this.#closed = true;
    const closed = new QuiverError("CLOSED", "the worker pool was closed");
    for (const q of this.#queue.splice(0)) q.pending.reject(closed);
    const slots = this.#slots.splice(0);
    for (const s of slots) s.job?.pending.reject(closed);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => s.job === null);
      if (!slot && this.#slots.length < this.#size) slot = this.#start();
      if (!slot) return;
      const { id, job, pending } = this.#queue.shift()!;
      slot.job = { id, pending };
      slot.worker.ref();
      slot.worker.postMessage({ id, ...job });
    }
  }

  #failure(f: WorkerFailure): QuiverError {
    const own = f.code !== undefined && Object.hasOwn(ERROR_CATALOG, f.code);
    return new QuiverError(own ? (f.code as ErrorCode) : this.#failureCode, f.message);
  }

  #start(): Slot {
    const worker = new Worker(this.#script, { execArgv: workerExecArgv(process.execArgv) });
    const slot: Slot = { worker, job: null };
    worker.on("message", (m: { id: number; result?: unknown; error?: WorkerFailure }) => {
      const job = slot.job;
      if (!job || job.id !== m.id) return;
      slot.job = null;
      worker.unref(); // idle: the process may exit
      if (m.error) job.pending.reject(this.#failure(m.error));
      else job.pending.resolve(m.result);
      this.#dispatch();
    });
    const died = (reason: string) => {
      const at = this.#slots.indexOf(slot);
      if (at < 0) return; // closed, or already handled
      this.#slots.splice(at, 1);
      slot.job?.pending.reject(this.#failure({ message: `a worker thread ${reason}` }));
      slot.job = null;
      this.#dispatch();
    };
    worker.on("error", (e) => died(`failed: ${e instanceof Error ? e.message : String(e)}`));
    worker.on("exit", (code) => died(`exited with code ${code}`));
    this.#slots.push(slot);
    return slot;
  }
}

/**
 * The parent's Node flags a worker can take: a worker inherits them by default, but code given on the
 * command line (`-e`, `-p`, with `--input-type`) is the parent's own and makes a worker fail to start.
 */
export function workerExecArgv(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i];
    if (a === "-e" || a === "--eval" || a === "-p" || a === "--print")
      i++; // and the code after it
    else if (!a.startsWith("--input-type") && !a.startsWith("--eval=") && !a.startsWith("--print=")) out.push(a);
  }
  return out;
}
