/**
 * Fault trials on real `quiver serve --cluster` node processes: three nodes (every role) over the
 * harness's 3-member etcd cluster and s3rver, a client workload of upserts and deletes sent through
 * random nodes over HTTP, and the checker of the acknowledged state through the cluster.
 *
 * The workload's clients are sequential loops, each retrying an operation (through another node) until
 * it is acknowledged, as a real client would: every upsert writes fresh ids and every delete removes
 * an id its loop saw acknowledged, so the acknowledged state is exact whatever failed on the way (a
 * failed attempt that committed anyway wrote what its acknowledged retry wrote). The checker reads it
 * back through a node with the `seqs` the writes returned (read-your-writes): every acknowledged
 * upsert present with its exact vector and payload, no acknowledged delete undone, nothing else, and
 * the exact top 10 of a few queries through the router equal to a brute-force scan. Each shard's log
 * is read from etcd too: its epochs never go back (a fenced writer's late commit would).
 */
import assert from "node:assert/strict";
import { after, before } from "node:test";
import type { LeaseOwner } from "../../../src/cluster/lease.js";
import { EtcdCoordinator } from "../../../src/cluster/etcd/etcd-coordinator.js";
import { S3ObjectStore } from "../../../src/cluster/s3/s3-object-store.js";
import { type ShardManifest, readShardManifest } from "../../../src/cluster/shard-manifest.js";
import { shardLog } from "../../../src/cluster/shard-map.js";
import { bruteTopK, randomVector, rng } from "../../support/brute.js";
import { S3Stand } from "../../support/cluster-services.js";
import { ADMIN_KEY, type NodeSettings, QuiverNode } from "../../support/quiver-nodes.js";
import { EtcdCluster, type EtcdClusterOptions } from "./etcd-cluster.js";

export const NODE_IDS = ["n1", "n2", "n3"];
const DIM = 8;
const SHARDS = 3;
export const LEASE_MS = 2000;
/**
 * A request to a paused or dying node is abandoned after this and retried on another node. Longer
 * than a node's own write deadline (three lease periods + 5 s: 11 s), so a client sees its answer.
 */
const REQUEST_TIMEOUT_MS = 15_000;
/** An operation not acknowledged through any node within this fails the trial. */
const OPERATION_DEADLINE_MS = 60_000;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Stored {
  vector: number[];
  payload: { loop: number; n: number; note: string };
}

export interface Answer {
  status: number;
  json: Record<string, unknown>;
}

/** One HTTP call with the admin key and a time limit; a refused or timed-out connection is status 0. */
export async function call(url: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  try {
    const response = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : {} } as Answer;
  } catch (error) {
    return { status: 0, json: { error: String(error) } } as Answer;
  }
}

/** What a test file changes in its cluster (defaults: etcd on loopback, every node of every role). */
export interface NodeClusterOptions {
  /** The etcd members' network (`namespaces` to partition them). */
  etcd?: EtcdClusterOptions;
  /** Roles of n1, n2, n3 (default all three). */
  roles?: string;
  /** More flags of n1, n2, n3 (`--compact-after`, ...). */
  flags?: string[];
  /** Nodes started beside n1, n2, n3 (a query-only node, ...). */
  more?: { id: string; roles: string; flags?: string[] }[];
}

export class NodeCluster {
  readonly nodes = new Map<string, QuiverNode>();
  /** Nodes clients must not pick (paused, or killed and not yet back). */
  readonly unreachable = new Set<string>();
  private readonly coordinator: EtcdCoordinator;
  private readonly objects: S3ObjectStore;

  private constructor(
    readonly settings: NodeSettings,
    etcd: EtcdCluster,
  ) {
    this.coordinator = new EtcdCoordinator({ endpoints: etcd.endpoints, prefix: settings.etcdPrefix });
    const { endpoint, bucket, credentials } = settings.s3;
    this.objects = new S3ObjectStore({ endpoint, bucket, credentials, prefix: settings.etcdPrefix });
  }

  /** Three nodes on a fresh etcd prefix, and the collection `docs` (3 shards) created. */
  static async start(etcd: EtcdCluster, s3: S3Stand, options: NodeClusterOptions = {}): Promise<NodeCluster> {
    const settings: NodeSettings = {
      etcd: etcd.endpoints.join(","),
      s3,
      etcdPrefix: `nodefault-${Date.now()}-${Math.floor(Math.random() * 1e6)}/`,
      shards: SHARDS,
      replicas: 2,
      leaseMs: LEASE_MS,
    };
    const cluster = new NodeCluster(settings, etcd);
    const nodes = [
      ...NODE_IDS.map((id) => ({ id, roles: options.roles, flags: options.flags })),
      ...(options.more ?? []),
    ];
    const started = await Promise.allSettled(nodes.map((n) => QuiverNode.start(n.id, settings, n.roles, n.flags)));
    for (const s of started) if (s.status === "fulfilled") cluster.nodes.set(s.value.id, s.value);
    try {
      for (const s of started) if (s.status === "rejected") throw s.reason;
      const created = await cluster.node("n1").call("PUT", "/v1/collections/docs", {
        schema: { vectors: { v: { dim: DIM, metric: "l2" } } },
      });
      if (created.status !== 200) throw new Error(`create docs: ${JSON.stringify(created.json)}`);
    } catch (error) {
      await cluster.stop(); // no node may outlive a failed start: it would keep the test process alive
      throw error;
    }
    return cluster;
  }

  node(id: string): QuiverNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** A random node clients may use. */
  pick(random: () => number = Math.random): QuiverNode {
    const usable = [...this.nodes.values()].filter((n) => n.running && !this.unreachable.has(n.id));
    return usable[Math.floor(random() * usable.length)];
  }

  /** The lease owner (node id and epoch) of a shard of `docs`, or null when none holds it. */
  owner(shard: number): Promise<LeaseOwner | null> {
    return this.coordinator.owner(shardLog({ name: "docs", generation: 1 }, shard));
  }

  /** Waits until the shard is held by another node than `not` (a higher epoch); the time it took. */
  async ownerOtherThan(shard: number, not: string, timeoutMs = LEASE_MS * 6): Promise<LeaseOwner> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const owner = await this.owner(shard).catch(() => null);
      if (owner && owner.holder !== not) return owner;
      if (Date.now() > deadline) throw new Error(`shard ${shard} still held by ${not} after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  async kill9(id: string): Promise<void> {
    this.unreachable.add(id);
    await this.node(id).stop("SIGKILL");
  }

  /** Starts a node (again, after a kill: a fresh process that rejoins and catches up) under `id`. */
  async restart(id: string, roles?: string, flags?: string[]): Promise<void> {
    this.nodes.set(id, await QuiverNode.start(id, this.settings, roles, flags));
    this.unreachable.delete(id);
  }

  /** The replicas node `id` holds (its `/_cluster/v1/status`). */
  private async replicasOf(id: string): Promise<{ log: string; ready: boolean; applied: number }[]> {
    const secret = (await this.coordinator.get("cluster/secret"))?.value;
    const status = await fetch(`${this.node(id).url}/_cluster/v1/status`, {
      method: "POST",
      headers: { authorization: `Bearer ${secret}` },
      body: "{}",
    });
    return ((await status.json()) as { serves: { log: string; ready: boolean; applied: number }[] }).serves;
  }

  /** The shard logs node `id` serves as a ready replica. */
  async servedBy(id: string): Promise<string[]> {
    return (await this.replicasOf(id)).filter((r) => r.ready).map((r) => r.log);
  }

  /** Waits until every replica of every running node has applied `minSeq` of its shard; the ms it took. */
  async replicasCaughtUp(minSeq: Record<string, number>, timeoutMs = 30_000): Promise<number> {
    const started = Date.now();
    for (;;) {
      const running = [...this.nodes.values()].filter((n) => n.running && !this.unreachable.has(n.id));
      const replicas = (await Promise.all(running.map((n) => this.replicasOf(n.id)))).flat();
      const behind = replicas.filter((r) => r.applied < (minSeq[r.log.split("/").pop() as string] ?? 0));
      if (behind.length === 0) return Date.now() - started;
      if (Date.now() - started > timeoutMs)
        throw new Error(`replicas behind after ${timeoutMs} ms: ${JSON.stringify(behind)} (${JSON.stringify(minSeq)})`);
      await sleep(50);
    }
  }

  pause(id: string): void {
    this.unreachable.add(id);
    process.kill(this.node(id).pid, "SIGSTOP");
  }

  resume(id: string): void {
    process.kill(this.node(id).pid, "SIGCONT");
    this.unreachable.delete(id);
  }

  /** Each shard's manifest, log head, and the records its log holds past the manifest, read from etcd. */
  async shards(): Promise<{ manifest: ShardManifest; head: number; records: number }[]> {
    return Promise.all(
      Array.from({ length: SHARDS }, async (_, shard) => {
        const log = shardLog({ name: "docs", generation: 1 }, shard);
        const [{ manifest }, head] = await Promise.all([
          readShardManifest(this.coordinator, log),
          this.coordinator.head(log),
        ]);
        const pending = await this.coordinator.read(log, manifest.appliedThrough + 1);
        return { manifest, head, records: pending.reduce((n, e) => n + (e.records ?? 0), 0) };
      }),
    );
  }

  /**
   * Problems with each shard's log in etcd: seqs without a gap from where its manifest ends (1 before
   * any compaction), and epochs that never go back.
   */
  async logProblems(): Promise<string[]> {
    const problems: string[] = [];
    for (let shard = 0; shard < SHARDS; shard++) {
      const log = shardLog({ name: "docs", generation: 1 }, shard);
      // The log, then the manifest: a compaction in between only moves the manifest past the log's start.
      const entries = await this.coordinator.read(log, 1);
      const { manifest } = await readShardManifest(this.coordinator, log);
      const first = entries[0]?.seq ?? 1;
      if (first > manifest.appliedThrough + 1)
        problems.push(
          `shard ${shard}: the log starts at seq ${first}, the manifest ends at ${manifest.appliedThrough}`,
        );
      let epoch = 0;
      for (const [n, e] of entries.entries()) {
        if (e.seq !== first + n) problems.push(`shard ${shard}: entry ${n + 1} has seq ${e.seq}, not ${first + n}`);
        if (e.epoch < epoch) problems.push(`shard ${shard}: seq ${e.seq} under epoch ${e.epoch} after ${epoch}`);
        epoch = Math.max(epoch, e.epoch);
      }
    }
    return problems;
  }

  /**
   * Batch objects of `shard` PUT under `epoch` (their keys name it) that no log entry points to:
   * commits that did not land. For a writer paused past its lease, its late commits, fenced.
   */
  async unloggedBatches(shard: number, epoch: number): Promise<number> {
    const log = shardLog({ name: "docs", generation: 1 }, shard);
    const logged = new Set((await this.coordinator.read(log, 1)).map((e) => e.objectKey));
    const objects = await this.objects.list(`${log}/batches/${epoch}-`);
    return objects.filter((o) => !logged.has(o.key)).length;
  }

  async stop(): Promise<void> {
    for (const id of this.unreachable) if (this.nodes.get(id)?.running) this.resume(id);
    await Promise.all([...this.nodes.values()].map((n) => n.stop("SIGKILL")));
    this.coordinator.close();
    this.objects.close();
  }
}

/** The acknowledged state, the read-your-writes token, and what the clients saw fail. */
export class Workload {
  readonly state = new Map<string, Stored>();
  readonly deleted = new Set<string>();
  readonly minSeq: Record<string, number> = {};
  acknowledged = 0;
  operations = 0;
  /** Failed attempts by status (0: no answer), each later retried until acknowledged. */
  readonly failures = new Map<number, number>();
  /** Failed attempts' error codes and messages (for assertions on what a fault may answer). */
  readonly failureBodies: string[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly random = rng(7);
  /** Operations started, over every start(): ids are never reused. */
  private sent = 0;

  constructor(private readonly cluster: NodeCluster) {}

  /** Starts `count` client loops. */
  start(count = 2): void {
    this.running = true;
    this.loops = Array.from({ length: count }, (_, loop) => this.loop(loop));
  }

  /** Lets every loop finish (acknowledge) its current operation, then resolves. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  get readHeaders(): Record<string, string> {
    return { "quiver-min-seq": JSON.stringify(this.minSeq) };
  }

  private async loop(loop: number): Promise<void> {
    const mine: string[] = [];
    while (this.running) {
      const n = this.sent++;
      if (n % 4 === 3 && mine.length > 0) {
        const id = mine.splice(Math.floor(this.random() * mine.length), 1)[0];
        await this.send("delete", { ids: [id] });
        this.state.delete(id);
        this.deleted.add(id);
        this.operations++;
      } else {
        const records = [0, 1, 2].map((j) => ({
          id: `c${loop}-${n}-${j}`,
          vector: randomVector(this.random, DIM).map(Math.fround),
          payload: { loop, n, note: `record ${j} of operation ${n} of client ${loop}` },
        }));
        await this.send("upsert", { records });
        for (const r of records) {
          this.state.set(r.id, { vector: r.vector, payload: r.payload });
          mine.push(r.id);
        }
        this.operations += records.length;
      }
      this.acknowledged++;
    }
  }

  /** Sends one write through random nodes until one acknowledges it; raises the seqs seen. */
  private async send(what: "upsert" | "delete", body: unknown): Promise<void> {
    const deadline = Date.now() + OPERATION_DEADLINE_MS;
    for (;;) {
      const { status, json } = await call(this.cluster.pick().url, `/v1/collections/docs/${what}`, body);
      if (status === 200) {
        for (const [shard, seq] of Object.entries(json.seqs as Record<string, number>))
          this.minSeq[shard] = Math.max(this.minSeq[shard] ?? 0, seq);
        return;
      }
      this.failures.set(status, (this.failures.get(status) ?? 0) + 1);
      this.failureBodies.push(`${status} ${JSON.stringify(json).slice(0, 300)}`);
      if (status >= 400 && status < 500) throw new Error(`${what} refused: ${status} ${JSON.stringify(json)}`);
      if (Date.now() > deadline) throw new Error(`${what} not acknowledged in ${OPERATION_DEADLINE_MS} ms`);
      await sleep(100);
    }
  }

  get failed(): number {
    return [...this.failures.values()].reduce((a, b) => a + b, 0);
  }

  /** The exact top 10 of the acknowledged state for `vector` (brute force). */
  expectedTopK(vector: number[]): string[] {
    const records = [...this.state].map(([id, s]) => ({ id, vector: s.vector }));
    return bruteTopK("l2", records, vector, 10).map((h) => h.id);
  }

  /**
   * The invariant through node `via`: every acknowledged upsert there exactly, no acknowledged delete
   * undone, nothing else; the exact top 10 of 3 queries equal to brute force. Returns the problems
   * and the number of acknowledged upserts (records) found missing or wrong: the losses.
   */
  async check(via: QuiverNode, seed: number): Promise<{ problems: string[]; losses: number }> {
    const problems: string[] = [];
    let losses = 0;
    const ids = [...this.state.keys(), ...this.deleted];
    const got = await call(via.url, "/v1/collections/docs/get", { ids, withVectors: true }, this.readHeaders);
    if (got.status !== 200) return { problems: [`get through ${via.id}: ${JSON.stringify(got.json)}`], losses: 0 };
    const found = new Map(
      (got.json.records as { id: string; vectors: { v: number[] }; payload: unknown }[]).map((r) => [r.id, r]),
    );
    for (const [id, want] of this.state) {
      const r = found.get(id);
      if (!r || JSON.stringify(r.vectors.v) !== JSON.stringify(want.vector)) {
        losses++;
        problems.push(`${id}: ${r ? "wrong vector" : "missing"}`);
      } else if (JSON.stringify(r.payload) !== JSON.stringify(want.payload)) {
        losses++;
        problems.push(`${id}: payload ${JSON.stringify(r.payload)}`);
      }
    }
    for (const id of this.deleted) if (found.has(id)) problems.push(`${id}: deleted, and back`);
    const count = await call(via.url, "/v1/collections/docs/count", {}, this.readHeaders);
    if (count.json.count !== this.state.size)
      problems.push(`count ${JSON.stringify(count.json)}, ${this.state.size} acknowledged`);
    const random = rng(seed);
    for (let q = 0; q < 3; q++) {
      const vector = randomVector(random, DIM);
      const r = await call(via.url, "/v1/collections/docs/query", { vector, limit: 10, exact: true }, this.readHeaders);
      const hits = (r.json.hits as { id: string }[] | undefined)?.map((h) => h.id);
      const want = this.expectedTopK(vector);
      if (JSON.stringify(hits) !== JSON.stringify(want))
        problems.push(`top 10 of query ${q}: ${r.status} ${JSON.stringify(hits ?? r.json)}, brute force ${want}`);
    }
    return { problems, losses };
  }
}

/** Totals over a fault's trials, printed as the `#` line docs/cluster.md quotes. */
export class NodeTally {
  trials = 0;
  acknowledged = 0;
  operations = 0;
  losses = 0;
  private readonly notes = new Map<string, number>();

  private seen: { acknowledged: number; operations: number };

  /** Counts from what `workload` has acknowledged so far (a file's faults share one workload). */
  constructor(
    private readonly fault: string,
    private readonly workload: Workload,
  ) {
    this.seen = { acknowledged: workload.acknowledged, operations: workload.operations };
  }

  /** Adds a trial: what the workload acknowledged since the previous trial, and the losses found. */
  add(losses: number): void {
    const workload = this.workload;
    this.trials++;
    this.acknowledged += workload.acknowledged - this.seen.acknowledged;
    this.operations += workload.operations - this.seen.operations;
    this.seen = { acknowledged: workload.acknowledged, operations: workload.operations };
    this.losses += losses;
  }

  note(what: string, n: number): void {
    this.notes.set(what, (this.notes.get(what) ?? 0) + n);
  }

  print(): void {
    const notes = [...this.notes].map(([what, n]) => `, ${n} ${what}`).join("");
    console.log(
      `# ${this.fault}: ${this.trials} trials, ${this.acknowledged} writes (${this.operations} record operations) acknowledged, ${this.losses} lost${notes}`,
    );
  }
}

/**
 * Ends a trial: the workload stopped (its last operations acknowledged), the shards' logs sound, and
 * the checker's invariant through a random node, asserted; returns the losses (0, or it threw).
 */
export async function checkTrial(cluster: NodeCluster, workload: Workload, label: string): Promise<number> {
  await workload.stop();
  assert.deepEqual(await cluster.logProblems(), [], `${label}: the shards' logs`);
  const { problems, losses } = await workload.check(
    cluster.pick(),
    [...label].reduce((a, c) => a * 31 + c.charCodeAt(0), 0) >>> 0,
  );
  assert.deepEqual(problems, [], label);
  return losses;
}

export interface NodeFixture {
  etcd: EtcdCluster;
  s3: S3Stand;
  cluster: NodeCluster;
  workload: Workload;
}

/**
 * A test file's cluster: registers `before` (3 etcd members, s3rver, the 3 nodes and `docs`, one
 * workload shared by the file's trials) and `after` (every process ended, data removed).
 */
export function useNodeCluster(options: NodeClusterOptions = {}): NodeFixture {
  const fixture = {} as NodeFixture;
  before(async () => {
    [fixture.etcd, fixture.s3] = await Promise.all([EtcdCluster.start(options.etcd), S3Stand.start()]);
    fixture.cluster = await NodeCluster.start(fixture.etcd, fixture.s3, options);
    fixture.workload = new Workload(fixture.cluster);
  });
  after(async () => {
    await fixture.cluster?.stop();
    await Promise.all([fixture.etcd?.stop(), fixture.s3?.stop()]);
  });
  return fixture;
}
