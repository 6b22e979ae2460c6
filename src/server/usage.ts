/**
 * Usage metering: the read and write units each request cost, accumulated per key and per
 * collection, with optional monthly quotas. Persisted in `server-usage.json` (written atomically
 * through the database's Directory at most every `flushMs` and at shutdown), so a crash loses at
 * most that window of metering, never data. The file carries a CRC32C (storage/checked-json.ts): a
 * damaged one is reported through `onWarning`, naming it, and metering restarts from zero.
 *
 * The formula (docs/server.md):
 *   read units  = 1 + ceil(work / 100,000) + ceil(response bytes / 16,384),
 *                 work = vectors compared x dimension + 100 x text matches scored
 *                        + 100 x query text characters analysed
 *                        + 100 x filter terms x payloads checked (queries; else 0; src/server/costs.ts)
 *   write units = upsert: max(1, ceil(request bytes / 4,096)); delete: max(1, ceil(records deleted / 100));
 *                 create or drop a collection: 1
 * Requests that fail cost nothing; key management, metrics and health are not metered.
 */
import { QuiverError } from "../core/errors/errors.js";
import { writeFileAtomic, type Directory } from "../storage/directory.js";
import { decodeCheckedJson, encodeCheckedJson } from "../storage/checked-json.js";
import type { Principal } from "./keys.js";

export const USAGE_FILE = "server-usage.json";

export interface Units {
  readUnits: number;
  writeUnits: number;
}

export interface Counter extends Units {
  requests: number;
}

/** What a handler reports about the work it did; the meter turns it into units. */
export interface Cost {
  kind: "read" | "write" | "none";
  /** Query work (src/server/costs.ts): vectors compared x dimension + 100 x text matches, text characters, filter terms x payloads checked. */
  work?: number;
  /** Request body bytes (upserts). */
  bytesWritten?: number;
  /** Records deleted. */
  deleted?: number;
  /** Create / drop: a flat one unit. */
  flat?: boolean;
}

const utf8 = new TextEncoder();
/** A character past ASCII (surrogate halves included): a string without one has its length as UTF-8 size. */
const BEYOND_ASCII = /[\u0080-\uffff]/;

/**
 * The UTF-8 size of `s`, as billed. JSON answers are nearly always ASCII (ids, numbers, keys), so
 * their size is the string's length, with no encoded copy; other text is encoded to be counted.
 */
export function utf8Size(s: string): number {
  return BEYOND_ASCII.test(s) ? utf8.encode(s).byteLength : s.length;
}

export function unitsFor(cost: Cost, responseBytes: number): Units {
  if (cost.kind === "none") return { readUnits: 0, writeUnits: 0 };
  if (cost.kind === "read") {
    const compute = Math.ceil((cost.work ?? 0) / 100_000);
    return { readUnits: 1 + compute + Math.ceil(responseBytes / 16_384), writeUnits: 0 };
  }
  if (cost.flat) return { readUnits: 0, writeUnits: 1 };
  if (cost.bytesWritten !== undefined)
    return { readUnits: 0, writeUnits: Math.max(1, Math.ceil(cost.bytesWritten / 4096)) };
  return { readUnits: 0, writeUnits: Math.max(1, Math.ceil((cost.deleted ?? 0) / 100)) };
}

interface KeyUsage {
  total: Counter;
  /** The month (YYYY-MM, UTC) the period counters belong to. */
  month: string;
  period: Counter;
  /** By collection name: a Map, because names are user input ("__proto__" is a fine key here). */
  collections: Map<string, Counter>;
}

/** The file's shape: plain JSON objects, read back into Maps (`fromFile`) and never indexed directly. */
interface UsageFile {
  version: 1;
  keys: Record<string, Omit<KeyUsage, "collections"> & { collections: Record<string, Counter> }>;
}

/** Own entries only: a parsed file may hold any key, and nothing inherited is ever read as data. */
function ownEntries<T>(o: unknown): [string, T][] {
  return typeof o === "object" && o !== null ? (Object.entries(o) as [string, T][]) : [];
}

function fromFile(file: UsageFile): Map<string, KeyUsage> {
  const keys = new Map<string, KeyUsage>();
  for (const [id, u] of ownEntries<UsageFile["keys"][string]>(file.keys))
    keys.set(id, { ...u, collections: new Map(ownEntries<Counter>(u.collections)) });
  return keys;
}

/** `Object.fromEntries` defines own properties, so even a "__proto__" name stays plain data. */
function toFile(keys: Map<string, KeyUsage>): UsageFile {
  return {
    version: 1,
    keys: Object.fromEntries(
      [...keys].map(([id, u]) => [id, { ...u, collections: Object.fromEntries(u.collections) }]),
    ),
  };
}

const zero = (): Counter => ({ readUnits: 0, writeUnits: 0, requests: 0 });

function add(c: Counter, u: Units): void {
  c.readUnits += u.readUnits;
  c.writeUnits += u.writeUnits;
  c.requests++;
}

export class UsageMeter {
  /** Told of every recorded request's units (a cluster's nodes add them up in etcd: src/cluster/serve/cluster-usage.ts). */
  onRecord?: (keyId: string, collection: string | undefined, units: Units) => void;
  private dirty = false;
  private lastFlush = 0;
  private flushing: Promise<void> | null = null;
  private cachedMonth = "";
  private monthFrom = 0;
  private monthUntil = 0;

  private constructor(
    private readonly dir: Directory | null,
    private readonly keys: Map<string, KeyUsage>,
    private readonly flushMs: number,
    private readonly now: () => number,
    private readonly onWarning: (m: string) => void,
  ) {}

  static async open(
    dir: Directory | null,
    opts: { flushMs?: number; now?: () => number; onWarning?: (m: string) => void } = {},
  ): Promise<UsageMeter> {
    let keys = new Map<string, KeyUsage>();
    if (dir) {
      try {
        const parsed = decodeCheckedJson(await dir.read(USAGE_FILE), USAGE_FILE, { allowUnchecked: true }) as UsageFile;
        if (parsed.version === 1 && typeof parsed.keys === "object" && parsed.keys !== null) keys = fromFile(parsed);
      } catch (e) {
        if (!(e instanceof QuiverError && e.code === "NOT_FOUND"))
          opts.onWarning?.(`${USAGE_FILE} unreadable, usage starts from zero: ${String(e)}`);
      }
    }
    const now = opts.now ?? Date.now;
    return new UsageMeter(dir, keys, opts.flushMs ?? 5_000, now, opts.onWarning ?? (() => undefined));
  }

  /** The current month (YYYY-MM, UTC), recomputed only when the clock leaves the cached one. */
  private month(): string {
    const t = this.now();
    if (t < this.monthFrom || t >= this.monthUntil) {
      const d = new Date(t);
      this.monthFrom = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
      this.monthUntil = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      this.cachedMonth = d.toISOString().slice(0, 7);
    }
    return this.cachedMonth;
  }

  private usageOf(keyId: string): KeyUsage {
    let u = this.keys.get(keyId);
    if (!u) {
      u = { total: zero(), month: this.month(), period: zero(), collections: new Map() };
      this.keys.set(keyId, u);
    }
    const m = this.month();
    if (u.month !== m) {
      u.month = m;
      u.period = zero();
    }
    return u;
  }

  /** Null when the key may go on; otherwise why its quota is exhausted. */
  quotaExceeded(p: Principal): string | null {
    if (!p.quota) return null;
    const u = this.usageOf(p.id);
    if (p.quota.readUnits !== undefined && u.period.readUnits >= p.quota.readUnits)
      return `read quota of ${p.quota.readUnits} units for ${u.month} is used up`;
    if (p.quota.writeUnits !== undefined && u.period.writeUnits >= p.quota.writeUnits)
      return `write quota of ${p.quota.writeUnits} units for ${u.month} is used up`;
    return null;
  }

  record(keyId: string, collection: string | undefined, units: Units): void {
    if (units.readUnits === 0 && units.writeUnits === 0) return;
    const u = this.usageOf(keyId);
    add(u.total, units);
    add(u.period, units);
    if (collection !== undefined) {
      let c = u.collections.get(collection);
      if (!c) {
        c = zero();
        u.collections.set(collection, c);
      }
      add(c, units);
    }
    this.dirty = true;
    this.onRecord?.(keyId, collection, units);
    if (this.now() - this.lastFlush >= this.flushMs) void this.flush();
  }

  /** Replaces a key's counters with these (a cluster's totals, read back from etcd). */
  adopt(keyId: string, u: ReturnType<UsageMeter["ofKey"]>): void {
    const { total, month, period, collections } = structuredClone(u);
    this.keys.set(keyId, { total, month, period, collections: new Map(ownEntries<Counter>(collections)) });
  }

  /** Usage of one key (its own view). */
  ofKey(keyId: string): {
    key: string;
    total: Counter;
    month: string;
    period: Counter;
    collections: Record<string, Counter>;
  } {
    const u = this.usageOf(keyId);
    return { key: keyId, ...structuredClone({ ...u, collections: Object.fromEntries(u.collections) }) };
  }

  /** Every key's usage and the per-collection sums (the admin's view). */
  all(): { keys: ReturnType<UsageMeter["ofKey"]>[]; collections: Record<string, Counter> } {
    const sums = new Map<string, Counter>();
    for (const u of this.keys.values()) {
      for (const [name, c] of u.collections) {
        let sum = sums.get(name);
        if (!sum) {
          sum = zero();
          sums.set(name, sum);
        }
        sum.readUnits += c.readUnits;
        sum.writeUnits += c.writeUnits;
        sum.requests += c.requests;
      }
    }
    return {
      keys: [...this.keys.keys()].sort().map((k) => this.ofKey(k)),
      collections: Object.fromEntries(sums),
    };
  }

  /** Writes the counters if they changed; safe to call at any time. */
  async flush(): Promise<void> {
    if (!this.dir) return;
    while (this.flushing) await this.flushing;
    if (!this.dirty) return;
    this.dirty = false;
    this.lastFlush = this.now();
    const bytes = encodeCheckedJson(toFile(this.keys));
    this.flushing = writeFileAtomic(this.dir, USAGE_FILE, bytes)
      .catch((e) => {
        this.dirty = true;
        this.onWarning(`could not save usage (will retry): ${e instanceof Error ? e.message : String(e)}`);
      })
      .finally(() => {
        this.flushing = null;
      });
    await this.flushing;
  }
}
