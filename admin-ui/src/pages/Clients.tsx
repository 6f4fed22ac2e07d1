import { useState, type FormEvent } from "react";
import { api, type ApiClient, type Page } from "../api";
import { CopyButton, Empty, Loading, ProblemView, useAction } from "../components/common";
import { Pager, usePagedList } from "../components/paging";
import { dateTime } from "../format";

/** Whether the client's name, id or key prefix contains the text, and it has the role (if one is given). */
export function clientMatches(client: ApiClient, text: string, role: string): boolean {
  const wanted = text.trim().toLowerCase();
  const byText = !wanted || [client.name, client.id, client.key_prefix].some((v) => v.toLowerCase().includes(wanted));
  return byText && (!role || client.role === role);
}

export function ClientsPage() {
  const clients = usePagedList<Page<ApiClient>>("/v1/clients");
  // GET /v1/clients has no search: the filters narrow the page on screen and say so.
  const [filter, setFilter] = useState("");
  const [role, setRole] = useState("");
  const items = clients.page?.items;
  const shown = items?.filter((c) => clientMatches(c, filter, role));
  // The new key lives only in this state until the admin dismisses it or leaves the page.
  const [created, setCreated] = useState<ApiClient | null>(null);
  return (
    <>
      <h1>API clients</h1>
      {created?.key && <NewKey client={created} onDone={() => setCreated(null)} />}
      <CreateClientForm
        onCreated={async (c) => {
          setCreated(c);
          await clients.reload();
        }}
      />
      <section aria-labelledby="clients-title">
        <h2 id="clients-title">Clients</h2>
        <ProblemView error={clients.error} />
        {clients.loading && !items && <Loading what="API clients" />}
        {items && items.length === 0 && !clients.previous && <Empty>No API client yet.</Empty>}
        {items && items.length > 0 && (
          <form className="filters" role="search" aria-label="Filter clients on this page" onSubmit={(e) => e.preventDefault()}>
            <div className="field">
              <label htmlFor="clients-filter">Filter this page by name, id or key prefix</label>
              <input id="clients-filter" type="search" value={filter} onChange={(e) => setFilter(e.target.value)} autoComplete="off" />
            </div>
            <div className="field">
              <label htmlFor="clients-role">Show the role</label>
              <select id="clients-role" value={role} onChange={(e) => setRole(e.target.value)}>
                <option value="">any</option>
                <option value="admin">admin</option>
                <option value="client">client</option>
                <option value="monitor">monitor</option>
              </select>
            </div>
          </form>
        )}
        {shown && items!.length > 0 && shown.length === 0 && <Empty>No client on this page matches. The next pages may hold more.</Empty>}
        {shown && shown.length > 0 && (
          <div className="table-wrap">
            <table aria-busy={clients.loading}>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Key starts with</th>
                  <th scope="col">Created</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Status</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((c) => (
                  <ClientRow key={c.id} client={c} reload={clients.reload} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager list={clients} what="API clients" />
      </section>
    </>
  );
}

function NewKey({ client, onDone }: { client: ApiClient; onDone: () => void }) {
  return (
    <section className="card keybox" role="alert" aria-labelledby="new-key-title">
      <h2 id="new-key-title">The key of “{client.name}”</h2>
      <p>
        Copy it now and keep it in your secret manager. <strong>It is shown only this once</strong>: Postern keeps only its hash.
      </p>
      <div className="copyline">
        <label htmlFor="new-key" className="sr-only">
          New API key
        </label>
        <input id="new-key" readOnly value={client.key} className="mono" onFocus={(e) => e.target.select()} />
        <CopyButton value={client.key!} label="Copy the new API key" />
      </div>
      <button type="button" onClick={onDone}>
        I have stored the key
      </button>
    </section>
  );
}

function CreateClientForm({ onCreated }: { onCreated: (c: ApiClient) => void | Promise<void> }) {
  const [name, setName] = useState("");
  const [role, setRole] = useState<"client" | "monitor" | "admin">("client");
  const [apps, setApps] = useState("");
  const [expires, setExpires] = useState("");
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const allowed = apps
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    const body: Record<string, unknown> = { name: name.trim(), role };
    if (role === "client" && allowed.length) body.allowed_apps = allowed;
    if (expires) body.expires_at = `${expires}T00:00:00Z`;
    const created = await action.run(() => api.post<ApiClient>("/v1/clients", body));
    if (created) {
      setName("");
      setApps("");
      setExpires("");
      await onCreated(created);
    }
  };
  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="create-client-title">
      <h2 id="create-client-title">Create an API client</h2>
      <label htmlFor="client-name">Name</label>
      <input id="client-name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="NocoBase production" />
      <label htmlFor="client-role">Role</label>
      <select id="client-role" value={role} onChange={(e) => setRole(e.target.value as typeof role)} aria-describedby="role-help">
        <option value="client">client: gets access tokens</option>
        <option value="monitor">monitor: reads metrics and expiry</option>
        <option value="admin">admin: manages Postern</option>
      </select>
      <p id="role-help" className="muted small">
        Give each program its own client with the least role it needs.
      </p>
      {role === "client" && (
        <>
          <label htmlFor="client-apps">Allowed app IDs (comma separated, optional)</label>
          <input id="client-apps" value={apps} onChange={(e) => setApps(e.target.value)} />
        </>
      )}
      <label htmlFor="client-expires">Key expires on (optional)</label>
      <input id="client-expires" type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />
      <ProblemView error={action.error} />
      <div>
        <button type="submit" disabled={action.busy}>
          {action.busy ? "Creating…" : "Create the client"}
        </button>
      </div>
    </form>
  );
}

function ClientRow({ client, reload }: { client: ApiClient; reload: () => Promise<void> }) {
  const [confirm, setConfirm] = useState(false);
  const action = useAction();
  const revoked = Boolean(client.revoked_at);
  const expired = !revoked && client.expires_at !== undefined && new Date(client.expires_at) <= new Date();
  const revoke = () =>
    action.run(async () => {
      await api.del(`/v1/clients/${encodeURIComponent(client.id)}`);
      setConfirm(false);
      await reload();
      return true;
    });
  return (
    <tr className={revoked ? "muted" : undefined}>
      <td>
        {client.name}
        <div className="muted small">
          <code>{client.id}</code>
        </div>
      </td>
      <td>{client.role}</td>
      <td>
        <code>{client.key_prefix}…</code>
      </td>
      <td>{dateTime(client.created_at)}</td>
      <td>{client.expires_at ? dateTime(client.expires_at) : "never"}</td>
      <td>{revoked ? `revoked ${dateTime(client.revoked_at)}` : expired ? "expired" : "active"}</td>
      <td className="actions">
        {!revoked && !confirm && (
          <button type="button" className="danger" onClick={() => setConfirm(true)} aria-label={`Revoke ${client.name}`}>
            Revoke
          </button>
        )}
        {confirm && (
          <span className="confirm" role="group" aria-label={`Confirm revoking ${client.name}`}>
            <button type="button" className="danger" onClick={revoke} disabled={action.busy}>
              Revoke now
            </button>
            <button type="button" className="secondary" onClick={() => setConfirm(false)}>
              Cancel
            </button>
          </span>
        )}
        <ProblemView error={action.error} />
      </td>
    </tr>
  );
}
