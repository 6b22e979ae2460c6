// Parallel queries: the graph searches of many queries at once, each in a search lane (lanes.ts) run by a
// reader thread over the slab's shared memory, while the calling thread keeps everything else (filters,
// planning, fusion, payloads). The threads themselves are an adapter's (src/node/search-threads.ts): the
// core only states what it asks of them (SearchThreads) and decides when they may run.
//
// Consistency: a readers-writer gate, not snapshots. A query is one read section, from its plan to its
// payloads: every change of the graphs (a write group's reservation and its application, a checkpoint's
// consolidation, a follower's refresh, close) is an exclusive section, which waits for the queries in
// flight and holds new ones until it ends. So a query sees the state of one moment, as it does on the
// calling thread, and a reader never follows a link, reads a region or a memory length that a writer is
// changing: the memory's growth, which hands the writer a longer buffer, and the regions that move with
// it both happen inside exclusive sections, and each one ends by making every lane ready again
// (offsets rewritten, lanes sized for the new capacity), so a read section never has to change anything.

import { QuiverError } from "../../errors/errors.js";
import type { GraphCall, PlanSteps } from "../../query/plan/vector-plan.js";
import type { HnswHits, LaneCall } from "./hnsw.js";
import type { LinkCall } from "./parallel-build.js";

/** What the core asks of the threads an adapter runs (in Node: worker_threads). */
export interface SearchThreads {
  /** Number of threads. */
  readonly size: number;
  /**
   * Number of lanes the threads take searches from: at most this many graph searches are handed over at
   * once (any free thread runs any lane; more lanes than threads let a search wait queued for one).
   */
  readonly lanes: number;
  /**
   * Runs the HNSW module's searchLane(call) for lane `lane` (in [0, lanes), one search per lane at a time)
   * in a thread, over `memory` (instantiating `module` over it there on first use), and resolves with its
   * result. Rejects with a QuiverError when the thread fails, once nothing runs in the lane any more.
   */
  searchLane(lane: number, memory: WebAssembly.Memory, module: WebAssembly.Module, call: LaneCall): Promise<number>;
  /**
   * Runs a parallel build's claim loop (linkClaimed of parallel-build.ts) in thread `thread` over
   * `memory`, and resolves with the slots it linked. Rejects with a QuiverError when the thread fails.
   */
  link(thread: number, memory: WebAssembly.Memory, module: WebAssembly.Module, call: LinkCall): Promise<number>;
  /** Forgets every memory not in `live` (their slabs were disposed). */
  retain(live: Set<WebAssembly.Memory>): void;
  /** Stops the threads. */
  close(): Promise<void>;
}

/**
 * Readers share the gate; an exclusive section waits until none is inside and admits none until it ends.
 * A waiting exclusive section goes before readers that arrive after it, so writes are never starved.
 */
export class ReadGate {
  private readers = 0;
  /** Settles when the exclusive section in progress (or waiting) ends. */
  private held: Promise<void> | null = null;
  private drained: (() => void) | null = null;

  async enter(): Promise<void> {
    while (this.held) await this.held;
    this.readers++;
  }

  /** Enters at once when no exclusive section is held or waiting (no promise to await); else false. */
  tryEnter(): boolean {
    if (this.held) return false;
    this.readers++;
    return true;
  }

  leave(): void {
    this.readers--;
    if (this.readers === 0) this.drained?.();
  }

  async exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    while (this.held) await this.held;
    let release!: () => void;
    this.held = new Promise((r) => {
      release = r;
    });
    try {
      if (this.readers > 0) {
        await new Promise<void>((r) => {
          this.drained = r;
        });
        this.drained = null;
      }
      return await fn();
    } finally {
      this.held = null;
      release();
    }
  }
}

const NO_HITS: HnswHits = { slots: [], scores: [], visited: 0 };

/**
 * Queries with their graph searches in threads, under the gate.
 *
 * @example
 * const parallel = new ParallelSearch(threads, hnswModule, () => prepareEveryIndex());
 * const result = await parallel.read(() => parallel.run(searchSteps(state, spec, 10)));
 * await parallel.exclusive(() => applyWrites());   // waits for the queries in flight
 */
export class ParallelSearch {
  private readonly gate = new ReadGate();
  private readonly free: number[];
  private readonly waiting: ((lane: number) => void)[] = [];

  /**
   * @param ready called at the end of every exclusive section (and by start()): makes `threads.lanes` lanes
   * of every index ready (HnswIndex.prepareLanes), and lets the threads forget memories that are gone.
   */
  constructor(
    private readonly threads: SearchThreads,
    private readonly module: WebAssembly.Module,
    private readonly ready: () => void,
  ) {
    this.free = Array.from({ length: threads.lanes }, (_, i) => threads.lanes - 1 - i);
  }

  /** A read section: `body` sees one state of the database; graph changes wait until it ends. */
  async read<T>(body: () => Promise<T>): Promise<T> {
    if (!this.gate.tryEnter()) await this.gate.enter();
    try {
      return await body();
    } finally {
      this.gate.leave();
    }
  }

  /** An exclusive section: waits for the read sections in flight, runs `fn`, readies the lanes. */
  exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.gate.exclusive(async () => {
      try {
        return await fn();
      } finally {
        this.ready();
      }
    });
  }

  /** Runs a plan (inside a read section) with its graph searches in the threads. */
  async run<T>(steps: PlanSteps<T>): Promise<T> {
    let step = steps.next();
    while (!step.done) {
      let hits: HnswHits;
      try {
        hits = await this.graph(step.value);
      } catch (e) {
        step = steps.throw(e);
        continue;
      }
      step = steps.next(hits);
    }
    return step.value;
  }

  close(): Promise<void> {
    return this.gate.exclusive(() => this.threads.close());
  }

  private async graph(c: GraphCall): Promise<HnswHits> {
    if (!c.index.lanesReady(this.threads.lanes)) {
      // Every exclusive section ends by readying the lanes; a graph changed outside one is a bug to see.
      throw new QuiverError("INTERNAL", "a graph changed outside the search threads' gate: its lanes are not ready");
    }
    const lane = await this.acquire();
    try {
      const call = c.index.laneCall(lane, c.query, c.k, c.opts);
      if (call === null) return NO_HITS;
      let found: number;
      try {
        found = await this.threads.searchLane(lane, c.index.slab.wasmMemory, this.module, call);
      } catch (e) {
        // The search may have stopped midway (its thread died, the module trapped): the lane's marks are stale.
        c.index.resetLane(lane);
        throw e;
      }
      // Read before the lane is handed to the next query.
      return c.index.laneHits(lane, c.query, c.k, found);
    } finally {
      this.release(lane);
    }
  }

  private acquire(): Promise<number> | number {
    const t = this.free.pop();
    if (t !== undefined) return t;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(lane: number): void {
    const next = this.waiting.shift();
    if (next) next(lane);
    else this.free.push(lane);
  }
}
