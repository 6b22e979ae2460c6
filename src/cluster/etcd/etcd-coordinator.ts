/**
 * CommitLog, Lease and Catalog on etcd (the `etcd3` client): every decision is one etcd transaction,
 * so order and fencing come from etcd's Raft log, never from Quiver. Keys, under the prefix given:
 *
 *   <name>/owner          holder id, bound to the holder's etcd lease (gone when the lease expires)
 *   <name>/epoch          bumped in the transaction that writes owner; compared by every append
 *   <name>/head           last committed seq of the log <name>
 *   <name>/wal/<seq:012>  one LogEntry as JSON (deleted by trim once a shard manifest folds it)
 *   <catalog key>         Catalog values (their etcd `version` is the Catalog version)
 *
 * A request etcd does not answer within `callTimeoutMs` (member down, no quorum) rejects with
 * UNAVAILABLE; an append so rejected may or may not have committed (read its seq to know).
 */
import { Etcd3, EtcdLeaseInvalidError, type IKeyValue, type Lease, type Namespace, type Watcher } from "etcd3";
import { QuiverError, isQuiverError } from "../../core/errors/errors.js";
import type { Catalog, CatalogValue } from "../catalog.js";
import type { AppendResult, CommitLog, LogEntry } from "../commit-log.js";
import type { HeldLease, LeaseOwner, LeaseService } from "../lease.js";

export interface EtcdCoordinatorOptions {
  /** Client URLs of the etcd members, e.g. ["http://127.0.0.1:2379"]. */
  endpoints: string[];
  /** Key prefix of this cluster, so several clusters (or test runs) can share one etcd. */
  prefix: string;
  /** Time limit of one etcd request before it is reported UNAVAILABLE (default 3000). */
  callTimeoutMs?: number;
}

const seqKey = (log: string, seq: number): string => `${log}/wal/${String(seq).padStart(12, "0")}`;

export class EtcdCoordinator implements CommitLog, LeaseService, Catalog {
  private readonly client: Etcd3;
  private readonly kv: Namespace;

  constructor(options: EtcdCoordinatorOptions) {
    const timeout = options.callTimeoutMs ?? 3000;
    this.client = new Etcd3({
      hosts: options.endpoints,
      dialTimeout: timeout,
      defaultCallOptions: () => ({ deadline: Date.now() + timeout }),
      // The client's default watch backoff grows while etcd is down, so a watch could stay away long
      // after etcd is back (and its pending timer outlive close()): retry at a steady pace instead.
      faultHandling: { watchBackoff: steadyBackoff(Math.min(timeout, 1000)) },
    });
    this.kv = this.client.namespace(options.prefix.endsWith("/") ? options.prefix : `${options.prefix}/`);
  }

  async head(log: string): Promise<number> {
    return Number((await etcd(`head of ${log}`, () => this.kv.get(`${log}/head`).string())) ?? 0);
  }

  async append(log: string, expectedHead: number, entry: Omit<LogEntry, "seq">): Promise<AppendResult> {
    const seq = expectedHead + 1;
    const headCompare: [string, "Value" | "Version", string | number] =
      expectedHead === 0 ? [`${log}/head`, "Version", 0] : [`${log}/head`, "Value", String(expectedHead)];
    const result = await etcd(`append to ${log}`, () =>
      this.kv
        .if(`${log}/epoch`, "Value", "==", String(entry.epoch))
        .and(headCompare[0], headCompare[1], "==", headCompare[2])
        .then(
          this.kv.put(seqKey(log, seq)).value(JSON.stringify({ ...entry, seq })),
          this.kv.put(`${log}/head`).value(String(seq)),
        )
        .else(this.kv.get(`${log}/epoch`), this.kv.get(`${log}/head`))
        .commit(),
    );
    if (result.succeeded) return { committed: true, seq };
    const [epochKv, headKv] = result.responses.map((r) => r.response_range?.kvs?.[0]);
    const epoch = Number(epochKv?.value.toString() ?? 0);
    const head = Number(headKv?.value.toString() ?? 0);
    return { committed: false, reason: epoch === 0 || epoch !== entry.epoch ? "fenced" : "conflict", head, epoch };
  }

  async read(log: string, fromSeq: number, limit?: number): Promise<LogEntry[]> {
    const query = this.kv
      .getAll()
      .inRange({ start: seqKey(log, Math.max(1, fromSeq)), end: `${log}/wal0` })
      .sort("Key", "Ascend");
    const values = await etcd(`read of ${log}`, () => (limit === undefined ? query : query.limit(limit)).strings());
    return Object.values(values).map((text) => JSON.parse(text) as LogEntry);
  }

  async trim(log: string, throughSeq: number, guard: { key: string; version: number }): Promise<boolean> {
    if (throughSeq < 1) return true;
    const result = await etcd(`trim of ${log}`, () =>
      this.kv
        .if(guard.key, "Version", "==", guard.version)
        .then(this.kv.delete().inRange({ start: seqKey(log, 1), end: seqKey(log, throughSeq + 1) }))
        .commit(),
    );
    return result.succeeded;
  }

  async subscribe(log: string, onChange: () => void): Promise<{ close(): Promise<void> }> {
    const watcher: Watcher = await etcd(`watch of ${log}`, () => this.kv.watch().prefix(`${log}/wal/`).create());
    // After a reconnection the watch resumes, but a wake-up then makes the follower re-read anyway.
    watcher.on("put", () => onChange());
    watcher.on("connected", () => onChange());
    watcher.on("error", () => {});
    return { close: () => watcher.cancel() };
  }

  async acquire(name: string, holder: string, ttlMs: number): Promise<HeldLease | null> {
    const lease = this.client.lease(Math.max(1, Math.ceil(ttlMs / 1000)), { autoKeepAlive: false });
    lease.on("lost", () => {});
    try {
      const id = await etcd(`lease for ${name}`, () => lease.grant());
      for (;;) {
        const current = await etcd(`epoch of ${name}`, () => this.kv.get(`${name}/epoch`).exec());
        const kv: IKeyValue | undefined = current.kvs[0];
        const epoch = Number(kv?.value.toString() ?? 0) + 1;
        const taken = await etcd(`ownership of ${name}`, () =>
          this.kv
            .if(`${name}/owner`, "Create", "==", 0)
            .and(`${name}/epoch`, "Mod", "==", kv ? Number(kv.mod_revision) : 0)
            .then(
              this.kv.put(`${name}/owner`).value(holder).lease(id),
              this.kv.put(`${name}/epoch`).value(String(epoch)),
            )
            .else(this.kv.get(`${name}/owner`))
            .commit(),
        );
        if (taken.succeeded) return heldLease(name, holder, epoch, lease);
        if (taken.responses[0]?.response_range?.kvs?.length) {
          await lease.revoke().catch(() => {});
          return null;
        }
        // The epoch moved between our read and the transaction (another acquirer won and already
        // lost its lease): read it again.
      }
    } catch (error) {
      await lease.revoke().catch(() => {});
      throw error;
    }
  }

  async owner(name: string): Promise<LeaseOwner | null> {
    const result = await etcd(`owner of ${name}`, () =>
      this.kv
        .if(`${name}/owner`, "Create", ">", 0)
        .then(this.kv.get(`${name}/owner`), this.kv.get(`${name}/epoch`))
        .commit(),
    );
    if (!result.succeeded) return null;
    const [owner, epoch] = result.responses.map((r) => r.response_range?.kvs?.[0]?.value.toString());
    return owner === undefined ? null : { holder: owner, epoch: Number(epoch ?? 0) };
  }

  async get(key: string): Promise<CatalogValue | null> {
    const found = await etcd(`catalog ${key}`, () => this.kv.get(key).exec());
    const kv = found.kvs[0];
    return kv ? { value: kv.value.toString(), version: Number(kv.version) } : null;
  }

  async put(key: string, value: string, expectedVersion: number): Promise<boolean> {
    const result = await etcd(`catalog ${key}`, () =>
      this.kv.if(key, "Version", "==", expectedVersion).then(this.kv.put(key).value(value)).commit(),
    );
    return result.succeeded;
  }

  async list(prefix: string): Promise<(CatalogValue & { key: string })[]> {
    const found = await etcd(`catalog ${prefix}*`, () => this.kv.getAll().prefix(prefix).sort("Key", "Ascend").exec());
    return found.kvs.map((kv) => ({ key: kv.key.toString(), value: kv.value.toString(), version: Number(kv.version) }));
  }

  close(): void {
    this.client.close();
  }
}

function heldLease(name: string, holder: string, epoch: number, lease: Lease): HeldLease {
  return {
    name,
    holder,
    epoch,
    renew: () => etcd(`renewal of the lease on ${name}`, () => lease.keepaliveOnce()).then(() => {}),
    release: () => etcd(`release of ${name}`, () => lease.revoke()),
  };
}

interface SteadyBackoff {
  duration: number;
  next(): SteadyBackoff;
}

/** A retry pace that never grows (the client's IBackoff shape: a duration and the next backoff). */
function steadyBackoff(ms: number): SteadyBackoff {
  const backoff: SteadyBackoff = { duration: ms, next: () => backoff };
  return backoff;
}

/** Runs one etcd request, turning its failures into QuiverErrors (UNAVAILABLE: retry later). */
async function etcd<T>(what: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (isQuiverError(error)) throw error;
    if (error instanceof EtcdLeaseInvalidError)
      throw new QuiverError("UNAVAILABLE", `${what}: the lease has expired; acquire again for a new epoch`, {
        cause: error,
      });
    const reason = error instanceof Error ? error.message : String(error);
    throw new QuiverError("UNAVAILABLE", `${what}: etcd did not answer (${reason})`, { cause: error });
  }
}
