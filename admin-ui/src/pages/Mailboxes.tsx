import { useState, type FormEvent } from "react";
import { api, ApiError, type Account, type App, type ConnectLink } from "../api";
import { CopyButton, Empty, Loading, ProblemView, useAction, useLoad } from "../components/common";
import { dateTime } from "../format";
import { MailProxyAccess } from "../components/MailProxyAccess";

/** GET /v1/accounts is being added by another change: a 404 means "not on this broker yet". */
async function loadAccounts(): Promise<Account[] | null> {
  try {
    return await api.getAll<Account>("/v1/accounts");
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405)) return null;
    throw e;
  }
}

export function MailboxesPage() {
  const accounts = useLoad(loadAccounts, []);
  const apps = useLoad(() => api.getAll<App>("/v1/apps"), []);
  return (
    <>
      <h1>Mailboxes</h1>
      <ConnectLinkForm apps={apps.data ?? []} appsError={apps.error} />
      <section aria-labelledby="accounts-title">
        <h2 id="accounts-title">Connected mailboxes</h2>
        <ProblemView error={accounts.error} />
        {accounts.loading && accounts.data === undefined && <Loading what="mailboxes" />}
        {accounts.data === null && <Empty>The mailbox list (GET /v1/accounts) is not available on this broker yet.</Empty>}
        {accounts.data && accounts.data.length === 0 && <Empty>No mailbox is connected yet. Send a connect link to a mailbox owner.</Empty>}
        {accounts.data && accounts.data.length > 0 && (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Mailbox</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last refresh</th>
                  <th scope="col">Mail proxy</th>
                </tr>
              </thead>
              <tbody>
                {accounts.data.map((a) => (
                  <tr key={a.id}>
                    <td>{a.address ?? a.username ?? a.id}</td>
                    <td>{a.provider ?? "—"}</td>
                    <td>
                      <span className={`badge ${a.status === "active" ? "ok" : a.status === "revoked" ? "expired" : "warning"}`}>{a.status ?? "unknown"}</span>
                    </td>
                    <td>{dateTime(a.last_refresh_at)}</td>
                    <td><MailProxyAccess accountId={a.id} mailbox={a.address ?? a.username ?? a.id} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

function ConnectLinkForm({ apps, appsError }: { apps: App[]; appsError: unknown }) {
  const [appId, setAppId] = useState("");
  const [hint, setHint] = useState("");
  const [link, setLink] = useState<ConnectLink | null>(null);
  const action = useAction();
  const chosen = appId || apps[0]?.id || "";
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setLink(null);
    const created = await action.run(() =>
      api.post<ConnectLink>(`/v1/apps/${encodeURIComponent(chosen)}/connect-links`, hint.trim() ? { login_hint: hint.trim() } : {}),
    );
    if (created) setLink(created);
  };
  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="connect-title">
      <h2 id="connect-title">Create a connect link</h2>
      <p className="muted small">A one-time link for a mailbox owner: they sign in at their provider and consent; Postern stores the refresh token.</p>
      <ProblemView error={appsError} />
      <label htmlFor="connect-app">App</label>
      <select id="connect-app" value={chosen} onChange={(e) => setAppId(e.target.value)} required>
        {apps.length === 0 && <option value="">No app registered</option>}
        {apps.map((a) => (
          <option key={a.id} value={a.id}>
            {a.name}
          </option>
        ))}
      </select>
      <label htmlFor="connect-hint">Mailbox address (optional login hint)</label>
      <input id="connect-hint" type="email" value={hint} onChange={(e) => setHint(e.target.value)} placeholder="user@example.com" />
      <ProblemView error={action.error} />
      <div>
        <button type="submit" disabled={action.busy || !chosen}>
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
