/** Small pieces every view uses: an error box that lists problems with their paths, a JSON block, a hash route. */
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { shownError, type ShownError } from "./api";

export function ErrorBox({ error }: { error: ShownError | null }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      <strong>{error.code}</strong> {error.message}
      {error.problems.length > 0 && (
        <ul class="problems">
          {error.problems.map((p) => (
            <li>
              <code>{p.path || "(request)"}</code>: {p.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Json({ value }: { value: unknown }) {
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}

/** Runs an async action, keeping its error (as shown) and whether it is running. */
export function useAction(): [
  (fn: () => Promise<void>) => Promise<void>,
  { busy: boolean; error: ShownError | null; clear: () => void },
] {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | null>(null);
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(shownError(e));
    } finally {
      setBusy(false);
    }
  };
  return [run, { busy, error, clear: () => setError(null) }];
}

/** The route in the URL's hash, as segments: `#/records/sample` -> ["records", "sample"]. */
export function useHashRoute(): string[] {
  const read = () =>
    location.hash
      .replace(/^#\/?/, "")
      .split("/")
      .filter(Boolean)
      .map((s) => decodeURIComponent(s));
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

export function go(...segments: string[]): void {
  location.hash = `#/${segments.map(encodeURIComponent).join("/")}`;
}

/** A select of the collections the key reaches; changing it moves the route to that collection. */
export function CollectionPicker({ names, value, view }: { names: string[]; value: string; view: string }) {
  return (
    <label>
      Collection{" "}
      <select name="collection" value={value} onChange={(e) => go(view, (e.currentTarget as HTMLSelectElement).value)}>
        {names.map((n) => (
          <option value={n}>{n}</option>
        ))}
      </select>
    </label>
  );
}

/**
 * A destructive action behind a second click: the button (`data-action`), then the question with
 * the confirming button (`data-action="confirm-<action>"`) and Cancel.
 */
export function Confirmed(props: {
  action: string;
  label: string;
  question: ComponentChildren;
  confirmLabel: string;
  onConfirm: () => void;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" data-action={props.action} onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  return (
    <span class="confirm">
      {props.question}{" "}
      <button
        type="button"
        class="danger"
        data-action={`confirm-${props.action}`}
        onClick={() => {
          setAsking(false);
          props.onConfirm();
        }}
      >
        {props.confirmLabel}
      </button>{" "}
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
