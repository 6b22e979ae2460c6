/**
 * One Quiver process of a cluster: it keeps its membership alive, and every tick (a fraction of the
 * lease period) recomputes from the live members what it should do. As a writer-role node it takes
 * the free shards whose rendezvous ranking over live writers puts it first (so a dead writer's shards
 * move within a lease period); as a query-role node it follows the shards whose ranking over live
 * query nodes puts it among the first `replicas`, keeping a shard it lost for a grace period so that
 * reads moving away from it never find no one; as an indexer-role node it compacts and collects the
 * garbage of the shards whose ranking over live indexers puts it first (indexer.ts). A replica loads
 * its shard from the manifest through `fetchSealed` (the node's disk cache) and tails the log after
 * it (replica.ts). It answers its peers' shard writes and reads.
 */
import { QuiverError } from "../core/errors/errors.js";
import type { BatchOp } from "./batch.js";
import type { Catalog } from "./catalog.js";
import type { CommitLog } from "./commit-log.js";
import type { DatabaseOptions } from "../database/database.js";
import { HeldShard } from "./held-shard.js";
import { type IndexerSettings, ShardIndexer } from "./indexer.js";
import type { LeaseService } from "./lease.js";
import { type Member, Membership } from "./members.js";
import { type ObjectStore, getVerified } from "./object-store.js";
import { Replica } from "./replica.js";
import { openShardReplica } from "./shard-bootstrap.js";
import type { FetchVerified } from "./shard-image.js";
import { type ShardRead, runShardRead } from "./shard-read.js";
import { type ShardedCollection, rendezvous, shardLog } from "./shard-map.js";

export interface ClusterNodeOptions {
  catalog: Catalog;
  commitLog: CommitLog;
  leases: LeaseService;
  objects: ObjectStore;
  self: Member;
  /** Lease period of members and shard writers (default 5000 ms): a dead node's shards move after it. */
  leaseTtlMs?: number;
  /** Query nodes that follow each shard (default 2). */
  replicas?: number;
  /** How replicas and compactors read sealed objects (default: straight from `objects`; a SegmentCache's get). */
  fetchSealed?: FetchVerified;
  /** Options of the embedded databases that hold replicas (limits). */
  databaseOptions?: DatabaseOptions;
  /** The indexer role's thresholds (indexer.ts). */
  indexer?: IndexerSettings;
  /** How long a read waits for a replica to reach its `minSeq` (default 5000 ms). */
  minSeqWaitMs?: number;
  onWarning?: (message: string) => void;
  /** What the node's roles do in the background (compactions), one line each, for the operator. */
  onEvent?: (message: string) => void;
}

export class ClusterNode {
  readonly membership: Membership;
  readonly leaseTtlMs: number;
  readonly replicaCount: number;
  private readonly writers = new Map<string, HeldShard>();
  private readonly replicas = new Map<string, Replica>();
  private readonly fetchSealed: FetchVerified;
  readonly indexer: ShardIndexer;
  private readonly starting = new Set<string>();
  private collectionsByName = new Map<string, ShardedCollection>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private ticking: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(readonly options: ClusterNodeOptions) {
    this.leaseTtlMs = options.leaseTtlMs ?? 5000;
    this.replicaCount = options.replicas ?? 2;
    this.membership = new Membership(options.catalog, options.leases, options.self, this.leaseTtlMs);
    this.fetchSealed =
      options.fetchSealed ?? ((key, sha256) => getVerified(options.objects, key, sha256, "sealed object"));
    this.indexer = new ShardIndexer({
      ...options.indexer,
      nodeId: options.self.id,
      catalog: options.catalog,
      commitLog: options.commitLog,
      leases: options.leases,
      objects: options.objects,
      leaseTtlMs: this.leaseTtlMs,
      fetch: this.fetchSealed,
      onWarning: options.onWarning,
      onEvent: options.onEvent,
    });
  }

  get id(): string {
    return this.options.self.id;
  }

  /** Joins (waiting out a previous incarnation's lease), runs a first tick, then ticks on its own. */
  async start(): Promise<void> {
    const deadline = Date.now() + this.leaseTtlMs * 2 + 5000;
    while (!(await this.membership.join())) {
      if (Date.now() > deadline)
        throw new QuiverError("UNAVAILABLE", `node id ${this.id} is held by a live node; is it running elsewhere?`);
      await sleep(this.leaseTtlMs / 5);
    }
    // Renewed on a timer of its own, not in the tick: a slow tick (a busy etcd) must not let the
    // membership lapse and move this node's shards away.
    let beating = false;
    this.heartbeat = setInterval(() => {
      if (beating) return; // one renewal at a time: two joins at once would each find the other's lease
      beating = true;
      this.membership
        .heartbeat()
        .catch((error) => this.options.onWarning?.(`heartbeat of ${this.id}: ${String(error)}`))
        .finally(() => {
          beating = false;
        });
    }, this.leaseTtlMs / 3);
    await this.tick();
    const loop = (): void => {
      if (this.closed) return;
      this.timer = setTimeout(() => {
        this.tickNow().finally(loop);
      }, this.leaseTtlMs / 5);
    };
    loop();
  }

  /** Runs a tick now, after any under way (a collection was just created: take its shards at once). */
  tickNow(): Promise<void> {
    this.ticking = this.ticking.then(() => this.tick());
    return this.ticking;
  }

  /** The collections of the last tick (refresh: read the Catalog now). */
  async collections(refresh = false): Promise<Map<string, ShardedCollection>> {
    if (refresh) {
      const entries = await this.options.catalog.list("collections/");
      this.collectionsByName = new Map(
        entries
          .map((e) => JSON.parse(e.value) as ShardedCollection)
          .filter((c) => !c.dropped)
          .map((c) => [c.name, c]),
      );
    }
    return this.collectionsByName;
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    try {
      const live = await this.membership.refresh();
      const collections = await this.collections(true);
      const writers = live.filter((m) => m.roles.includes("writer")).map((m) => m.id);
      const queriers = live.filter((m) => m.roles.includes("query")).map((m) => m.id);
      const indexers = live.filter((m) => m.roles.includes("indexer")).map((m) => m.id);
      const indexed = new Map<string, ShardedCollection>();
      const wanted = new Set<string>();
      const jobs: Promise<void>[] = [];
      for (const c of collections.values())
        for (let shard = 0; shard < c.shards; shard++) {
          const log = shardLog(c, shard);
          wanted.add(log);
          if (writers.length > 0 && rendezvous(log, writers)[0] === this.id && !this.writers.get(log)?.held)
            jobs.push(this.takeWriter(log));
          if (rendezvous(log, queriers).slice(0, this.replicaCount).includes(this.id)) {
            const replica = this.replicas.get(log);
            if (replica) replica.unassignedAt = null;
            else jobs.push(this.startReplica(c, log));
          }
          if (rendezvous(log, indexers)[0] === this.id) indexed.set(log, c);
        }
      if (!this.closed) this.indexer.run(indexed);
      await Promise.all(jobs);
      await this.dropStale(wanted);
    } catch (error) {
      this.options.onWarning?.(`cluster tick of ${this.id}: ${String(error)}`);
    }
  }

  private async takeWriter(log: string): Promise<void> {
    const held = await HeldShard.take(
      log,
      this.id,
      this.leaseTtlMs,
      { leases: this.options.leases },
      this.options.commitLog,
      this.options.objects,
      (lost, reason) => {
        if (this.writers.get(lost)?.held === false) this.writers.delete(lost);
        this.options.onWarning?.(`${this.id} gave up writing ${lost}: ${reason}`);
      },
    );
    if (held) this.writers.set(log, held);
  }

  private async startReplica(c: ShardedCollection, log: string): Promise<void> {
    if (this.starting.has(log)) return;
    this.starting.add(log);
    try {
      const { catalog, commitLog, objects, databaseOptions } = this.options;
      const replica = await Replica.start(
        log,
        (onError) =>
          openShardReplica({
            log,
            schema: c.schema,
            commitLog,
            catalog,
            objects,
            fetch: this.fetchSealed,
            databaseOptions,
            onError,
          }),
        commitLog,
      );
      this.replicas.set(log, replica);
    } finally {
      this.starting.delete(log);
    }
  }

  /** Closes replicas unassigned for longer than two lease periods, and shards of dropped collections. */
  private async dropStale(wanted: Set<string>): Promise<void> {
    const queriers = this.membership.members("query").map((m) => m.id);
    const now = Date.now();
    for (const [log, replica] of this.replicas) {
      const assigned = wanted.has(log) && rendezvous(log, queriers).slice(0, this.replicaCount).includes(this.id);
      if (assigned) continue;
      replica.unassignedAt ??= now;
      if (!wanted.has(log) || now - replica.unassignedAt > this.leaseTtlMs * 2) {
        this.replicas.delete(log);
        await replica.close();
      }
    }
    for (const [log, held] of this.writers)
      if (!wanted.has(log)) {
        this.writers.delete(log);
        await held.release();
      }
  }

  /** The shard's writer on this node, if it holds the shard. */
  heldWriter(log: string): HeldShard | null {
    const held = this.writers.get(log);
    return held?.held ? held : null;
  }

  /** Commits `ops` to a shard this node writes; UNAVAILABLE (ask the owner again) when it does not. */
  async writeShard(log: string, ops: BatchOp[]): Promise<{ seq: number }> {
    const held = this.heldWriter(log);
    if (!held) throw new QuiverError("UNAVAILABLE", `node ${this.id} does not write ${log}`);
    return { seq: await held.write(ops) };
  }

  /** Runs a read on this node's replica of a shard; UNAVAILABLE when it has none ready. */
  async readShard(log: string, read: ShardRead, minSeq: number): Promise<unknown> {
    const replica = this.replicas.get(log);
    if (!replica) throw new QuiverError("UNAVAILABLE", `node ${this.id} does not serve ${log}`);
    return runShardRead(await replica.collection(minSeq, this.options.minSeqWaitMs ?? 5000), read);
  }

  /** Answers a peer's call (src/cluster/peers.ts). */
  async handlePeer(op: string, body: Record<string, unknown>): Promise<unknown> {
    if (op === "write") return this.writeShard(String(body.log), body.ops as BatchOp[]);
    if (op === "read") return this.readShard(String(body.log), body.read as ShardRead, Number(body.minSeq ?? 0));
    throw new QuiverError("NOT_FOUND", `no cluster operation ${JSON.stringify(op)}`);
  }

  /** What this node does now, for /_cluster status and tests. */
  status(): {
    id: string;
    writes: string[];
    serves: { log: string; ready: boolean; applied: number; generation: number; reloads: number }[];
    compactions: Record<string, number>;
  } {
    return {
      id: this.id,
      writes: [...this.writers.values()].filter((w) => w.held).map((w) => w.log),
      serves: [...this.replicas.values()].map((r) => ({
        log: r.log,
        ready: r.isReady,
        applied: r.applied,
        generation: r.generation,
        reloads: r.reloads,
      })),
      compactions: Object.fromEntries(this.indexer.committed),
    };
  }

  /** Leaves the cluster: shards released at once (no lease wait for their next owner), replicas closed. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.ticking;
    await this.indexer.idle();
    await Promise.all([...this.writers.values()].map((w) => w.release()));
    this.writers.clear();
    await this.membership.leave();
    await Promise.all([...this.replicas.values()].map((r) => r.close()));
    this.replicas.clear();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
