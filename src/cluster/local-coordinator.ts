/**
 * CommitLog, Lease and Catalog for one process: the same contracts as EtcdCoordinator, kept in
 * memory, for an embedded single-node "cluster", for tests, and as the reference the conformance
 * suites hold etcd to. Time comes from the clock passed in, so tests can expire a lease at will.
 */
import { QuiverError } from "../core/errors/errors.js";
import type { Catalog, CatalogValue } from "./catalog.js";
import type { AppendResult, CommitLog, LogEntry } from "./commit-log.js";
import type { HeldLease, LeaseOwner, LeaseService } from "./lease.js";

interface LeaseState {
  holder: string;
  token: number;
  expiresAt: number;
}

export class LocalCoordinator implements CommitLog, LeaseService, Catalog {
  private readonly logs = new Map<string, LogEntry[]>();
  /** Per log, the seq through which pointers were trimmed (the entries array keeps its numbering). */
  private readonly trimmed = new Map<string, number>();
  private readonly epochs = new Map<string, number>();
  private readonly leases = new Map<string, LeaseState>();
  private readonly values = new Map<string, CatalogValue>();
  private readonly listeners = new Map<string, Set<() => void>>();
  private nextToken = 1;

  constructor(private readonly now: () => number = Date.now) {}

  async head(log: string): Promise<number> {
    return this.logs.get(log)?.length ?? 0;
  }

  async append(log: string, expectedHead: number, entry: Omit<LogEntry, "seq">): Promise<AppendResult> {
    const entries = this.logs.get(log) ?? [];
    const epoch = this.epochs.get(log) ?? 0;
    if (epoch === 0 || epoch !== entry.epoch)
      return { committed: false, reason: "fenced", head: entries.length, epoch };
    if (entries.length !== expectedHead) return { committed: false, reason: "conflict", head: entries.length, epoch };
    entries.push({ ...entry, seq: expectedHead + 1 });
    this.logs.set(log, entries);
    for (const listener of this.listeners.get(log) ?? []) queueMicrotask(listener);
    return { committed: true, seq: expectedHead + 1 };
  }

  async read(log: string, fromSeq: number, limit = Number.POSITIVE_INFINITY): Promise<LogEntry[]> {
    const entries = this.logs.get(log) ?? [];
    const from = Math.max(0, fromSeq - 1, this.trimmed.get(log) ?? 0);
    return entries.slice(from, from + limit).map((e) => ({ ...e }));
  }

  async trim(log: string, throughSeq: number, guard: { key: string; version: number }): Promise<boolean> {
    if ((this.values.get(guard.key)?.version ?? 0) !== guard.version) return false;
    this.trimmed.set(log, Math.max(this.trimmed.get(log) ?? 0, Math.min(throughSeq, await this.head(log))));
    return true;
  }

  async subscribe(log: string, onChange: () => void): Promise<{ close(): Promise<void> }> {
    const set = this.listeners.get(log) ?? new Set();
    this.listeners.set(log, set);
    const listener = (): void => onChange();
    set.add(listener);
    return { close: async () => void set.delete(listener) };
  }

  async acquire(name: string, holder: string, ttlMs: number): Promise<HeldLease | null> {
    if (this.liveLease(name)) return null;
    const token = this.nextToken++;
    const epoch = (this.epochs.get(name) ?? 0) + 1;
    this.epochs.set(name, epoch);
    this.leases.set(name, { holder, token, expiresAt: this.now() + ttlMs });
    const mine = (): LeaseState | undefined => {
      const state = this.liveLease(name);
      return state?.token === token ? state : undefined;
    };
    return {
      name,
      holder,
      epoch,
      renew: async () => {
        const state = mine();
        if (!state) throw new QuiverError("UNAVAILABLE", `the lease on ${name} held by ${holder} has expired`);
        state.expiresAt = this.now() + ttlMs;
      },
      release: async () => {
        if (mine()) this.leases.delete(name);
      },
    };
  }

  async owner(name: string): Promise<LeaseOwner | null> {
    const state = this.liveLease(name);
    return state ? { holder: state.holder, epoch: this.epochs.get(name) ?? 0 } : null;
  }

  async get(key: string): Promise<CatalogValue | null> {
    const found = this.values.get(key);
    return found ? { ...found } : null;
  }

  async put(key: string, value: string, expectedVersion: number): Promise<boolean> {
    const version = this.values.get(key)?.version ?? 0;
    if (version !== expectedVersion) return false;
    this.values.set(key, { value, version: version + 1 });
    return true;
  }

  async list(prefix: string): Promise<(CatalogValue & { key: string })[]> {
    return [...this.values.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, v]) => ({ key, ...v }));
  }

  private liveLease(name: string): LeaseState | undefined {
    const state = this.leases.get(name);
    if (state && state.expiresAt <= this.now()) this.leases.delete(name);
    return this.leases.get(name);
  }
}
