/**
 * The Quiver Console: sign-in, then the views the key's scope allows (a read key sees no write or
 * key-admin actions; the server refuses them anyway). Routes live in the URL's hash, so the server
 * serves one page; the API key never does (sessionStorage only).
 */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { can, signIn, signOut, storedKey, type Session } from "./api";
import { go, useHashRoute } from "./ui";
import { SignIn } from "./views/signin";
import { Collections } from "./views/collections";
import { Records } from "./views/records";
import { Playground, type LastHits } from "./views/query";
import { MapView } from "./views/map";
import { Keys } from "./views/keys";
import { Health } from "./views/health";

const VIEWS = [
  { id: "collections", label: "Collections" },
  { id: "records", label: "Records" },
  { id: "query", label: "Query" },
  { id: "map", label: "Map" },
  { id: "health", label: "Health & cost" },
  { id: "keys", label: "Keys", admin: true },
];

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(storedKey() !== null);
  const [names, setNames] = useState<string[]>([]);
  const [lastHits, setLastHits] = useState<LastHits | null>(null);
  const route = useHashRoute();

  useEffect(() => {
    const key = storedKey();
    if (key)
      signIn(key)
        .then(setSession, signOut)
        .finally(() => setRestoring(false));
  }, []);
  const refreshNames = async (s = session) => {
    if (s) setNames((await s.client.listCollections()).map((c) => c.name));
  };
  useEffect(() => {
    refreshNames().catch(() => undefined);
  }, [session]);

  if (restoring) return <p class="muted">Signing in…</p>;
  if (!session) return <SignIn onSignedIn={setSession} />;

  const views = VIEWS.filter((v) => !v.admin || can(session, "admin"));
  const view = views.some((v) => v.id === route[0]) ? route[0] : "collections";
  const collection = route[1] && names.includes(route[1]) ? route[1] : (names[0] ?? "");
  const common = { session, names, collection };
  return (
    <div class="shell">
      <header>
        <h1>Quiver Console</h1>
        <nav>
          {views.map((v) => (
            <a
              href={`#/${v.id}${collection && v.id !== "keys" && v.id !== "health" ? `/${encodeURIComponent(collection)}` : ""}`}
              class={v.id === view ? "active" : ""}
              data-view={v.id}
            >
              {v.label}
            </a>
          ))}
        </nav>
        <span class="who" data-scope={session.key.scope}>
          {session.key.name} ({session.key.scope})
          <button
            type="button"
            onClick={() => {
              signOut();
              setSession(null);
              go();
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      <main data-current-view={view}>
        {view === "collections" && <Collections {...common} onChanged={() => refreshNames()} />}
        {view === "records" && <Records {...common} />}
        {view === "query" && <Playground {...common} onHits={setLastHits} />}
        {view === "map" && <MapView {...common} lastHits={lastHits} />}
        {view === "health" && <Health session={session} />}
        {view === "keys" && <Keys session={session} names={names} />}
      </main>
    </div>
  );
}

render(<App />, document.getElementById("app")!);
