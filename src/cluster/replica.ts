/**
 * A shard this node serves reads for: an embedded collection (in memory) that a ShardFollower keeps
 * up with the shard's log. It is ready once it has applied everything committed when it started, so
 * a node that just took a shard never answers from a half-loaded copy; a read may also name the seq
 * it must see (read-your-writes), which it waits for up to a limit.
 */
import type { CollectionApi } from "../api/types.js";
import { QuiverError } from "../core/errors/errors.js";
import type { CommitLog, LogFollower } from "./commit-log.js";
import type { ObjectStore } from "./object-store.js";
import { followShard } from "./shard-follower.js";

export interface ReplicaStore {
  collection: CollectionApi;
  close(): Promise<void>;
}

export class Replica {
  private ready = false;
  private lastError: unknown = null;
  /** When the shard stopped being assigned here (it keeps answering a while, for the move). */
  unassignedAt: number | null = null;

  private constructor(
    readonly log: string,
    private readonly store: ReplicaStore,
    private readonly follower: LogFollower,
  ) {}

  static async start(log: string, store: ReplicaStore, commitLog: CommitLog, objects: ObjectStore): Promise<Replica> {
    let replica: Replica | null = null;
    const follower = await followShard(log, commitLog, objects, store.collection, (error) => {
      if (replica) replica.lastError = error;
    });
    replica = new Replica(log, store, follower);
    const started = replica;
    commitLog
      .head(log)
      .then((head) => follower.waitFor(head))
      .then(() => {
        started.ready = true;
      })
      .catch((error) => {
        started.lastError = error;
      });
    return replica;
  }

  get applied(): number {
    return this.follower.applied;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /**
   * The collection once it is ready and has applied `minSeq`; UNAVAILABLE (try another replica) when
   * it is still loading, or does not reach `minSeq` within `waitMs`.
   */
  async collection(minSeq: number, waitMs: number): Promise<CollectionApi> {
    if (!this.ready)
      throw new QuiverError(
        "UNAVAILABLE",
        `${this.log} is still loading on this node${this.lastError ? ` (${String(this.lastError)})` : ""}`,
      );
    if (minSeq > this.follower.applied) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new QuiverError(
                "UNAVAILABLE",
                `${this.log} has applied seq ${this.follower.applied}, not yet ${minSeq}, after ${waitMs} ms`,
              ),
            ),
          waitMs,
        );
      });
      try {
        await Promise.race([this.follower.waitFor(minSeq), late]);
      } finally {
        clearTimeout(timer);
      }
    }
    return this.store.collection;
  }

  async close(): Promise<void> {
    await this.follower.close();
    await this.store.close();
  }
}
