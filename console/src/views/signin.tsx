/** Sign-in: an API key in a password field, checked with the server, kept in sessionStorage only. */
import { useState } from "preact/hooks";
import { signIn, type Session } from "../api";
import { ErrorBox, useAction } from "../ui";

export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [key, setKey] = useState("");
  const [run, { busy, error }] = useAction();
  return (
    <form
      class="signin"
      onSubmit={(e) => {
        e.preventDefault();
        run(async () => onSignedIn(await signIn(key.trim())));
      }}
    >
      <h1>Quiver Console</h1>
      <p class="muted">
        Sign in with an API key. It is kept in this tab only (sessionStorage) and sent as a bearer token; the console
        can do exactly what the key can.
      </p>
      <label>
        API key{" "}
        <input
          type="password"
          name="apiKey"
          autocomplete="off"
          value={key}
          onInput={(e) => setKey((e.currentTarget as HTMLInputElement).value)}
        />
      </label>
      <button type="submit" disabled={busy || key.trim() === ""}>
        Sign in
      </button>
      <ErrorBox error={error} />
    </form>
  );
}
