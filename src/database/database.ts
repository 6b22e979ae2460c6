/**
 * The embedded database: opens a Directory, recovers it, and serves collections. Writes go
 * through the single Writer (WAL group commit, then apply); reads are answered from memory.
 * Checkpoints run in the background when the WAL passes `walMaxBytes`, and at close. Opened with
 * `readOnly`, it is a reader beside another process's writer instead (follower.ts): no lock, no
 * writes, and the writer's new records applied at each refresh.
 */
import { ensureStopWords, type StopWordLoader } from "./stop-words-on-demand.js";
import { QuiverError } from "../core/errors/errors.js";
import type { DatabaseApi, DatabaseStats } from "../api/types.js";
import { loadKernelFactory } from "../core/kernels/load.js";
import { hnswModuleOrReason } from "../core/index/hnsw/module.js";
import { writeFileAtomic, type Directory, type DirectoryLock } from "../storage/directory.js";
import { MANIFEST_FILE, emptyManifest, encodeManifest } from "../storage/manifest.js";
import { WalWriter } from "../storage/wal.js";
import type { Manifest } from "../storage/manifest.js";
import { Follower, type FollowTarget } from "./follower.js";
import { CheckpointOutcomeUnknown, takeCheckpoint, writeCheckpoint } from "./checkpoint.js";
import { type FreezeRoom, prepareFreezeRoom } from "./freeze-room.js";
import { Collection, type CollectionHost, type InputHook } from "./collection.js";
import type { CollectionState, StateEnv } from "./collection-state.js";
import type { TextPlugins } from "../core/analysis/analyzer.js";
import { DEFAULT_LIMITS, type Limits } from "../api/limits.js";
import type { Op } from "./ops.js";
import { applyOp } from "./apply.js";
import { describeDamage, recover, type IfCorrupt, type Recovered, type RecoveryReport } from "./recovery.js";
import type { CollectionInfo, CollectionSchema } from "../core/schema/schema.js";
import { checkName, validateSchema } from "./validate.js";
import { Writer } from "./writer.js";
import { type AdmitRecords, GroupReservation } from "./reserve.js";
import type { GrowHook } from "../core/vectors/slab.js";
import type { ParallelSearch, SearchThreads } from "../core/index/hnsw/parallel.js";
import { DeferredInserts } from "./graph-inserts.js";
import { PARALLEL_BUILD_MIN } from "../core/index/hnsw/parallel-build.js";

export interface DatabaseOptions {
  /** Checkpoint once the WAL grows past this many bytes (default 64 MiB). */
  walMaxBytes?: number;
  /** Compact a collection into one segment once it has more than this many (default 8). */
  maxSegments?: number;
  limits?: Partial<Limits>;
  /** "scalar" forces the TypeScript kernels (for comparison); default picks WebAssembly SIMD when available. */
  kernels?: "simd" | "scalar";
  /**
   * The WebAssembly modules, compiled by the host, for runtimes that forbid compiling WebAssembly
   * from bytes (workerd, pages with a strict CSP); without them Quiver compiles its embedded copies.
   * docs/runtimes.md shows how to obtain them.
   */
  wasm?: { kernels?: WebAssembly.Module; hnsw?: WebAssembly.Module };
  /**
   * Open as a reader beside the process that writes the directory (e.g. `quiver serve`): no writer
   * lock is taken, nothing on disk is created, changed or removed (derived data stays in memory),
   * and every write method rejects with READ_ONLY. The reader sees the last checkpoint plus the log
   * as of opening, and the writer's later writes after `db.refresh()` or automatically (see
   * `refreshIntervalMs`). docs/readers.md has the details.
   */
  readOnly?: boolean;
  /**
   * With `readOnly`: how often (ms) to pick up the writer's new writes in the background (default
   * 1000; 0 turns it off, leaving `db.refresh()`). The timer never keeps a process alive.
   */
  refreshIntervalMs?: number;
  /**
   * What to do when stored files are damaged (docs/durability.md). "fail" (default): `open` rejects
   * with CORRUPT naming the file, offset and sequence number. "readOnly": open what can be read,
   * report the damage in `db.recovery.damage`, and refuse every write with READ_ONLY; nothing on
   * disk is changed, so `quiver repair` can still act on it.
   */
  ifCorrupt?: IfCorrupt;
  /** Called with anything recovery or a background checkpoint had to report. */
  onWarning?: (message: string) => void;
  /**
   * Rewrites upsert and query input before validation. `open()` from the package entry sets it to
   * the embedder registry (src/embed/bind.ts), so vectors bound to an embedder accept text.
   */
  inputHook?: InputHook;
  /**
   * Language resources for text analyzers (stemmers, stop-word lists). `open()` from the package
   * entry supplies English stemming and about 60 stop-word lists; entries given here are added.
   */
  text?: TextPlugins;
  /**
   * Loads the stop-word lists a schema names that `text` lacks, before the schema is used (a
   * collection created, or found when the database opens). The browser entry's `open()` sets it to
   * its on-demand loader; codes the loader does not know are left for validation to report.
   */
  loadStopWords?: StopWordLoader;
  /**
   * Asked before any vector memory grows, with the bytes wanted and held and the slab's name
   * ("collection.vector"); returning false refuses the growth, which fails as RESOURCE_EXHAUSTED.
   * For tests that fail allocations on demand, and to cap memory; default: always allowed.
   */
  growHook?: GrowHook;
  /**
   * Asked with the number of records a write adds, before it is logged; throwing refuses the write.
   * The Node entry's `open()` refuses (RESOURCE_EXHAUSTED) while the JavaScript heap is nearly full,
   * where ids, payloads and their indexes live (src/node/heap-usage.ts). Absent: always admitted.
   */
  admitRecords?: AdmitRecords;
  /**
   * Threads that run the graph searches of queries (the Node entry's `open(path, { threads })` makes
   * them): vector memories are then shared, and many queries search at once; docs/threads.md. The
   * database stops them at close. Absent: every query runs on the calling thread.
   */
  searchThreads?: SearchThreads;
}

function newUid(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The kernels and the HNSW module for this runtime. Where the HNSW module cannot run (no SIMD, or
 * compiling refused), the database still opens: exact scans with the kernels it has (scalar without
 * SIMD), said in stats(), in every vector query's plan, and once through onWarning.
 */
async function searchEnv(options: DatabaseOptions): Promise<Pick<StateEnv, "kernels" | "hnsw" | "hnswUnavailable">> {
  // Search threads read the slabs' memories from other threads: those memories are shared ones.
  const shared = options.searchThreads !== undefined;
  const kernels = await loadKernelFactory(options.kernels, options.wasm?.kernels, shared);
  const hnsw = await hnswModuleOrReason(options.wasm?.hnsw, shared);
  if (!hnsw.module) {
    const unavailable = `${hnsw.unavailable}; vector queries scan exactly with the ${kernels.name} kernels`;
    options.onWarning?.(unavailable);
    return { kernels, hnsw: null, hnswUnavailable: unavailable };
  }
  return { kernels, hnsw: hnsw.module };
}

export class Database implements DatabaseApi {
  readonly limits: Limits;
  private readonly writer: Writer;
  /** What collection handles reach the write path through; private, so only their validated methods can. */
  readonly #host: CollectionHost;
  private closed = false;
  private checkpointing: Promise<void> | null = null;
  /** Memory faulted in for the next checkpoint's graph copies, and its preparation while under way. */
  private freezeRoom: FreezeRoom | null = null;
  private freezeRoomPending: Promise<void> | null = null;
  /** Set by close(): the outcome of its final checkpoint (resolved when none was needed). */
  private finalCheckpoint: Promise<void> | null = null;
  private walNumbers: number[];
  /** Set on a read-only database: follows the writer's files. */
  private follower: Follower | null = null;
  private refreshTimer: ReturnType<typeof setInterval> | undefined;
  /** The refreshes queued or running, one after the other. */
  private refreshing: Promise<void> = Promise.resolve();
  private refreshPending = false;
  /** The search threads' scheduler and gate; null when queries run on the calling thread. */
  private parallel: ParallelSearch | null = null;
  /** The current group's graph inserts, held for the threads (#applyLogged); null when none. */
  private deferred: DeferredInserts | null = null;

  private constructor(
    private readonly dir: Directory,
    private readonly lock: DirectoryLock,
    private readonly env: StateEnv,
    private readonly collections: Map<string, CollectionState>,
    private segmentsOf: Map<string, string[]>,
    private indexFileOf: Map<string, string>,
    /** Null when the database is read-only (a reader, or damaged files opened with `ifCorrupt: "readOnly"`). */
    private wal: WalWriter | null,
    private seq: number,
    private checkpointSeq: number,
    private nextFileNumber: number,
    /** What recovery found and repaired when this database was opened. */
    readonly recovery: RecoveryReport,
    private readonly options: Required<Pick<DatabaseOptions, "walMaxBytes" | "maxSegments">> & DatabaseOptions,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#host = {
      limits: this.limits,
      input: options.inputHook,
      state: (uid) => this.collections.get(uid),
      write: (readsState, prepare, apply) => this.#write(readsState, prepare, apply),
      applyLogged: (ops) => this.#applyLogged(ops),
      ensureWritable: () => this.#ensureWritable(),
      parallel: () => this.parallel,
    };
    this.walNumbers = wal ? [wal.number] : [];
    const reservation = new GroupReservation(collections, this.limits.maxRecordsPerCollection, options.admitRecords);
    this.writer = new Writer({
      nextSeq: () => ++this.seq,
      currentSeq: () => this.seq,
      // A group that was never logged gives its sequence numbers back, so the log has no gaps.
      rewindSeq: (to) => {
        this.seq = to;
      },
      commit: (framed) => this.wal!.commit(framed),
      reserve: (ops, first) => {
        if (first) reservation.reset();
        reservation.add(ops);
      },
      settle: () => this.buildDeferred(),
      afterGroup: () => this.maybeCheckpoint(),
      holdReaders: () => this.holdReaders(),
    });
  }

  /** Opens (or creates) the database stored in `dir`. Prefer `open()` from the package entry. */
  static async openDirectory(dir: Directory, options: DatabaseOptions = {}): Promise<Database> {
    if (options.readOnly) return Database.openReader(dir, options);
    const lock = await dir.lock();
    try {
      const env: StateEnv = {
        ...(await searchEnv(options)),
        text: options.text ?? {},
        loadStopWords: options.loadStopWords,
        growHook: options.growHook,
      };
      if (dir.openScratch) env.scratch = (name) => dir.openScratch!(name);
      const r = await recover(dir, env, { ifCorrupt: options.ifCorrupt });
      for (const w of r.report.warnings) options.onWarning?.(w);
      for (const d of r.report.damage) options.onWarning?.(`damaged, opened read-only: ${describeDamage(d)}`);
      let next = r.nextFileNumber;
      const last = r.wals[r.wals.length - 1];
      let wal: WalWriter | null = null;
      if (r.report.damage.length === 0) {
        wal = last ? await WalWriter.reopen(dir, last.number, last.validLength) : await WalWriter.create(dir, next++);
        if (!r.manifestFound) {
          // The first manifest, written after the first WAL: from now on a directory with segments
          // but no manifest is damage, never a half-created database (see recovery.ts).
          const first = { ...emptyManifest(), walStart: r.wals[0]?.number ?? wal.number, nextFileNumber: next };
          await writeFileAtomic(dir, MANIFEST_FILE, encodeManifest(first));
        }
      }
      const db = new Database(
        dir,
        lock,
        env,
        r.collections,
        r.segmentsOf,
        r.indexFileOf,
        wal,
        r.seq,
        r.manifest.checkpointSeq,
        next,
        r.report,
        {
          walMaxBytes: options.walMaxBytes ?? 64 << 20,
          maxSegments: options.maxSegments ?? 8,
          ...options,
        },
      );
      if (wal) db.walNumbers = r.wals.length > 0 ? r.wals.map((w) => w.number) : [wal.number];
      await db.startThreads();
      return db;
    } catch (e) {
      await lock.release().catch(() => undefined);
      throw e;
    }
  }

  /** The read-only opener: no lock, no scratch files (derived data stays in memory), nothing written. */
  private static async openReader(dir: Directory, options: DatabaseOptions): Promise<Database> {
    const env: StateEnv = {
      ...(await searchEnv(options)),
      text: options.text ?? {},
      loadStopWords: options.loadStopWords,
    };
    const { follower, loaded } = await Follower.load(dir, env);
    for (const w of loaded.report.warnings) options.onWarning?.(w);
    const noLock: DirectoryLock = { release: async () => undefined };
    const db = new Database(
      dir,
      noLock,
      env,
      loaded.collections,
      loaded.segmentsOf,
      loaded.indexFileOf,
      null,
      loaded.seq,
      loaded.manifest.checkpointSeq,
      loaded.nextFileNumber,
      loaded.report,
      { walMaxBytes: 0, maxSegments: 0, ...options },
    );
    db.follower = follower;
    await db.startThreads();
    const every = options.refreshIntervalMs ?? 1000;
    if (every > 0) {
      db.refreshTimer = setInterval(() => {
        // A refresh still running covers this tick; a failure is reported and retried at the next.
        if (db.refreshPending) return;
        db.refresh().catch((e) => options.onWarning?.(`refresh failed: ${e instanceof Error ? e.message : String(e)}`));
      }, every);
      // Node and Bun: an idle reader must not keep the process alive.
      (db.refreshTimer as { unref?: () => void }).unref?.();
    }
    return db;
  }

  /**
   * Applies the writes the writer has made since the last refresh (on a read-only database; a
   * writable one is always current). Resolves once every write acknowledged before the call is visible.
   */
  async refresh(): Promise<void> {
    this.ensureOpen();
    const follower = this.follower;
    if (!follower) return;
    this.refreshPending = true;
    const run = this.refreshing.then(() => {
      this.refreshPending = false;
      if (this.closed) return;
      // A refresh changes graphs: search threads wait for it.
      return this.parallel
        ? this.parallel.exclusive(() => follower.refresh(this.followTarget()))
        : follower.refresh(this.followTarget());
    });
    this.refreshing = run.catch(() => undefined);
    await run;
  }

  private followTarget(): FollowTarget {
    return {
      appliedSeq: () => this.seq,
      apply: (op, seq) => {
        // Nothing is ever checkpointed here, so changes are not tracked for one.
        applyOp(op, this.collections, this.env, false);
        this.seq = seq;
      },
      replace: (loaded: Recovered) => {
        // The same Map object: Collection handles look their state up by uid at each call.
        for (const c of this.collections.values()) c.dispose();
        this.collections.clear();
        for (const [uid, c] of loaded.collections) this.collections.set(uid, c);
        this.segmentsOf = loaded.segmentsOf;
        this.indexFileOf = loaded.indexFileOf;
        this.seq = loaded.seq;
        this.checkpointSeq = loaded.manifest.checkpointSeq;
      },
      adopt: (manifest: Manifest) => {
        this.segmentsOf = new Map(manifest.collections.map((c) => [c.uid, [...c.segments]]));
        this.indexFileOf = new Map(
          manifest.collections.flatMap((c) => (c.indexFile ? [[c.uid, c.indexFile] as const] : [])),
        );
        this.checkpointSeq = manifest.checkpointSeq;
      },
    };
  }

  private ensureOpen(): void {
    if (this.closed) throw new QuiverError("CLOSED", "the database is closed");
  }

  /**
   * True when opened with `readOnly` (a reader beside another process's writer), or when damaged
   * files were opened with `ifCorrupt: "readOnly"` (`recovery.damage` says what).
   */
  get readOnly(): boolean {
    return this.wal === null;
  }

  /** Throws READ_ONLY on a read-only database; every write path checks this first. */
  #ensureWritable(): void {
    this.ensureOpen();
    if (this.follower) {
      throw new QuiverError(
        "READ_ONLY",
        "the database was opened read-only (a reader beside the writer); write through the process that has it open for writing",
      );
    }
    if (this.readOnly) {
      const first = describeDamage(this.recovery.damage[0]);
      throw new QuiverError(
        "READ_ONLY",
        `the database was opened read-only because stored files are damaged (${first}); see db.recovery.damage and \`quiver repair\``,
      );
    }
  }

  /** Submits a write; see Writer for the ordering guarantees. */
  #write<T>(readsState: boolean, prepare: () => Op[], apply: (ops: Op[]) => T): Promise<T> {
    this.#ensureWritable();
    return this.writer.submit({ readsState, prepare, apply });
  }

  /**
   * Applies logged operations to memory (the same code replay uses). With two or more search threads,
   * the graph inserts of an upsert of PARALLEL_BUILD_MIN records or more, and of the rest of its group,
   * wait for the end of the group, to be built by every thread (buildDeferred); groups of smaller
   * writes insert as they apply, as without threads.
   */
  #applyLogged(ops: Op[]): number {
    const threads = this.options.searchThreads;
    const bulk = ops.some((op) => op.type === "upsert" && op.records.length >= PARALLEL_BUILD_MIN);
    if (bulk && this.parallel && threads && threads.size >= 2) this.deferred ??= new DeferredInserts();
    const deferred = this.deferred ?? undefined;
    let n = 0;
    for (const op of ops) n += Math.max(0, applyOp(op, this.collections, this.env, true, deferred));
    return n;
  }

  /** The group's deferred graph inserts, built by the search threads and this one (writer.ts settle). */
  private async buildDeferred(): Promise<void> {
    const deferred = this.deferred;
    if (!deferred) return;
    this.deferred = null;
    await deferred.flush(this.options.searchThreads!);
  }

  private stateByName(name: string): CollectionState | undefined {
    for (const c of this.collections.values()) if (c.name === name) return c;
    return undefined;
  }

  /**
   * Creates a collection.
   * @example
   * const docs = await db.createCollection("docs", { vectors: { text: { dim: 384, metric: "cosine" } }, indexes: { lang: "keyword" } });
   */
  async createCollection(
    name: string,
    schema: CollectionSchema,
    opts: { ifNotExists?: boolean } = {},
  ): Promise<Collection> {
    this.#ensureWritable();
    const problems: { path: string; message: string }[] = [];
    checkName(name, "name", problems);
    if (problems.length > 0) throw QuiverError.fromProblems("INVALID_ARGUMENT", problems);
    await ensureStopWords(this.env, schema);
    const valid = validateSchema(schema, this.limits, this.env.text);
    const uid = newUid();
    return this.#write(
      true,
      () => {
        const existing = this.stateByName(name);
        if (existing) {
          if (opts.ifNotExists) return [];
          throw new QuiverError("ALREADY_EXISTS", `collection "${name}" already exists`);
        }
        if (this.collections.size >= this.limits.maxCollections) {
          throw new QuiverError("PAYLOAD_TOO_LARGE", `at most ${this.limits.maxCollections} collections per database`);
        }
        return [{ type: "create", name, uid, schema: valid }];
      },
      (ops) => {
        this.#applyLogged(ops);
        return new Collection(this.#host, this.stateByName(name)!.uid, name);
      },
    );
  }

  /** A handle to an existing collection; rejects NOT_FOUND when there is none. */
  async collection(name: string): Promise<Collection> {
    this.ensureOpen();
    const state = this.stateByName(name);
    if (!state) throw new QuiverError("NOT_FOUND", `collection "${name}" does not exist`);
    return new Collection(this.#host, state.uid, name);
  }

  async listCollections(): Promise<CollectionInfo[]> {
    this.ensureOpen();
    return [...this.collections.values()]
      .map((c) => ({ name: c.name, schema: structuredClone(c.schema), count: c.size }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Drops a collection and all its records; resolves false when it did not exist. */
  async dropCollection(name: string): Promise<boolean> {
    return this.#write(
      true,
      () => {
        const state = this.stateByName(name);
        return state ? [{ type: "drop", uid: state.uid }] : [];
      },
      (ops) => {
        this.#applyLogged(ops);
        return ops.length > 0;
      },
    );
  }

  async stats(): Promise<DatabaseStats> {
    this.ensureOpen();
    return {
      collections: [...this.collections.values()].map((c) => ({
        name: c.name,
        count: c.size,
        vectorBytes: c.memoryBytes(),
        vectorDiskBytes: c.diskBytes(),
        textBytes: c.textBytes(),
        segments: this.segmentsOf.get(c.uid)?.length ?? 0,
        vectors: c.vectorStats(),
      })),
      kernels: this.env.kernels.name,
      ...(this.env.hnswUnavailable && { hnswUnavailable: this.env.hnswUnavailable }),
      walBytes: this.wal?.size ?? this.follower?.walBytes ?? 0,
      lastCheckpointSeq: this.checkpointSeq,
      seq: this.seq,
    };
  }

  /** Starts answering queries' graph searches in the search threads (when options.searchThreads is set). */
  private async startThreads(): Promise<void> {
    const threads = this.options.searchThreads;
    if (!threads) return;
    const warn = (m: string) => this.options.onWarning?.(m);
    try {
      // Loaded only with threads: a bundle of the core (browsers, workers) never carries it.
      const { parallelReads } = await import("./parallel-reads.js");
      this.parallel = await parallelReads(threads, this.env.hnsw, this.collections, warn);
    } catch (e) {
      // The caller (the entry's open()) stops the threads.
      await this.close().catch(() => undefined);
      throw e;
    }
  }

  /** Holds the search threads off the graphs until the returned function is called (writer.ts). */
  private holdReaders(): Promise<() => void> {
    const parallel = this.parallel;
    if (!parallel) return Promise.resolve(() => undefined);
    return new Promise((held) => {
      void parallel.exclusive(() => new Promise<void>((release) => held(release)));
    });
  }

  /**
   * Starts faulting in memory for the next checkpoint's graph copies (freeze-room.ts), unless that
   * is under way or done; its failure (no memory to spare) only means the copies use new memory.
   */
  private prepareFreezeRoom(): Promise<void> {
    if (this.freezeRoom) return Promise.resolve();
    const done = (room: FreezeRoom | null): void => {
      this.freezeRoom = room;
      this.freezeRoomPending = null;
    };
    this.freezeRoomPending ??= prepareFreezeRoom([...this.collections.values()].flatMap((c) => c.changedGraphs())).then(
      done,
      () => done(null),
    );
    return this.freezeRoomPending;
  }

  private async maybeCheckpoint(): Promise<void> {
    // Three quarters of the way to the limit, the next checkpoint's memory starts being prepared.
    if (this.wal!.size * 4 >= this.options.walMaxBytes * 3) void this.prepareFreezeRoom();
    // While one runs the WAL keeps growing; the first group after it ends starts the next.
    if (this.wal!.size < this.options.walMaxBytes || this.checkpointing) return;
    try {
      await this.startCheckpoint();
    } catch (e) {
      // The current WAL stays in use, so no write is affected; the next group retries.
      this.options.onWarning?.(
        `could not start a checkpoint (writes continue in the current WAL): ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  /**
   * Rotates the WAL and starts writing a checkpoint in the background (checkpoint.ts). Runs inside
   * the writer (between groups), so the snapshot matches the rotated WAL exactly, and only when no
   * checkpoint is running (two never overlap: callers wait for `checkpointing` outside the writer,
   * so writes go on meanwhile). Returns the checkpoint's own outcome (wrapped, so that awaiting this
   * does not wait for it) for callers who asked for one; `checkpointing` settles either way, after
   * reporting a failure as a warning.
   */
  private async startCheckpoint(): Promise<{ done: Promise<void> }> {
    if (this.checkpointing) throw new QuiverError("INTERNAL", "a checkpoint started while another was running");
    // A poisoned writer (failed fsync, a logged write that did not apply, a checkpoint whose outcome
    // is unknown) may have memory that differs from the log, and an unknown checkpoint has consumed
    // deltas it never published: a checkpoint now could drop WAL files holding acknowledged writes.
    if (this.writer.poisoned) throw this.writer.poisoned;
    const wal = this.wal!;
    const next = await WalWriter.create(this.dir, this.nextFileNumber++);
    // Swap and take synchronously: no write can be applied between the two.
    this.wal = next;
    const obsolete = [...this.walNumbers];
    this.walNumbers.push(next.number);
    const plan = takeCheckpoint(
      this.collections.values(),
      this.segmentsOf,
      this.indexFileOf,
      this.options.maxSegments,
      this.seq,
      next.number,
      obsolete,
      this.freezeRoom ?? undefined,
    );
    this.freezeRoom = null;
    await wal.close().catch(() => undefined);
    const done = writeCheckpoint(this.dir, plan, () => this.nextFileNumber++).then(
      (result) => {
        this.segmentsOf = result.segmentsOf;
        this.indexFileOf = result.indexFileOf;
        this.checkpointSeq = plan.checkpointSeq;
        this.walNumbers = this.walNumbers.filter((n) => !obsolete.includes(n));
      },
      (e: unknown) => {
        // Which manifest is on disk is unknown: memory's idea of the segments may be wrong, so
        // later writes wait for a reopen, which reads the one that is there.
        if (e instanceof CheckpointOutcomeUnknown) this.writer.poisoned ??= e;
        throw e;
      },
    );
    this.checkpointing = done
      .catch((e) => {
        this.options.onWarning?.(
          e instanceof CheckpointOutcomeUnknown
            ? e.message
            : `checkpoint failed, will retry at the next one (nothing is lost: the WAL is kept): ${e instanceof Error ? e.message : String(e)}`,
        );
      })
      .finally(() => {
        this.checkpointing = null;
      });
    return { done };
  }

  /** Writes a checkpoint now and waits for it; rejects when it fails (e.g. IO on a full disk). Useful before a backup. */
  async checkpoint(): Promise<void> {
    this.#ensureWritable();
    await this.prepareFreezeRoom();
    for (;;) {
      // A running checkpoint (an automatic one) may not hold every write made before this call.
      await this.checkpointing;
      // close() came first: its final checkpoint covers every write made before this call.
      if (this.closed) return this.finalCheckpoint!;
      const started = await this.writer.exclusive(async () =>
        this.checkpointing || this.closed ? null : this.startCheckpoint(),
      );
      if (started) return started.done;
    }
  }

  /** Finishes pending writes, writes a final checkpoint, and releases the directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.writer.idle();
    let settleFinal!: (outcome: Promise<void>) => void;
    this.finalCheckpoint = new Promise<void>((resolve) => (settleFinal = resolve));
    this.finalCheckpoint.catch(() => undefined); // reported through onWarning; checkpoint() callers see it too
    this.closed = true;
    clearInterval(this.refreshTimer);
    await this.refreshing;
    // Queries in flight finish first; the final checkpoint consolidates graphs, so no thread may read them.
    const parallel = this.parallel;
    if (parallel) {
      const release = await this.holdReaders();
      try {
        await this.closeFiles(settleFinal);
      } finally {
        release();
        await parallel.close();
      }
      return;
    }
    await this.closeFiles(settleFinal);
  }

  /**
   * Runs once the threads (if any) are held off: the final checkpoint, then files and the lock.
   * `settleFinal` settles `finalCheckpoint` with the final checkpoint's outcome.
   */
  private async closeFiles(settleFinal: (outcome: Promise<void>) => void): Promise<void> {
    try {
      // Checkpoints running, or queued in the writer by checkpoint(), finish first; the final one
      // then covers what they did not.
      for (;;) {
        await this.writer.idle();
        if (!this.checkpointing) break;
        await this.checkpointing;
      }
      if (!this.readOnly && !this.writer.poisoned && this.seq > this.checkpointSeq) {
        try {
          settleFinal((await this.startCheckpoint()).done);
        } catch (e) {
          this.options.onWarning?.(`final checkpoint failed: ${String(e)}`);
          settleFinal(Promise.reject(e));
        }
      }
      if (this.checkpointing) await this.checkpointing;
    } finally {
      settleFinal(Promise.resolve());
      await this.wal?.close().catch(() => undefined);
      for (const c of this.collections.values()) c.dispose();
      await this.lock.release();
    }
  }
}
