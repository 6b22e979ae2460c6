/**
 * Keys (admin only): the keys with their scope, reach and quota; create a scoped key (shown once,
 * then only its record remains); revoke one at once.
 */
import { useEffect, useState } from "preact/hooks";
import type { KeyInfo, Scope, Session } from "../api";
import { Confirmed, ErrorBox, useAction } from "../ui";

export function Keys({ session, names }: { session: Session; names: string[] }) {
  const [keys, setKeys] = useState<KeyInfo[]>([]);
  const [name, setName] = useState("");
  const [scope, setScope] = useState<Exclude<Scope, "admin">>("read");
  const [reach, setReach] = useState<"all" | "collections" | "prefix">("all");
  const [collections, setCollections] = useState<string[]>([]);
  const [prefix, setPrefix] = useState("");
  const [readUnits, setReadUnits] = useState("");
  const [writeUnits, setWriteUnits] = useState("");
  const [created, setCreated] = useState<{ id: string; key: string } | null>(null);
  const [run, running] = useAction();
  const refresh = () =>
    run(async () => setKeys((await session.client.request<{ keys: KeyInfo[] }>("GET", "/v1/keys")).keys));
  useEffect(() => {
    refresh();
  }, []);

  const create = () =>
    run(async () => {
      const body: Record<string, unknown> = { name, scope };
      if (reach === "collections") body.collections = collections;
      // A scoped key names its reach; the prefix "" reaches every collection.
      else body.prefix = reach === "prefix" ? prefix : "";
      const quota: Record<string, number> = {};
      if (readUnits !== "") quota.readUnits = Number(readUnits);
      if (writeUnits !== "") quota.writeUnits = Number(writeUnits);
      if (Object.keys(quota).length > 0) body.quota = quota;
      const r = await session.client.request<KeyInfo & { key: string }>("POST", "/v1/keys", body);
      setCreated({ id: r.id, key: r.key });
      setName("");
      await refresh();
    });
  const value = (set: (v: string) => void) => (e: Event) => set((e.currentTarget as HTMLInputElement).value);

  return (
    <section class="keys">
      <h2>API keys</h2>
      <ErrorBox error={running.error} />
      {created && (
        <div class="created" data-role="created-key">
          New key <code>{created.id}</code>, shown this once (only its hash is stored):
          <pre class="secret">{created.key}</pre>
          <button type="button" onClick={() => setCreated(null)}>
            I have copied it
          </button>
        </div>
      )}
      <table>
        <thead>
          <tr>
            <th>id</th>
            <th>name</th>
            <th>scope</th>
            <th>reach</th>
            <th>quota</th>
            <th>created</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr data-key={k.id}>
              <td>
                <code>{k.id}</code>
              </td>
              <td>{k.name}</td>
              <td>{k.scope}</td>
              <td>{k.collections ? k.collections.join(", ") : k.prefix ? `${k.prefix}*` : "all collections"}</td>
              <td>
                {k.quota
                  ? `${k.quota.readUnits ?? "∞"} read / ${k.quota.writeUnits ?? "∞"} write units a month`
                  : "none"}
              </td>
              <td>{k.createdAt}</td>
              <td>
                <Confirmed
                  action="revoke"
                  label="Revoke…"
                  question="Revoke at once?"
                  confirmLabel="Revoke"
                  onConfirm={() =>
                    run(async () => {
                      await session.client.request("DELETE", `/v1/keys/${encodeURIComponent(k.id)}`);
                      await refresh();
                    })
                  }
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        class="create-key"
        onSubmit={(e) => {
          e.preventDefault();
          create();
        }}
      >
        <h3>Create a key</h3>
        <label>
          Name <input name="keyName" value={name} onInput={value(setName)} />
        </label>
        <label>
          Scope{" "}
          <select name="keyScope" value={scope} onChange={value((v) => setScope(v as "read" | "write"))}>
            <option value="read">read</option>
            <option value="write">write</option>
          </select>
        </label>
        <label>
          Reach{" "}
          <select name="keyReach" value={reach} onChange={value((v) => setReach(v as typeof reach))}>
            <option value="all">all collections</option>
            <option value="collections">these collections</option>
            <option value="prefix">a name prefix (tenant)</option>
          </select>
        </label>
        {reach === "collections" && (
          <select
            name="keyCollections"
            multiple
            onChange={(e) =>
              setCollections([...(e.currentTarget as HTMLSelectElement).selectedOptions].map((o) => o.value))
            }
          >
            {names.map((n) => (
              <option value={n} selected={collections.includes(n)}>
                {n}
              </option>
            ))}
          </select>
        )}
        {reach === "prefix" && (
          <label>
            Prefix <input name="keyPrefix" value={prefix} onInput={value(setPrefix)} />
          </label>
        )}
        <label>
          Read units / month{" "}
          <input name="quotaRead" type="number" min={0} value={readUnits} onInput={value(setReadUnits)} />
        </label>
        <label>
          Write units / month{" "}
          <input name="quotaWrite" type="number" min={0} value={writeUnits} onInput={value(setWriteUnits)} />
        </label>
        <button type="submit" disabled={running.busy}>
          Create key
        </button>
      </form>
    </section>
  );
}
