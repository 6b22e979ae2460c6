/**
 * Query playground: vector (pasted, or "more like this record"), text (BM25) and hybrid queries with
 * filter, limit, ef / exact and group-by; hits with scores and each hit's explanation, the plan in
 * words, and the equivalent curl and client code. The last hits are handed to the map to highlight.
 */
import { useEffect, useState } from "preact/hooks";
import type { QueryResult } from "quiverdb/client";
import { parseJsonField, type Session } from "../api";
import { clientSnippet, curlSnippet } from "../snippets";
import { CollectionPicker, ErrorBox, Json, useAction } from "../ui";

export type Mode = "vector" | "like" | "text" | "hybrid";
const MODES: { id: Mode; label: string }[] = [
  { id: "vector", label: "Vector" },
  { id: "like", label: "More like this record" },
  { id: "text", label: "Text (BM25)" },
  { id: "hybrid", label: "Hybrid" },
];

/** A query's hits, for the map to highlight. */
export interface LastHits {
  collection: string;
  ids: string[];
}

interface Props {
  session: Session;
  names: string[];
  collection: string;
  onHits: (h: LastHits) => void;
}

type Explain = QueryResult["hits"][number]["explain"];

function explainText(e: Explain): string {
  if (!e) return "";
  const part = (label: string, s: { rank: number; score: number } | null | undefined) =>
    s === undefined ? [] : [s === null ? `${label}: not ranked` : `${label} #${s.rank} (${s.score.toFixed(4)})`];
  return [...part("text", e.text), ...part("vector", e.vector), ...(e.fusion ? [e.fusion] : [])].join(" · ");
}

function planRows(plan: QueryResult["plan"]): [string, string][] {
  const rows: [string, string][] = [
    ["strategy", plan.strategy],
    ["vector", plan.vector || "—"],
    ["candidates", String(plan.candidates)],
    ["payload indexes used", plan.usedIndexes ? "yes" : "no"],
    ["payloads checked", String(plan.payloadsChecked)],
  ];
  if (plan.ann)
    rows.push([
      "graph search",
      `ef ${plan.ann.ef}, ${plan.ann.visited} nodes visited, ${plan.ann.widenings} widenings${plan.ann.fellBack ? ", fell back to an exact scan" : ""}`,
    ]);
  if (plan.text)
    rows.push([
      "text",
      `fields ${plan.text.fields.join(", ")}; ${plan.text.matched} matched; terms ${Object.entries(plan.text.terms)
        .map(([f, t]) => `${f}: ${t.join(" ")}`)
        .join("; ")}`,
    ]);
  if (plan.fusion) rows.push(["fusion", plan.fusion]);
  return rows;
}

export function Playground({ session, names, collection, onHits }: Props) {
  const [mode, setMode] = useState<Mode>("vector");
  const [vectorNames, setVectorNames] = useState<string[]>([]);
  const [vectorName, setVectorName] = useState("");
  const [vectorText, setVectorText] = useState("");
  const [recordId, setRecordId] = useState("");
  const [text, setText] = useState("");
  const [filterText, setFilterText] = useState("");
  const [limit, setLimit] = useState(10);
  const [ef, setEf] = useState("");
  const [exact, setExact] = useState(false);
  const [groupBy, setGroupBy] = useState("");
  const [sent, setSent] = useState<unknown>(null);
  const [result, setResult] = useState<QueryResult | null>(null);
  const [run, running] = useAction();

  useEffect(() => {
    if (!collection) return;
    session.client.collection(collection).then((c) => {
      // Dense vectors only: the map projects them and the playground takes them as a list of numbers.
      const vs = Object.keys(c.schema.vectors).filter((n) => c.schema.vectors[n].kind !== "sparse");
      setVectorNames(vs);
      setVectorName(vs[0] ?? "");
    });
  }, [collection]);

  /** The query vector: pasted, or the chosen record's (more like this, and hybrid when an id is given). */
  const queryVector = async (): Promise<number[] | undefined> => {
    if (mode === "like" || (mode === "hybrid" && recordId.trim() !== "")) {
      const coll = await session.client.collection(collection);
      const [r] = await coll.get([recordId.trim()], { withVectors: true, withPayload: false });
      if (!r) throw new Error(`record "${recordId.trim()}" does not exist in ${collection}`);
      const v = r.vectors?.[vectorName];
      return Array.isArray(v) ? v : undefined;
    }
    if (mode === "text") return undefined;
    return parseJsonField(vectorText, "vector") as number[] | undefined;
  };

  const submit = () =>
    run(async () => {
      const vector = await queryVector();
      const body: Record<string, unknown> = { limit, explain: true, withPayload: true };
      if (vector !== undefined) body.vector = { [vectorName]: vector };
      if (mode === "text" || mode === "hybrid") body.text = text;
      const filter = parseJsonField(filterText, "filter");
      if (filter !== undefined) body.filter = filter;
      if (ef.trim() !== "") body.ef = Number(ef);
      if (exact) body.exact = true;
      if (groupBy.trim() !== "") body.groupBy = groupBy.trim();
      setSent(body);
      const r = await (await session.client.collection(collection)).query(body);
      setResult(r);
      onHits({ collection, ids: r.hits.map((h) => h.id) });
    });

  const input = (set: (v: string) => void) => (e: Event) => set((e.currentTarget as HTMLInputElement).value);
  return (
    <section class="playground">
      <h2>Query playground</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <CollectionPicker names={names} value={collection} view="query" />
        <fieldset class="modes">
          {MODES.map((m) => (
            <label>
              <input type="radio" name="mode" value={m.id} checked={mode === m.id} onChange={() => setMode(m.id)} />{" "}
              {m.label}
            </label>
          ))}
        </fieldset>
        {mode !== "text" && vectorNames.length > 0 && (
          <label>
            Named vector{" "}
            <select name="vectorName" value={vectorName} onChange={input(setVectorName)}>
              {vectorNames.map((v) => (
                <option value={v}>{v}</option>
              ))}
            </select>
          </label>
        )}
        {mode === "vector" && (
          <label>
            Vector (JSON array)
            <textarea name="vector" rows={2} value={vectorText} onInput={input(setVectorText)} />
          </label>
        )}
        {(mode === "like" || mode === "hybrid") && (
          <label>
            Record id{mode === "hybrid" ? " (its vector; or leave empty and paste one below)" : ""}{" "}
            <input name="recordId" value={recordId} onInput={input(setRecordId)} />
          </label>
        )}
        {mode === "hybrid" && recordId.trim() === "" && (
          <label>
            Vector (JSON array)
            <textarea name="vector" rows={2} value={vectorText} onInput={input(setVectorText)} />
          </label>
        )}
        {(mode === "text" || mode === "hybrid") && (
          <label>
            Text <input name="text" value={text} onInput={input(setText)} />
          </label>
        )}
        <label>
          Filter (JSON)
          <textarea name="filter" rows={2} value={filterText} onInput={input(setFilterText)} />
        </label>
        <div class="row">
          <label>
            limit <input name="limit" type="number" min={1} value={limit} onInput={input((v) => setLimit(Number(v)))} />
          </label>
          <label>
            ef <input name="ef" type="number" min={1} value={ef} onInput={input(setEf)} />
          </label>
          <label>
            <input type="checkbox" name="exact" checked={exact} onChange={(e) => setExact(e.currentTarget.checked)} />{" "}
            exact
          </label>
          <label>
            group by <input name="groupBy" value={groupBy} onInput={input(setGroupBy)} />
          </label>
          <button type="submit" disabled={running.busy || !collection}>
            Run
          </button>
        </div>
      </form>
      <ErrorBox error={running.error} />
      {result && (
        <div class="results">
          <h3>
            {result.hits.length} hit{result.hits.length === 1 ? "" : "s"}
          </h3>
          <table class="hits">
            <thead>
              <tr>
                <th>#</th>
                <th>id</th>
                <th>score</th>
                {groupBy && <th>group</th>}
                <th>payload</th>
                <th>why</th>
              </tr>
            </thead>
            <tbody>
              {result.hits.map((h, i) => (
                <tr data-hit={h.id}>
                  <td>{i + 1}</td>
                  <td>
                    <code>{h.id}</code>
                  </td>
                  <td class="num">{h.score.toFixed(4)}</td>
                  {groupBy && <td>{JSON.stringify(h.group)}</td>}
                  <td class="payload">{JSON.stringify(h.payload ?? {})}</td>
                  <td>{explainText(h.explain)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Plan</h3>
          <dl class="plan">
            {planRows(result.plan).map(([k, v]) => (
              <>
                <dt>{k}</dt>
                <dd data-plan={k}>{v}</dd>
              </>
            ))}
          </dl>
          <details>
            <summary>Plan as JSON</summary>
            <Json value={result.plan} />
          </details>
          <h3>The same query elsewhere</h3>
          <h4>curl</h4>
          <pre class="snippet" data-snippet="curl">
            {curlSnippet(session.origin, collection, sent)}
          </pre>
          <h4>quiverdb/client</h4>
          <pre class="snippet" data-snippet="client">
            {clientSnippet(session.origin, collection, sent)}
          </pre>
        </div>
      )}
    </section>
  );
}
