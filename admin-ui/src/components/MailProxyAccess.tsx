import { useState, type FormEvent } from "react";
import { api } from "../api";
import { CopyButton, Empty, Loading, ProblemView, useAction, useLoad } from "./common";
import { dateTime } from "../format";

/** An app password as listed: never its secret (GET /v1/accounts/{id}/app-passwords). */
export interface AppPassword {
  id: string;
  account_id: string;
  name?: string;
  created_at: string;
  expires_at?: string;
}

/** The only answer that holds the password. */
export interface CreatedAppPassword extends AppPassword {
  password: string;
}

/** GET /v1/accounts/{id}/mail-sessions */
export interface MailSessions {
  account_id: string;
  mail_proxy_enabled: boolean;
  open_sessions: number;
  max_sessions?: number;
}

/**
 * A mailbox's access through the IMAP and SMTP proxy: its open sessions and its app passwords
 * (list, create showing the password once, revoke). Loads only when opened, so a long mailbox
 * list costs no request per row.
 */
export function MailProxyAccess({ accountId, mailbox }: { accountId: string; mailbox: string }) {
  const [open, setOpen] = useState(false);
  return (
    <details onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>Mail proxy</summary>
      {open && <MailProxyPanel accountId={accountId} mailbox={mailbox} />}
    </details>
  );
}

function MailProxyPanel({ accountId, mailbox }: { accountId: string; mailbox: string }) {
  const base = `/v1/accounts/${encodeURIComponent(accountId)}`;
  const sessions = useLoad(() => api.get<MailSessions>(`${base}/mail-sessions`), [base]);
  const passwords = useLoad(() => api.get<{ items: AppPassword[] }>(`${base}/app-passwords`).then((p) => p.items), [base]);
  const [name, setName] = useState("");
  const [expires, setExpires] = useState("");
  const [created, setCreated] = useState<CreatedAppPassword | null>(null);
  const action = useAction();

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setCreated(null);
    const body: Record<string, string> = {};
    if (name.trim()) body.name = name.trim();
    if (expires) body.expires_at = new Date(expires).toISOString();
    const made = await action.run(() => api.post<CreatedAppPassword>(`${base}/app-passwords`, body));
    if (made) {
      setCreated(made);
      setName("");
      setExpires("");
      await passwords.reload();
    }
  };
  const revoke = async (password: AppPassword) => {
    if (!window.confirm(`Revoke the app password ${password.name ?? password.id}? Programs using it can no longer log in.`)) return;
    await action.run(() => api.del<void>(`${base}/app-passwords/${encodeURIComponent(password.id)}`));
    if (created?.id === password.id) setCreated(null);
    await passwords.reload();
  };

  return (
    <div className="stack">
      <ProblemView error={sessions.error} />
      {sessions.data && (
        <p role="status">
          {sessions.data.mail_proxy_enabled
            ? `Open sessions: ${sessions.data.open_sessions} of at most ${sessions.data.max_sessions}`
            : "The mail proxy is off on this broker."}
        </p>
      )}
      <h3>App passwords</h3>
      <p className="muted small">
        A mail program logs in to Postern's IMAP and SMTP proxy with the user name {mailbox} and an app password.
      </p>
      <ProblemView error={passwords.error} />
      {passwords.loading && passwords.data === undefined && <Loading what="app passwords" />}
      {passwords.data && passwords.data.length === 0 && <Empty>No app password yet.</Empty>}
      {passwords.data && passwords.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {passwords.data.map((p) => (
              <tr key={p.id}>
                <td>{p.name ?? p.id}</td>
                <td>{dateTime(p.created_at)}</td>
                <td>{p.expires_at ? dateTime(p.expires_at) : "never"}</td>
                <td>
                  <button type="button" className="danger" disabled={action.busy} onClick={() => void revoke(p)}>
                    Revoke {p.name ?? p.id}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="stack" onSubmit={create} aria-label={`Create an app password for ${mailbox}`}>
        <label htmlFor={`apw-name-${accountId}`}>Name (optional)</label>
        <input id={`apw-name-${accountId}`} value={name} maxLength={100} onChange={(e) => setName(e.target.value)} placeholder="printer" />
        <label htmlFor={`apw-expires-${accountId}`}>Expires (optional)</label>
        <input id={`apw-expires-${accountId}`} type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
        <ProblemView error={action.error} />
        <div>
          <button type="submit" disabled={action.busy}>
            Create an app password
          </button>
        </div>
      </form>
      {created && (
        <div className="result" role="status">
          <label htmlFor={`apw-created-${accountId}`}>The new app password, shown this once: copy it now</label>
          <div className="copyline">
            <input id={`apw-created-${accountId}`} readOnly value={created.password} />
            <CopyButton value={created.password} label="Copy the app password" />
          </div>
        </div>
      )}
    </div>
  );
}
