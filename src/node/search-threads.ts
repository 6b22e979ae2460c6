// SearchThreads on node:worker_threads (also what Bun and Deno provide under that name): N workers running
// search-thread.ts, each handed the shared slab memories it searches. The core decides what runs when
// (src/core/index/hnsw/parallel.ts); this file only carries calls and answers, and turns a thread's failure
// into a QuiverError for every call it had in flight.
//
// Calls and answers go through shared memory (search-handoff.ts), not messages: a search is queued in the
// slot of its lane and one sleeping thread is woken (Atomics.notify, only if one sleeps: a thread spins a
// while before it sleeps); whichever thread is free claims it, and this thread awaits the DONE word,
// collecting every finished slot at each wake-up: a short adaptive spin first, then Atomics.waitAsync.
//
// Caller searches (an option, off by default: under load it measured no better, bench/RESULTS.md): the
// calling thread is a core too. When it has queued searches and nothing else to run (a microtask after
// the queueing, so the queries in flight queue theirs first), it claims a queued slot itself, like a
// thread, when more are queued than threads are idle, and runs it over its own instance of the module;
// with N threads, N + 1 searches run at once. Queueing then wakes no thread: the caller wakes sleepers
// only for the searches it leaves (a wake-up, a system call and a context switch, was a third of the
// calling thread's time when every queued search woke a thread that the caller then beat to it).
//
// Messages carry the memories (once per memory and thread) and a parallel build's link calls
// (one per thread and build phase, answered by a message: few enough that their cost does not count).

import { availableParallelism } from "node:os";
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import { type ErrorCode, QuiverError } from "../core/errors/errors.js";
import type { LaneCall } from "../core/index/hnsw/hnsw.js";
import type { SearchThreads } from "../core/index/hnsw/parallel.js";
import type { LinkCall } from "../core/index/hnsw/parallel-build.js";
import type { HnswExports } from "../core/index/hnsw/module.js";
import { instantiateHnsw } from "../core/index/hnsw/module.js";
import {
  DONE,
  FAILED,
  FINISHED,
  FREE,
  Handoff,
  MAIL,
  PARKED,
  QUEUED,
  RUNNING,
  SpinBudget,
  WORK,
} from "./search-handoff.js";

/** Atomics.waitAsync (ES2024; Node ≥ 16, Bun, Deno), which the TypeScript lib this package targets lacks. */
type WaitAsync = (
  words: Int32Array,
  index: number,
  value: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync?.bind(Atomics);

/** The default number of search threads where one is wanted (`quiver serve`): one per core. */
export function defaultThreadCount(): number {
  return availableParallelism();
}

export interface SearchThreadsOptions {
  /**
   * The calling thread runs queued searches itself while it would otherwise wait for the threads (see
   * the header). Default false: every search goes to the threads (on a loaded 2-core machine, the caller's
   * searches slowed its own serial part more than they added; bench/RESULTS.md, 2026-12-03).
   */
  callerSearches?: boolean;
}

interface Pending {
  resolve(found: number): void;
  reject(e: unknown): void;
}

class Thread {
  readonly worker: Worker;
  /** Where this thread reads its memories from (synchronously, see search-thread.ts). */
  readonly port: MessagePort;
  /** The memories this thread has an instance over, by the pool's id. */
  readonly attached = new Set<number>();
  /** A parallel build's link calls this thread has not answered yet, by sequence number. */
  readonly links = new Map<number, Pending>();
  failed: QuiverError | null = null;

  constructor(index: number, handoff: Handoff) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(new URL("./search-thread.js", import.meta.url), {
      name: `quiver-search-${index}`,
      workerData: { index, buffer: handoff.buffer, slots: handoff.slots, port: port2 },
      transferList: [port2],
    });
    // Idle threads must not keep a process alive (a database left open still lets a script end); threads
    // with a search in flight must (Deno ends a test whose only pending work is an unref'd worker).
    this.worker.unref();
  }
}

/**
 * @example
 * const threads = new NodeSearchThreads(2); // or (2, { callerSearches: false })
 * const found = await threads.searchLane(0, slab.wasmMemory, hnswModule, index.laneCall(0, q, 10)!);
 * await threads.close();
 */
const CLOSED_MESSAGE = "these search threads were closed (a database closes the threads it was given); make new ones";

export class NodeSearchThreads implements SearchThreads {
  readonly size: number;
  /**
   * One lane more than threads (and one more for the caller when it searches): a search waits queued for
   * the first thread to finish, which takes it at once.
   */
  readonly lanes: number;
  readonly callerSearches: boolean;
  private readonly handoff: Handoff;
  private readonly threads: Thread[];
  private readonly pending: (Pending | undefined)[];
  private inFlight = 0;
  /** An Atomics.waitAsync on DONE is outstanding. */
  private watching = false;
  private readonly ids = new Map<WebAssembly.Memory, number>();
  private nextId = 1;
  private linkSeq = 0;
  /** Threads not failed. */
  private alive: number;
  /** The caller's own instances (caller searches), by the pool's id, and the modules to make them. */
  private readonly instances = new Map<number, HnswExports>();
  private readonly sources = new Map<number, { memory: WebAssembly.Memory; module: WebAssembly.Module }>();
  /** close() was called: the pool cannot be used again (a database closes the threads it was given). */
  private closed = false;
  /** A pump() is queued as a microtask. */
  private pumping = false;
  /** The caller's spin on DONE before it parks: 16 reads (a fraction of a µs) to 1,024 (~20 µs). */
  private readonly spin = new SpinBudget(16, 1024);

  constructor(size: number, options: SearchThreadsOptions = {}) {
    if (!Number.isInteger(size) || size < 1 || size > 256) {
      throw new QuiverError("INVALID_ARGUMENT", `threads must be an integer in [1, 256], got ${size}`);
    }
    if (!waitAsync) {
      throw new QuiverError("UNSUPPORTED", "search threads need Atomics.waitAsync, which this runtime lacks");
    }
    this.size = size;
    this.alive = size;
    this.callerSearches = options.callerSearches ?? false;
    this.lanes = size + 1 + (this.callerSearches ? 1 : 0);
    this.handoff = Handoff.create(this.lanes);
    this.pending = new Array(this.lanes).fill(undefined);
    this.threads = Array.from({ length: size }, (_, i) => new Thread(i, this.handoff));
    this.threads.forEach((t, i) => {
      t.worker.on("error", (e) => this.lost(t, `search thread ${i} failed: ${e instanceof Error ? e.message : e}`, e));
      t.worker.on("exit", (code) =>
        this.closed
          ? this.lost(t, CLOSED_MESSAGE, undefined, "CLOSED")
          : this.lost(t, `search thread ${i} exited (code ${code})`),
      );
      t.worker.on("message", (m: { seq: number; found?: number; error?: { code: ErrorCode; message: string } }) => {
        const p = t.links.get(m.seq);
        if (!p) return;
        t.links.delete(m.seq);
        this.unrefIfIdle(t);
        if (m.error) p.reject(new QuiverError(m.error.code, m.error.message));
        else p.resolve(m.found!);
      });
    });
  }

  searchLane(lane: number, memory: WebAssembly.Memory, module: WebAssembly.Module, call: LaneCall): Promise<number> {
    // Threads alive: the pool as it is until one dies (no array per search), then filtered.
    const live = this.alive === this.size ? this.threads : this.threads.filter((t) => !t.failed);
    if (this.closed) return Promise.reject(new QuiverError("CLOSED", CLOSED_MESSAGE));
    if (live.length === 0) return Promise.reject(this.threads[0].failed);
    if (this.pending[lane]) return Promise.reject(new QuiverError("INTERNAL", `lane ${lane} is already searching`));
    const id = this.attach(live, memory, module);
    return new Promise((resolve, reject) => {
      if (this.inFlight++ === 0) for (const t of live) t.worker.ref();
      this.pending[lane] = { resolve, reject };
      this.handoff.queue(lane, id, call, !this.callerSearches);
      if (this.callerSearches && !this.pumping) {
        this.pumping = true;
        queueMicrotask(() => this.pump());
      }
      this.watch();
    });
  }

  link(thread: number, memory: WebAssembly.Memory, module: WebAssembly.Module, call: LinkCall): Promise<number> {
    const t = this.threads[thread];
    if (this.closed) return Promise.reject(new QuiverError("CLOSED", CLOSED_MESSAGE));
    if (t.failed) return Promise.reject(t.failed);
    const id = this.attach([t], memory, module);
    const seq = ++this.linkSeq;
    return new Promise((resolve, reject) => {
      t.worker.ref();
      t.links.set(seq, { resolve, reject });
      // The queue's SharedArrayBuffer is shared with the thread, not copied: they claim from one counter.
      t.port.postMessage({ seq, id, link: [call.hdr, call.lane], queue: call.queue });
      // The thread reads its port when it sees MAIL move; a sleeping one is woken for it.
      this.handoff.bump(MAIL);
      this.handoff.bump(WORK);
    });
  }

  /** The pool's id of `memory`, attached in each of `threads` (posted before any call that uses it). */
  private attach(threads: Thread[], memory: WebAssembly.Memory, module: WebAssembly.Module): number {
    let id = this.ids.get(memory);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(memory, id);
      this.sources.set(id, { memory, module });
    }
    let posted = false;
    for (const t of threads) {
      if (t.attached.has(id)) continue;
      t.port.postMessage({ attach: id, memory, module });
      t.attached.add(id);
      posted = true;
    }
    if (posted) Atomics.add(this.handoff.words, MAIL, 1);
    return id;
  }

  retain(live: Set<WebAssembly.Memory>): void {
    for (const [memory, id] of this.ids) {
      if (live.has(memory)) continue;
      this.ids.delete(memory);
      this.instances.delete(id);
      this.sources.delete(id);
      for (const t of this.threads) {
        if (t.attached.delete(id)) t.port.postMessage({ forget: id });
      }
    }
    // Sleeping threads read their port when woken: let them drop their instances (and the memories) now.
    this.handoff.bump(MAIL);
    this.handoff.bump(WORK);
  }

  async close(): Promise<void> {
    // Marked first: the threads' exit events then fail what is pending as CLOSED, not as a crash.
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
    for (const t of this.threads) t.port.close();
  }

  /**
   * Caller searches: claims one queued slot, runs it here and answers it, then comes back (as a new
   * microtask, after the answers' continuations have queued their next searches) while any is queued.
   */
  private pump(): void {
    this.pumping = false;
    const h = this.handoff;
    const me = RUNNING + this.size;
    // The threads' answers first: their callers may queue again while this one runs.
    this.settleFinished();
    // Searches go to idle threads first (this thread has the queries' serial part to run); it takes one
    // only when more are queued than threads are idle, and wakes sleepers for the rest.
    let queued = 0;
    let busy = 0;
    for (let s = 0; s < h.slots; s++) {
      const state = h.state(s);
      if (state === QUEUED) queued++;
      else if (state >= RUNNING && state < me) busy++;
    }
    const idle = this.alive - busy;
    if (queued > 0 && idle > 0) h.wakeSleepers(Math.min(queued, idle));
    for (let s = h.slots - 1; s >= 0 && queued > idle; s--) {
      if (h.state(s) !== QUEUED || !h.move(s, QUEUED, me)) continue;
      const p = this.pending[s]!;
      try {
        const { memory, call } = h.call(s);
        let x = this.instances.get(memory);
        if (!x) {
          const source = this.sources.get(memory)!;
          x = instantiateHnsw(source.module, source.memory);
          this.instances.set(memory, x);
        }
        const found = x.searchLane(call.hdr, call.lane, call.k, call.ef, call.filterMode);
        this.settle(s, () => p.resolve(found));
      } catch (e) {
        const why = `calling thread: ${e instanceof Error ? e.message : String(e)}`;
        const error = new QuiverError(e instanceof QuiverError ? e.code : "INTERNAL", why);
        this.settle(s, () => p.reject(error));
      }
      this.pumping = true;
      queueMicrotask(() => this.pump());
      // Nothing left in flight: release a waitAsync still armed on DONE (it would wait for nothing).
      if (this.inFlight === 0 && this.watching) Atomics.notify(h.words, DONE);
      return;
    }
    this.watch();
  }

  /** Keeps one Atomics.waitAsync on DONE while searches are in flight, settling the finished ones at each wake-up. */
  private watch(): void {
    if (this.watching) return;
    const w = this.handoff.words;
    while (this.inFlight > 0) {
      // PARKED before DONE is read: a thread that finishes after the read sees it and notifies.
      Atomics.store(w, PARKED, 1);
      const seen = Atomics.load(w, DONE);
      this.settleFinished();
      if (this.inFlight === 0) break;
      // Searches queued and the caller free to run them: pump() comes next, not a wait.
      if (this.pumping) break;
      const moved = this.handoff.spin(DONE, seen, this.spin.reads);
      this.spin.update(moved);
      if (moved) continue;
      const wait = waitAsync!(w, DONE, seen);
      if (!wait.async) continue; // DONE moved since `seen`: collect again
      this.watching = true;
      void wait.value.then(() => {
        this.watching = false;
        this.watch();
      });
      return;
    }
    Atomics.store(w, PARKED, 0);
  }

  private settleFinished(): void {
    const h = this.handoff;
    for (let s = 0; s < h.slots; s++) {
      const p = this.pending[s];
      if (!p) continue;
      const state = h.state(s);
      if (state === FINISHED) this.settle(s, () => p.resolve(h.result(s)));
      else if (state === FAILED) {
        const { code, message } = h.error(s);
        this.settle(s, () => p.reject(new QuiverError(code, message)));
      }
    }
  }

  /** Frees a slot, then answers its caller (who may queue the lane again at once). */
  private settle(slot: number, answer: () => void): void {
    this.pending[slot] = undefined;
    this.handoff.setState(slot, FREE);
    if (--this.inFlight === 0) for (const t of this.threads) this.unrefIfIdle(t);
    answer();
  }

  /** Idle threads must not keep the process alive: none with a search or a link in flight. */
  private unrefIfIdle(t: Thread): void {
    if (this.inFlight === 0 && t.links.size === 0) t.worker.unref();
  }

  /** A thread died: the searches and links it was running fail; if none is left, so do the queued searches. */
  private lost(t: Thread, why: string, cause?: unknown, code: ErrorCode = "INTERNAL"): void {
    if (!t.failed) this.alive--;
    t.failed ??= new QuiverError(code, why, { cause });
    for (const p of t.links.values()) p.reject(t.failed);
    t.links.clear();
    const running = RUNNING + this.threads.indexOf(t);
    const none = this.threads.every((x) => x.failed);
    for (let s = 0; s < this.handoff.slots; s++) {
      if (!this.pending[s]) continue;
      const state = this.handoff.state(s);
      if (state === running || (none && state === QUEUED && this.handoff.move(s, QUEUED, FREE))) {
        const p = this.pending[s]!;
        this.settle(s, () => p.reject(t.failed));
      }
    }
    // Releases the waitAsync on DONE if nothing is left to wait for.
    if (this.inFlight === 0) this.handoff.bump(DONE);
  }
}
