/**
 * A database that bills a key for every call made on its behalf, in the units the equivalent REST
 * request costs (src/server/usage.ts, src/server/costs.ts), and refuses calls once the key's quota
 * is used up. Surfaces that call the API for a key without going through the route table (the MCP
 * tools on /mcp) get this view, so no route does unmetered work.
 */
import type { CollectionApi, DatabaseApi } from "../api/types.js";
import { QuiverError } from "../core/errors/errors.js";
import type { Deadline } from "../core/util/deadline.js";
import { queryCost } from "./costs.js";
import type { Principal } from "./keys.js";
import type { Metrics } from "./metrics.js";
import { unitsFor, utf8Size, type Cost, type Units, type UsageMeter } from "./usage.js";

const READ: Cost = { kind: "read" };
const FLAT_WRITE: Cost = { kind: "write", flat: true };

/**
 * Size of a value as the JSON a REST answer (or request body) would carry. Results are nearly
 * always ASCII (ids, numbers, keys), so their size is the string's length, with no encoded copy;
 * only text with other characters is encoded to be counted.
 */
function jsonBytes(v: unknown): number {
  if (v === undefined) return 0;
  return utf8Size(JSON.stringify(v));
}

export interface Meter {
  usage: UsageMeter;
  metrics: Metrics;
  /** Units billed so far through this view (the request log reports them). */
  tally: Units;
  /** The request's deadline, given to every read the caller does not give its own. */
  deadline?: Deadline;
}

/**
 * `db` (already scoped to the key) with every call checked against the key's quota and billed.
 * @example
 * const tally = { readUnits: 0, writeUnits: 0 };
 * const db = meteredDatabase(scopedDatabase(server.db, principal), principal, { usage, metrics, tally });
 */
export function meteredDatabase(db: DatabaseApi, p: Principal, meter: Meter): DatabaseApi {
  const admit = () => {
    const over = meter.usage.quotaExceeded(p);
    if (over) throw new QuiverError("QUOTA_EXCEEDED", over);
  };
  const bill = (collection: string | undefined, cost: Cost, responseBytes: number) => {
    const units = unitsFor(cost, responseBytes);
    meter.tally.readUnits += units.readUnits;
    meter.tally.writeUnits += units.writeUnits;
    meter.usage.record(p.id, collection, units);
    if (collection !== undefined) meter.metrics.addUnits(collection, units.readUnits, units.writeUnits);
  };
  /** Runs one call: quota first, then the work, then the bill (failed calls cost nothing, as over REST). */
  async function call<T>(collection: string | undefined, run: () => Promise<T>, cost: (r: T) => Cost): Promise<T> {
    admit();
    const r = await run();
    const c = cost(r);
    bill(collection, c, c.kind === "read" ? jsonBytes(r) : 0);
    return r;
  }
  const wrap = (c: CollectionApi): CollectionApi => ({
    name: c.name,
    get schema() {
      return c.schema;
    },
    upsert: (records) =>
      call(
        c.name,
        () => c.upsert(records),
        () => ({ kind: "write", bytesWritten: jsonBytes({ records }) }),
      ),
    delete: (ids) =>
      call(
        c.name,
        () => c.delete(ids),
        (r) => ({ kind: "write", deleted: r.deleted }),
      ),
    deleteByFilter: (filter, opts) =>
      call(
        c.name,
        () => c.deleteByFilter(filter, opts ?? { deadline: meter.deadline }),
        (r) => ({ kind: "write", deleted: r.deleted }),
      ),
    get: (ids, opts) =>
      call(
        c.name,
        () => c.get(ids, opts),
        () => READ,
      ),
    count: (filter, opts) =>
      call(
        c.name,
        () => c.count(filter, opts ?? { deadline: meter.deadline }),
        () => READ,
      ),
    scroll: (req, opts) =>
      call(
        c.name,
        () => c.scroll(req, opts ?? { deadline: meter.deadline }),
        () => READ,
      ),
    query: (req, opts) =>
      call(
        c.name,
        () => c.query(req, opts ?? { deadline: meter.deadline }),
        (r) => queryCost(c, req as unknown as Record<string, unknown>, r.plan),
      ),
  });
  return {
    createCollection: async (name, schema, opts) =>
      wrap(
        await call(
          name,
          () => db.createCollection(name, schema, opts),
          () => FLAT_WRITE,
        ),
      ),
    collection: async (name) => wrap(await db.collection(name)),
    listCollections: () =>
      call(
        undefined,
        () => db.listCollections(),
        () => READ,
      ),
    dropCollection: (name) =>
      call(
        name,
        () => db.dropCollection(name),
        () => FLAT_WRITE,
      ),
    stats: () => db.stats(),
    checkpoint: () => db.checkpoint(),
    close: () => db.close(),
  };
}
