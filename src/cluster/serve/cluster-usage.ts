/**
 * Usage metering across a cluster: each node's meter (src/server/usage.ts) counts the requests it
 * serves, and every `flushMs` (5 s) and on close the units counted since the last flush are added
 * to the key's record in the cluster's Catalog (`server/usage/<key id>`, JSON) by compare-and-set,
 * retried on conflict, so increments from any number of nodes are never lost nor counted twice.
 * The flush then reads every key's record back into the node's meter (plus what it counted since),
 * so `/v1/usage` on any node answers the cluster-wide totals, at most one flush period behind.
 * Units that could not be written stay pending for the next flush.
 */
import type { Counter, Units, UsageMeter } from "../../server/usage.js";
import type { Catalog } from "../catalog.js";

export const USAGE_PREFIX = "server/usage/";

type KeyUsage = ReturnType<UsageMeter["ofKey"]>;

/** Units counted on this node and not yet in the Catalog, for one key and month. */
interface Delta {
  keyId: string;
  month: string;
  total: Counter;
  collections: Map<string, Counter>;
}

const zero = (): Counter => ({ readUnits: 0, writeUnits: 0, requests: 0 });

function addTo(c: Counter, d: Counter): void {
  c.readUnits += d.readUnits;
  c.writeUnits += d.writeUnits;
  c.requests += d.requests;
}

/** `u` with `d` added: totals always, the period only within its month (a later month starts it afresh). */
function merged(u: KeyUsage | null, keyId: string, d: Delta): KeyUsage {
  const out: KeyUsage = u
    ? structuredClone(u)
    : { key: keyId, total: zero(), month: d.month, period: zero(), collections: {} };
  addTo(out.total, d.total);
  if (d.month > out.month) [out.month, out.period] = [d.month, zero()];
  if (d.month === out.month) addTo(out.period, d.total);
  const collections = new Map(Object.entries(out.collections));
  for (const [name, c] of d.collections) {
    const sum = collections.get(name) ?? zero();
    addTo(sum, c);
    collections.set(name, sum);
  }
  out.collections = Object.fromEntries(collections);
  return out;
}

export class ClusterUsage {
  private pending = new Map<string, Delta>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly catalog: Catalog,
    private readonly meter: UsageMeter,
    private readonly opts: { flushMs?: number; now?: () => number; onWarning?: (m: string) => void } = {},
  ) {}

  /** Counts the meter's requests from now on, flushing every `flushMs`. */
  start(): void {
    this.meter.onRecord = (keyId, collection, units) => this.count(keyId, collection, units);
    this.timer = setInterval(() => void this.flush(), this.opts.flushMs ?? 5_000);
    this.timer.unref?.();
  }

  private count(keyId: string, collection: string | undefined, units: Units): void {
    const month = new Date((this.opts.now ?? Date.now)()).toISOString().slice(0, 7);
    // By month and key: units of a month that has just ended are written apart from the new month's.
    let d = this.pending.get(`${month}\0${keyId}`);
    if (!d) {
      d = { keyId, month, total: zero(), collections: new Map() };
      this.pending.set(`${month}\0${keyId}`, d);
    }
    const one = { ...units, requests: 1 };
    addTo(d.total, one);
    if (collection !== undefined) {
      const c = d.collections.get(collection) ?? zero();
      addTo(c, one);
      d.collections.set(collection, c);
    }
  }

  /** Writes the pending units to the Catalog and reads every key's totals back into the meter. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    this.flushing = this.write().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  private async write(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    for (const [slot, d] of batch) {
      const keyId = d.keyId;
      try {
        for (;;) {
          const current = await this.catalog.get(USAGE_PREFIX + keyId);
          const next = merged(current && (JSON.parse(current.value) as KeyUsage), keyId, d);
          if (await this.catalog.put(USAGE_PREFIX + keyId, JSON.stringify(next), current?.version ?? 0)) break;
        }
      } catch (e) {
        // Kept for the next flush, before anything counted since.
        const later = this.pending.get(slot);
        this.pending.set(slot, later ? mergeDeltas(d, later) : d);
        this.opts.onWarning?.(`could not save usage to the cluster (will retry): ${String(e)}`);
      }
    }
    try {
      for (const { key, value } of await this.catalog.list(USAGE_PREFIX)) {
        const keyId = key.slice(USAGE_PREFIX.length);
        let u = JSON.parse(value) as KeyUsage;
        // Plus what this node counted since (months in order: a later month restarts the period).
        const own = [...this.pending.values()].filter((d) => d.keyId === keyId);
        for (const d of own.sort((a, b) => (a.month < b.month ? -1 : 1))) u = merged(u, keyId, d);
        this.meter.adopt(keyId, u);
      }
    } catch (e) {
      this.opts.onWarning?.(`could not read the cluster's usage: ${String(e)}`);
    }
  }

  /** Stops the timer and writes what is pending. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.meter.onRecord) this.meter.onRecord = undefined;
    await this.flush();
  }
}

/** Two deltas of one key and month as one. */
function mergeDeltas(a: Delta, b: Delta): Delta {
  const total = zero();
  addTo(total, a.total);
  addTo(total, b.total);
  const collections = new Map<string, Counter>();
  for (const m of [a.collections, b.collections])
    for (const [name, c] of m) {
      const sum = collections.get(name) ?? zero();
      addTo(sum, c);
      collections.set(name, sum);
    }
  return { keyId: a.keyId, month: a.month, total, collections };
}
