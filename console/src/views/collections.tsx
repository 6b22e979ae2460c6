/**
 * Collections: each with its count, schema (named vectors with dim, metric, index, quantization;
 * payload indexes; text fields) and, for an admin key, memory and disk from stats(). A write key may
 * create one (schema as JSON, errors with their paths) and drop one after a confirmation.
 */
import { useEffect, useState } from "preact/hooks";
import type { DatabaseStats } from "quiverdb/client";
import { can, parseJsonField, type Session } from "../api";
import { bytes, count } from "../format";
import { Confirmed, ErrorBox, go, useAction } from "../ui";

interface Info {
  name: string;
  count: number;
  schema: {
    vectors: Record<
      string,
      { kind?: "dense" | "sparse"; dim?: number; metric?: string; index?: Record<string, unknown>; embedder?: string }
    >;
    indexes?: Record<string, string>;
    text?: Record<string, unknown>;
  };
}

const EXAMPLE_SCHEMA = `{
  "vectors": { "embedding": { "dim": 384, "metric": "cosine" } },
  "indexes": { "category": "keyword" },
  "text": { "body": {} }
}`;

export function Collections({ session, onChanged }: { session: Session; onChanged: () => void }) {
  const [infos, setInfos] = useState<Info[]>([]);
  const [stats, setStats] = useState<DatabaseStats | null>(null);
  const [name, setName] = useState("");
  const [schema, setSchema] = useState(EXAMPLE_SCHEMA);
  const [load, loading] = useAction();
  const [act, acting] = useAction();
  const refresh = () =>
    load(async () => {
      setInfos((await session.client.listCollections()) as Info[]);
      if (can(session, "admin")) setStats(await session.client.stats());
    });
  useEffect(() => {
    refresh();
  }, [session]);
  const statsOf = (n: string) => stats?.collections.find((c) => c.name === n);

  return (
    <section>
      <h2>Collections</h2>
      <ErrorBox error={loading.error} />
      <table class="collections">
        <thead>
          <tr>
            <th>Name</th>
            <th>Records</th>
            <th>Named vectors</th>
            <th>Payload indexes</th>
            <th>Text fields</th>
            <th>Memory / disk</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {infos.map((c) => {
            const st = statsOf(c.name);
            return (
              <tr data-collection={c.name}>
                <td>
                  <a href={`#/records/${encodeURIComponent(c.name)}`}>{c.name}</a>
                </td>
                <td class="num">{count(c.count)}</td>
                <td>
                  {Object.entries(c.schema.vectors).map(([v, spec]) => {
                    const vs = st?.vectors.find((x) => x.name === v);
                    return (
                      <div>
                        <code>{v}</code> {spec.kind === "sparse" ? "sparse" : `${spec.dim}-d ${spec.metric}`}
                        {vs && (
                          <span class="muted">
                            {" "}
                            · {vs.index}
                            {vs.quantization ? ` ${vs.quantization}` : ""} · originals {vs.originals} ·{" "}
                            {bytes(vs.bytesPerVector.resident)}/vector in memory
                          </span>
                        )}
                        {!vs && spec.index && <span class="muted"> · {JSON.stringify(spec.index)}</span>}
                      </div>
                    );
                  })}
                </td>
                <td>
                  {Object.entries(c.schema.indexes ?? {}).map(([f, t]) => (
                    <div>
                      <code>{f}</code> {t}
                    </div>
                  ))}
                </td>
                <td>
                  {Object.keys(c.schema.text ?? {}).map((f) => (
                    <div>
                      <code>{f}</code>
                    </div>
                  ))}
                </td>
                <td>
                  {st ? (
                    <span>
                      {bytes(st.vectorBytes + st.textBytes)} in memory · {bytes(st.vectorDiskBytes)} vectors on disk ·{" "}
                      {st.segments} segments
                    </span>
                  ) : (
                    <span class="muted">stats need an admin key</span>
                  )}
                </td>
                <td>
                  {can(session, "write") && (
                    <Confirmed
                      action="drop"
                      label="Drop…"
                      question={`Drop ${c.name} and its ${count(c.count)} records?`}
                      confirmLabel="Drop for good"
                      onConfirm={() =>
                        act(async () => {
                          await session.client.dropCollection(c.name);
                          onChanged();
                          await refresh();
                        })
                      }
                    />
                  )}{" "}
                  <button type="button" onClick={() => go("map", c.name)}>
                    Map
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <ErrorBox error={acting.error} />
      {can(session, "write") && (
        <form
          class="create"
          onSubmit={(e) => {
            e.preventDefault();
            act(async () => {
              const parsed = parseJsonField(schema, "schema");
              await session.client.createCollection(name, parsed as never);
              setName("");
              onChanged();
              await refresh();
            });
          }}
        >
          <h3>Create a collection</h3>
          <label>
            Name{" "}
            <input
              name="newCollection"
              value={name}
              onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
            />
          </label>
          <label>
            Schema (JSON)
            <textarea
              name="newSchema"
              rows={6}
              value={schema}
              onInput={(e) => setSchema((e.currentTarget as HTMLTextAreaElement).value)}
            />
          </label>
          <button type="submit" disabled={acting.busy}>
            Create
          </button>
        </form>
      )}
    </section>
  );
}
