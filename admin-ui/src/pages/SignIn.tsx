import { useState, type FormEvent } from "react";
import { api } from "../api";
import { ProblemView, useAction } from "../components/common";

/** Trades an admin API key for a session cookie; the key is dropped from memory right after. */
export function SignIn({ onSignedIn, notice, error }: { onSignedIn: () => Promise<void>; notice?: string | null; error?: unknown }) {
  const [key, setKey] = useState("");
  const action = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const ok = await action.run(async () => {
      await api.post<void>("/admin/session", { api_key: key.trim() });
      return true;
    });
    if (ok) {
      setKey("");
      await onSignedIn();
    }
  };

  return (
    <main className="centered">
      <form className="card signin" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Postern admin</h1>
        <p className="muted">Sign in with an API key that has the role admin. The key is exchanged for a session and not kept by this browser.</p>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <ProblemView error={action.error ?? error} />
        <label htmlFor="api-key">Admin API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          required
          value={key}
          onChange={(e) => setKey(e.target.value)}
          placeholder="pst_…"
        />
        <button type="submit" disabled={action.busy || key.trim() === ""}>
          {action.busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
