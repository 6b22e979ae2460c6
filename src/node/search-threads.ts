// SearchThreads on node:worker_threads (also what Bun and Deno provide under that name): N workers running
// search-thread.ts, each handed the shared slab memories it searches. The core decides what runs when
// (src/core/index/hnsw/parallel.ts); this file only carries calls and answers, and turns a thread's failure
// into a QuiverError for every call it had in flight.

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { QuiverError, type ErrorCode } from "../core/errors/errors.js";
import type { LaneCall } from "../core/index/hnsw/hnsw.js";
import type { SearchThreads } from "../core/index/hnsw/parallel.js";
import type { LinkCall } from "../core/index/hnsw/parallel-build.js";

/** The default number of search threads where one is wanted (`quiver serve`): one per core. */
export function defaultThreadCount(): number {
  return availableParallelism();
}

interface Pending {
  resolve(found: number): void;
  reject(e: unknown): void;
}

class Thread {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  /** The memories this thread has an instance over, by the pool's id. */
  readonly attached = new Set<number>();
  failed: QuiverError | null = null;

  constructor(index: number) {
    this.worker = new Worker(new URL("./search-thread.js", import.meta.url), { name: `quiver-search-${index}` });
    // Idle threads must not keep a process alive (a database left open still lets a script end); a
    // thread with a search in flight must (Deno ends a test whose only pending work is an unref'd worker).
    this.worker.unref();
    this.worker.on("message", (m: { seq: number; found?: number; error?: { code: ErrorCode; message: string } }) => {
      const p = this.pending.get(m.seq);
      if (!p) return;
      this.pending.delete(m.seq);
      if (this.pending.size === 0) this.worker.unref();
      if (m.error) p.reject(new QuiverError(m.error.code, `search thread ${index}: ${m.error.message}`));
      else p.resolve(m.found!);
    });
    const fail = (why: string, cause?: unknown) => {
      this.failed ??= new QuiverError("INTERNAL", `search thread ${index} ${why}`, { cause });
      for (const p of this.pending.values()) p.reject(this.failed);
      this.pending.clear();
    };
    this.worker.on("error", (e) => fail(`failed: ${e instanceof Error ? e.message : String(e)}`, e));
    this.worker.on("exit", (code) => fail(`exited (code ${code})`));
  }
}

/**
 * @example
 * const threads = new NodeSearchThreads(2);
 * const found = await threads.searchLane(0, slab.wasmMemory, hnswModule, index.laneCall(0, q, 10)!);
 * await threads.close();
 */
export class NodeSearchThreads implements SearchThreads {
  readonly size: number;
  private readonly threads: Thread[];
  private readonly ids = new Map<WebAssembly.Memory, number>();
  private nextId = 1;
  private seq = 0;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1 || size > 256) {
      throw new QuiverError("INVALID_ARGUMENT", `threads must be an integer in [1, 256], got ${size}`);
    }
    this.size = size;
    this.threads = Array.from({ length: size }, (_, i) => new Thread(i));
  }

  searchLane(thread: number, memory: WebAssembly.Memory, module: WebAssembly.Module, call: LaneCall): Promise<number> {
    return this.send(thread, memory, module, (seq, id) => ({
      seq,
      id,
      call: [call.hdr, call.lane, call.k, call.ef, call.filterMode],
    }));
  }

  link(thread: number, memory: WebAssembly.Memory, module: WebAssembly.Module, call: LinkCall): Promise<number> {
    // The queue's SharedArrayBuffer is shared with the thread, not copied: they claim from one counter.
    return this.send(thread, memory, module, (seq, id) => ({
      seq,
      id,
      link: [call.hdr, call.lane],
      queue: call.queue,
    }));
  }

  /** Posts a call to thread `thread` (attaching `memory` there first) and resolves with its answer. */
  private send(
    thread: number,
    memory: WebAssembly.Memory,
    module: WebAssembly.Module,
    message: (seq: number, id: number) => object,
  ): Promise<number> {
    const t = this.threads[thread];
    if (t.failed) return Promise.reject(t.failed);
    let id = this.ids.get(memory);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(memory, id);
    }
    if (!t.attached.has(id)) {
      t.worker.postMessage({ attach: id, memory, module });
      t.attached.add(id);
    }
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      if (t.pending.size === 0) t.worker.ref();
      t.pending.set(seq, { resolve, reject });
      t.worker.postMessage(message(seq, id));
    });
  }

  retain(live: Set<WebAssembly.Memory>): void {
    for (const [memory, id] of this.ids) {
      if (live.has(memory)) continue;
      this.ids.delete(memory);
      for (const t of this.threads) {
        if (t.attached.delete(id)) t.worker.postMessage({ forget: id });
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
