/**
 * Records browser: pages of ids and payload fields (scroll with its cursor), a filter in Quiver's
 * filter language whose errors are listed with the paths the API reports, a record's detail
 * (payload, and per named vector its dimension, norm and first values) and, for a write key, delete.
 * Image records show their stored thumbnail in the table and in the detail.
 */
import { useEffect, useState } from "preact/hooks";
import type { RecordOutput } from "quiverdb/client";
import { can, parseJsonField, type Session } from "../api";
import { count } from "../format";
import { PayloadJson, Thumbnail, thumbnailOf } from "../thumbnail";
import { CollectionPicker, Confirmed, ErrorBox, useAction } from "../ui";

const PAGE = 50;

interface Props {
  session: Session;
  names: string[];
  collection: string;
}

function cell(v: unknown): string {
  if (v === undefined) return "";
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

function norm(v: number[]): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

export function Records({ session, names, collection }: Props) {
  const [filterText, setFilterText] = useState("");
  const [pages, setPages] = useState<(string | undefined)[]>([undefined]);
  const [records, setRecords] = useState<RecordOutput[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [total, setTotal] = useState<number | null>(null);
  const [detail, setDetail] = useState<RecordOutput | null>(null);
  const [load, loading] = useAction();
  const [act, acting] = useAction();

  const show = (cursor: string | undefined, history: (string | undefined)[]) =>
    load(async () => {
      const coll = await session.client.collection(collection);
      const filter = parseJsonField(filterText, "filter") as Record<string, unknown> | undefined;
      const page = await coll.scroll({ limit: PAGE, cursor, filter, withPayload: true });
      setTotal(await coll.count(filter));
      setRecords(page.records);
      setNext(page.nextCursor);
      setPages(history);
    });
  useEffect(() => {
    setDetail(null);
    if (collection) show(undefined, [undefined]);
  }, [collection]);

  const images = records.some((r) => thumbnailOf(r.payload) !== null);
  const fields = [...new Set(records.flatMap((r) => Object.keys(r.payload ?? {})))]
    .filter((f) => !(images && f === "thumbnail"))
    .slice(0, 8);
  return (
    <section class="records">
      <h2>Records</h2>
      <CollectionPicker names={names} value={collection} view="records" />
      <form
        class="filter"
        onSubmit={(e) => {
          e.preventDefault();
          show(undefined, [undefined]);
        }}
      >
        <label>
          Filter (JSON, docs/filters.md), e.g. <code>{'{"topic": "jazz", "year": {"$gte": 2000}}'}</code>
          <textarea
            name="filter"
            rows={2}
            value={filterText}
            onInput={(e) => setFilterText((e.currentTarget as HTMLTextAreaElement).value)}
          />
        </label>
        <button type="submit">Apply</button>
      </form>
      <ErrorBox error={loading.error} />
      <p class="muted" data-role="total">
        {total === null ? "" : `${count(total)} record${total === 1 ? "" : "s"}`}
        {total !== null && ` · page ${pages.length}`}
      </p>
      <table class="records-table">
        <thead>
          <tr>
            {images && <th>image</th>}
            <th>id</th>
            {fields.map((f) => (
              <th>{f}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {records.map((r) => (
            <tr
              data-id={r.id}
              class={detail?.id === r.id ? "selected" : ""}
              onClick={() =>
                act(async () => {
                  const coll = await session.client.collection(collection);
                  const [full] = await coll.get([r.id], { withPayload: true, withVectors: true });
                  setDetail(full ?? null);
                })
              }
            >
              {images && (
                <td>
                  <Thumbnail payload={r.payload} label={r.id} />
                </td>
              )}
              <td>
                <code>{r.id}</code>
              </td>
              {fields.map((f) => (
                <td>{cell(r.payload?.[f])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <div class="pager">
        <button
          type="button"
          disabled={pages.length <= 1 || loading.busy}
          onClick={() => show(pages[pages.length - 2], pages.slice(0, -1))}
        >
          ← Previous
        </button>
        <button
          type="button"
          data-action="next-page"
          disabled={next === null || loading.busy}
          onClick={() => show(next ?? undefined, [...pages, next ?? undefined])}
        >
          Next →
        </button>
      </div>
      <ErrorBox error={acting.error} />
      {detail && (
        <aside class="detail" data-detail={detail.id}>
          <h3>
            <code>{detail.id}</code>
          </h3>
          <Thumbnail payload={detail.payload} label={detail.id} />
          <h4>Payload</h4>
          <PayloadJson payload={detail.payload} />
          <h4>Vectors</h4>
          <ul>
            {Object.entries(detail.vectors ?? {}).map(([name, v]) =>
              !Array.isArray(v) ? (
                <li>
                  <code>{name}</code>: sparse, {v.indices.length} non-zero entries
                </li>
              ) : (
                <li>
                  <code>{name}</code>: {v.length}-d, norm {norm(v).toFixed(4)}, [
                  {v
                    .slice(0, 6)
                    .map((x) => x.toFixed(3))
                    .join(", ")}
                  {v.length > 6 ? ", …" : ""}]
                </li>
              ),
            )}
          </ul>
          {can(session, "write") && (
            <Confirmed
              key={detail.id}
              action="delete"
              label="Delete…"
              question={
                <span>
                  Delete <code>{detail.id}</code>?
                </span>
              }
              confirmLabel="Delete for good"
              onConfirm={() =>
                act(async () => {
                  await (await session.client.collection(collection)).delete([detail.id]);
                  setDetail(null);
                  await show(pages[pages.length - 1], pages);
                })
              }
            />
          )}
        </aside>
      )}
    </section>
  );
}
