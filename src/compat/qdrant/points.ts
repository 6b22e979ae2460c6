/**
 * Qdrant's point operations over a Quiver collection: upsert, retrieve, scroll, count, delete by
 * ids or filter, and the payload operations. Quiver writes whole records, so a payload operation
 * reads each selected record (vectors included) and writes it back with the new payload; unlike in
 * Qdrant it is not atomic with a concurrent write of the same point (docs/compat-qdrant.md).
 */
import type { CollectionApi } from "../../api/types.js";
import type { RecordOutput } from "../../api/query.js";
import { matches } from "../../core/query/filter/evaluate.js";
import { parseFilter } from "../../core/query/filter/parse.js";
import { Checker, isObject, type Json, unsupported } from "../shape.js";
import { translateFilter, type TranslatedFilter } from "./filter.js";
import { pointId, quiverId, quiverIds } from "./ids.js";
import { point, readOptions, removeAt, selection, upsertRecords } from "./records.js";

/** Records per call when an operation walks or rewrites many records. */
const PAGE = 1_000;

/** Quiver writes are durable and visible once acknowledged, so every operation is `completed`. */
export const COMPLETED: Json = { operation_id: 0, status: "completed" };

export async function upsertPoints(c: CollectionApi, body: Json): Promise<Json> {
  const check = new Checker();
  const records = upsertRecords(body, check);
  check.done();
  for (let i = 0; i < records.length; i += PAGE) await c.upsert(records.slice(i, i + PAGE));
  return COMPLETED;
}

/** Records matching a filter restricted to `has_id`'s ids: read by id, the filter checked here. */
async function byIds(
  c: CollectionApi,
  f: TranslatedFilter,
  withPayload: boolean,
  withVectors: boolean,
): Promise<RecordOutput[]> {
  const ids = [...new Set(f.ids)].sort();
  const node = f.filter ? parseFilter(f.filter) : undefined;
  const found: RecordOutput[] = [];
  for (let i = 0; i < ids.length; i += PAGE) {
    const records = await c.get(ids.slice(i, i + PAGE), { withPayload: true, withVectors });
    for (const r of records)
      if (!node || matches(node, r.payload)) found.push(withPayload ? r : { ...r, payload: undefined });
  }
  return found;
}

/** Every record a points selector names: `points` (ids) or `filter`; read with payloads and vectors when asked. */
async function selected(c: CollectionApi, body: Json, check: Checker, full: boolean): Promise<RecordOutput[]> {
  if (body.points !== undefined) {
    const ids = quiverIds(body.points, "points", check);
    check.done();
    const out: RecordOutput[] = [];
    for (let i = 0; i < ids.length; i += PAGE)
      out.push(...(await c.get(ids.slice(i, i + PAGE), { withPayload: full, withVectors: full })));
    return out;
  }
  if (body.filter === undefined || body.filter === null) {
    check.fail("", "must name points (a list of ids) or a filter");
    check.done();
  }
  const f = translateFilter(body.filter, "filter", check);
  check.done();
  if (f.ids) return byIds(c, f, full, full);
  const out: RecordOutput[] = [];
  let cursor: string | undefined;
  do {
    const page = await c.scroll({ cursor, limit: PAGE, filter: f.filter, withPayload: full, withVectors: full });
    out.push(...page.records);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return out;
}

export async function deletePoints(c: CollectionApi, body: Json): Promise<Json> {
  const check = new Checker();
  if (body.points === undefined) {
    const f = translateFilter(body.filter, "filter", check);
    check.done();
    // A pure filter is deleted in one logged operation; has_id narrows to ids first.
    if (!f.ids && f.filter) {
      await c.deleteByFilter(f.filter);
      return COMPLETED;
    }
  }
  const ids = (await selected(c, body, check, false)).map((r) => r.id);
  for (let i = 0; i < ids.length; i += PAGE) await c.delete(ids.slice(i, i + PAGE));
  return COMPLETED;
}

export async function retrievePoints(c: CollectionApi, body: Json): Promise<Json[]> {
  const check = new Checker();
  const ids = quiverIds(body.ids, "ids", check);
  const s = selection(body, check, { payload: true, vectors: false });
  check.done();
  const records = await c.get(ids, readOptions(s));
  const schema = c.schema;
  return records.map((r) => point(r, schema, s));
}

export async function retrievePoint(c: CollectionApi, rawId: string): Promise<Json | undefined> {
  const check = new Checker();
  const id = quiverId(/^\d+$/.test(rawId) ? Number(rawId) : rawId, "id", check);
  check.done();
  const s = { payload: true, vectors: true };
  const [r] = await c.get([id as string], readOptions(s));
  return r && point(r, c.schema, s);
}

/**
 * The smallest cursor before `id` in Quiver's id order: Quiver pages resume after a cursor, Qdrant's
 * after `offset` inclusive. Ids are at most 512 UTF-8 bytes, so no id lies between the string with
 * `id`'s last character lowered and 512 U+FFFF characters appended, and `id` itself.
 */
function cursorBefore(id: string): string | undefined {
  if (id.length === 0) return undefined;
  const last = id.charCodeAt(id.length - 1);
  if (last === 0) return id.slice(0, -1);
  return id.slice(0, -1) + String.fromCharCode(last - 1) + "\uffff".repeat(512);
}

export async function scrollPoints(c: CollectionApi, body: Json): Promise<Json> {
  const check = new Checker();
  if (body.order_by !== undefined && body.order_by !== null) throw unsupported("Qdrant", "scroll order_by");
  const limit = check.int(body.limit, "limit", 1) ?? 10;
  const offset = body.offset === undefined || body.offset === null ? undefined : quiverId(body.offset, "offset", check);
  const f = translateFilter(body.filter, "filter", check);
  const s = selection(body, check, { payload: true, vectors: false });
  check.done();
  const schema = c.schema;
  let records: RecordOutput[];
  let next: string | null;
  if (f.ids) {
    const all = (await byIds(c, f, s.payload, s.vectors)).filter((r) => offset === undefined || r.id >= offset);
    records = all.slice(0, limit);
    next = all[limit]?.id ?? null;
  } else {
    // One record more than asked: its id is Qdrant's next_page_offset.
    const page = await c.scroll({
      cursor: offset === undefined ? undefined : cursorBefore(offset),
      limit: limit + 1,
      filter: f.filter,
      ...readOptions(s),
    });
    records = page.records.slice(0, limit);
    next = page.records[limit]?.id ?? null;
  }
  return {
    points: records.map((r) => point(r, schema, s)),
    next_page_offset: next === null ? null : pointId(next),
  };
}

export async function countPoints(c: CollectionApi, body: Json): Promise<Json> {
  const check = new Checker();
  const f = translateFilter(body.filter, "filter", check);
  check.bool(body.exact, "exact");
  check.done();
  const count = f.ids ? (await byIds(c, f, false, false)).length : await c.count(f.filter);
  return { count };
}

type PayloadEdit = (payload: Json) => Json;

async function editPayloads(c: CollectionApi, body: Json, check: Checker, edit: PayloadEdit): Promise<Json> {
  const records = await selected(c, body, check, true);
  const rewritten = records.map((r) => ({
    id: r.id,
    vectors: r.vectors,
    payload: edit(structuredClone(r.payload ?? {})),
  }));
  for (let i = 0; i < rewritten.length; i += PAGE) await c.upsert(rewritten.slice(i, i + PAGE));
  return COMPLETED;
}

function newPayload(body: Json, check: Checker): Json {
  if (body.key !== undefined && body.key !== null)
    throw unsupported("Qdrant", "set_payload with key (setting inside a nested object)");
  if (!isObject(body.payload)) check.fail("payload", "must be an object");
  return (body.payload ?? {}) as Json;
}

export async function setPayload(c: CollectionApi, body: Json): Promise<Json> {
  const check = new Checker();
  const payload = newPayload(body, check);
  return editPayloads(c, body, check, (p) => Object.assign(p, payload));
}

export async function overwritePayload(c: CollectionApi, body: Json): Promise<Json> {
  const check = new Checker();
  const payload = newPayload(body, check);
  return editPayloads(c, body, check, () => structuredClone(payload));
}

export async function deletePayload(c: CollectionApi, body: Json): Promise<Json> {
  const check = new Checker();
  const keys = Array.isArray(body.keys) && body.keys.every((k) => typeof k === "string") ? (body.keys as string[]) : [];
  if (keys.length === 0) check.fail("keys", "must be a non-empty array of payload keys");
  return editPayloads(c, body, check, (p) => {
    for (const k of keys) removeAt(p, k.replace(/\[\]/g, ""));
    return p;
  });
}

export async function clearPayload(c: CollectionApi, body: Json): Promise<Json> {
  return editPayloads(c, body, new Checker(), () => ({}));
}
