import { useEffect, useState, type FormEvent } from "react";
import { api, type AuditEvent, type AuditPage as Page } from "../api";
import { Empty, Loading, ProblemView, useAction } from "../components/common";
import { dateTime } from "../format";

interface Filters {
  action: string;
  actor: string;
  object_id: string;
  outcome: string;
}

const EMPTY: Filters = { action: "", actor: "", object_id: "", outcome: "" };

export function auditQuery(filters: Filters, cursor?: string, limit = 50): string {
  const params = new URLSearchParams({ limit: String(limit) });
  if (cursor) params.set("cursor", cursor);
  (Object.keys(filters) as (keyof Filters)[]).forEach((key) => {
    const value = filters[key].trim();
    if (value) params.set(key, value);
  });
  return `/v1/audit?${params.toString()}`;
}

export function AuditPage() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [items, setItems] = useState<AuditEvent[] | null>(null);
  const [next, setNext] = useState<string | undefined>(undefined);
  const action = useAction();

  const load = async (f: Filters, cursor?: string) => {
    const page = await action.run(() => api.get<Page>(auditQuery(f, cursor)));
    if (page) {
      setItems((previous) => (cursor && previous ? [...previous, ...page.items] : page.items));
      setNext(page.next_cursor ?? undefined);
    }
  };

  useEffect(() => {
    // A new filter starts again from the newest entry.
    void load(filters);
  }, [filters]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setFilters({ ...draft });
  };
  const field = (key: keyof Filters, label: string, placeholder: string) => (
    <div className="field">
      <label htmlFor={`audit-${key}`}>{label}</label>
      <input id={`audit-${key}`} value={draft[key]} placeholder={placeholder} onChange={(e) => setDraft({ ...draft, [key]: e.target.value })} />
    </div>
  );

  return (
    <>
      <h1>Audit log</h1>
      <form className="filters" onSubmit={submit} aria-label="Filter the audit log">
        {field("action", "Action", "app.create")}
        {field("actor", "Actor (client id)", "cli_…")}
        {field("object_id", "Object id", "app_…")}
        <div className="field">
          <label htmlFor="audit-outcome">Outcome</label>
          <select id="audit-outcome" value={draft.outcome} onChange={(e) => setDraft({ ...draft, outcome: e.target.value })}>
            <option value="">any</option>
            <option value="success">success</option>
            <option value="failure">failure</option>
            <option value="denied">denied</option>
          </select>
        </div>
        <div className="field buttons">
          <button type="submit">Filter</button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setDraft(EMPTY);
              setFilters(EMPTY);
            }}
          >
            Clear
          </button>
        </div>
      </form>
      <ProblemView error={action.error} />
      {items === null && action.busy && <Loading what="the audit log" />}
      {items && items.length === 0 && <Empty>No audit entry matches.</Empty>}
      {items && items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Object</th>
                <th scope="col">Outcome</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.id}>
                  <td>{dateTime(e.at)}</td>
                  <td>
                    <code>{e.actor}</code>
                  </td>
                  <td>{e.action}</td>
                  <td>
                    {e.object_type} {e.object_id && <code>{e.object_id}</code>}
                  </td>
                  <td>
                    <span className={`badge ${e.outcome === "success" ? "ok" : e.outcome === "denied" ? "warning" : "expired"}`}>{e.outcome}</span>
                  </td>
                  <td className="small">
                    {Object.entries(e.details)
                      .map(([k, v]) => `${k}: ${v}`)
                      .join(", ")}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next && (
        <p>
          <button type="button" className="secondary" onClick={() => load(filters, next)} disabled={action.busy}>
            {action.busy ? "Loading…" : "Load older entries"}
          </button>
        </p>
      )}
    </>
  );
}
