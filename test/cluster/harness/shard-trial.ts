/**
 * One fault trial on one shard: a fresh key prefix in etcd, writer and follower processes started
 * from their command lines (shard-writer-process.ts, shard-follower-process.ts), an in-process
 * follower that lives through the fault, and the check of the acknowledged history at the end
 * (checker.ts). A fault test drives the fault between `startWriter` and `check`.
 */
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { CollectionApi, DatabaseApi } from "../../../src/api/types.js";
import type { LogFollower } from "../../../src/cluster/commit-log.js";
import { EtcdCoordinator } from "../../../src/cluster/etcd/etcd-coordinator.js";
import { S3ObjectStore } from "../../../src/cluster/s3/s3-object-store.js";
import { followShard } from "../../../src/cluster/shard-follower.js";
import { open } from "../../../src/index.js";
import type { S3Stand } from "../../support/cluster-services.js";
import { type ShardCheck, checkShard, writerHistory } from "./checker.js";
import { NodeProcess } from "./node-process.js";
import type { FollowerProcessConfig } from "./shard-follower-process.js";
import type { WriterProcessConfig } from "./shard-writer-process.js";
import { COLLECTION, SCHEMA } from "./workload.js";

const WRITER = fileURLToPath(new URL("./shard-writer-process.js", import.meta.url));
const FOLLOWER = fileURLToPath(new URL("./shard-follower-process.js", import.meta.url));
/** The AWS SDK's notice about future Node versions would fill every failure message's stderr. */
const CHILD_FLAGS = ["--disable-warning=NodeVersionSupportWarning"];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const countLines = (p: NodeProcess, pattern: RegExp, from = 0): number =>
  p.lines.slice(from).filter((line) => pattern.test(line)).length;

/** Waits until `p` has printed `count` lines matching `pattern` since line `from`. */
export async function waitForLines(p: NodeProcess, pattern: RegExp, count: number, timeoutMs: number, from = 0) {
  const deadline = Date.now() + timeoutMs;
  while (countLines(p, pattern, from) < count) {
    if (!p.running) throw new Error(`${p.name} exited: ${p.stderr}`);
    if (Date.now() > deadline) {
      const found = `${countLines(p, pattern, from)} of ${count} ${pattern} in ${timeoutMs} ms`;
      throw new Error(`${p.name}: ${found}; its last lines: ${p.lines.slice(-6).join(" | ")}; stderr: ${p.stderr}`);
    }
    await sleep(20);
  }
}

export class ShardTrial {
  readonly prefix = `fault-${randomUUID()}`;
  readonly log = "shards/docs/0";
  readonly writers: NodeProcess[] = [];
  private readonly coordinator: EtcdCoordinator;
  private readonly objects: S3ObjectStore;
  private follower: { db: DatabaseApi; collection: CollectionApi; log: LogFollower } | null = null;

  constructor(
    private readonly etcd: string[],
    private readonly s3: S3Stand,
  ) {
    this.coordinator = new EtcdCoordinator({ endpoints: etcd, prefix: this.prefix, callTimeoutMs: 1000 });
    this.objects = new S3ObjectStore({ endpoint: s3.endpoint, bucket: s3.bucket, credentials: s3.credentials });
  }

  /** A writer process (tag = its name in the workload), started. */
  startWriter(tag: string, options: { leaseTtlMs?: number } = {}): NodeProcess {
    const config: WriterProcessConfig = {
      etcd: this.etcd,
      prefix: this.prefix,
      log: this.log,
      s3: { endpoint: this.s3.endpoint, bucket: this.s3.bucket },
      tag,
      leaseTtlMs: options.leaseTtlMs ?? 5000,
      timeoutMs: 1000,
      intervalMs: 20,
    };
    const writer = new NodeProcess(`writer ${tag}`, {
      command: process.execPath,
      args: [...CHILD_FLAGS, WRITER, JSON.stringify(config)],
    });
    writer.start();
    this.writers.push(writer);
    return writer;
  }

  /** A follower process applying the shard to an embedded database at `path`, not started. */
  followerProcess(path: string): NodeProcess {
    const config: FollowerProcessConfig = {
      etcd: this.etcd,
      prefix: this.prefix,
      log: this.log,
      s3: { endpoint: this.s3.endpoint, bucket: this.s3.bucket },
      path,
    };
    return new NodeProcess("follower", {
      command: process.execPath,
      args: [...CHILD_FLAGS, FOLLOWER, JSON.stringify(config)],
    });
  }

  /** Starts following the shard in this process, into an in-memory database, through the fault. */
  async follow(): Promise<void> {
    const db = await open();
    const collection = await db.createCollection(COLLECTION, SCHEMA);
    this.follower = { db, collection, log: await followShard(this.log, this.coordinator, this.objects, collection) };
  }

  /** The log's head, retried through an election or an outage. */
  async head(): Promise<number> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        return await this.coordinator.head(this.log);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(100);
      }
    }
  }

  /** kill -9 of every writer (what was in flight stays unknown, as after a crash); the final head. */
  async stopWriters(): Promise<number> {
    for (const w of this.writers) await w.kill9();
    return this.head();
  }

  /**
   * The writers stopped, the check of `collection` (default: the in-process follower's, once it has
   * applied the whole log) against their acknowledged histories.
   */
  async check(seed: number, collection?: CollectionApi): Promise<ShardCheck> {
    const head = await this.stopWriters();
    if (!collection) {
      if (!this.follower) throw new Error("check() needs follow() or a collection");
      await this.follower.log.waitFor(head);
      collection = this.follower.collection;
    }
    return checkShard({
      log: this.log,
      commitLog: this.coordinator,
      objects: this.objects,
      writers: this.writers.map((w) => writerHistory(w.name.replace(/^writer /, ""), w.lines)),
      collection,
      seed,
    });
  }

  async close(): Promise<void> {
    for (const w of this.writers) await w.kill9();
    if (this.follower) {
      await this.follower.log.close();
      await this.follower.db.close();
    }
    this.coordinator.close();
    this.objects.close();
  }
}
