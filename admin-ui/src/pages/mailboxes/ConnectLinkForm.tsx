import { useState, type FormEvent } from "react";
import { api, type ConnectLink } from "../../api";
import { CopyButton, ProblemView, useAction } from "../../components/common";
import { AppPicker } from "../../components/paging";
import { dateTime } from "../../format";

/** Creates a one-time connect link for a mailbox owner through one app. */
export function ConnectLinkForm() {
  const [appId, setAppId] = useState("");
  const [hint, setHint] = useState("");
  const [link, setLink] = useState<ConnectLink | null>(null);
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setLink(null);
    const created = await action.run(() =>
      api.post<ConnectLink>(`/v1/apps/${encodeURIComponent(appId)}/connect-links`, hint.trim() ? { login_hint: hint.trim() } : {}),
    );
    if (created) setLink(created);
  };
  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="connect-title">
      <h2 id="connect-title">Create a connect link</h2>
      <p className="muted small">A one-time link for a mailbox owner: they sign in at their provider and consent; Postern stores the refresh token.</p>
      <label htmlFor="connect-app">App</label>
      <AppPicker id="connect-app" value={appId} onChange={setAppId} required />
      <label htmlFor="connect-hint">Mailbox address (optional login hint)</label>
      <input id="connect-hint" type="email" value={hint} onChange={(e) => setHint(e.target.value)} placeholder="user@example.com" />
      <ProblemView error={action.error} />
      <div>
        <button type="submit" disabled={action.busy || !appId}>
          Create a connect link
        </button>
      </div>
      {link && (
        <div className="result" role="status">
          <label htmlFor="connect-url">Connect link, valid until {dateTime(link.expires_at)}</label>
          <div className="copyline">
            <input id="connect-url" readOnly value={link.url} />
            <CopyButton value={link.url} label="Copy the connect link" />
          </div>
        </div>
      )}
    </form>
  );
}
