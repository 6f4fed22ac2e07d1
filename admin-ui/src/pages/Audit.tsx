import { useState, type FormEvent } from "react";
import { type AuditEvent, type Page } from "../api";
import { Empty, Loading, ProblemView } from "../components/common";
import { PAGE_SIZE, Pager, usePagedList } from "../components/paging";
import { dateTime } from "../format";

interface Filters {
  action: string;
  actor: string;
  object_id: string;
  outcome: string;
  /** datetime-local values: the reader's local time, sent to the broker as UTC instants. */
  from: string;
  to: string;
}

const EMPTY: Filters = { action: "", actor: "", object_id: "", outcome: "", from: "", to: "" };

/** The broker's audit filters for the form's values: `from`/`to` as RFC 3339 instants. */
export function auditFilters(filters: Filters): Record<string, string> {
  const instant = (local: string) => (local ? new Date(local).toISOString() : "");
  return { ...filters, from: instant(filters.from), to: instant(filters.to) };
}

export function AuditPage() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  // A new filter starts again from the newest entry; pages go back in time.
  const list = usePagedList<Page<AuditEvent>>("/v1/audit", auditFilters(filters));
  const items = list.page?.items;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setFilters({ ...draft });
  };
  const field = (key: keyof Filters, label: string, placeholder: string, type = "text") => (
    <div className="field">
      <label htmlFor={`audit-${key}`}>{label}</label>
      <input id={`audit-${key}`} type={type} value={draft[key]} placeholder={placeholder} onChange={(e) => setDraft({ ...draft, [key]: e.target.value })} />
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
        {field("from", "From (your time)", "", "datetime-local")}
        {field("to", "Until (your time)", "", "datetime-local")}
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
      <ProblemView error={list.error} />
      {!items && list.loading && <Loading what="the audit log" />}
      {items && items.length === 0 && !list.next && <Empty>No audit entry matches.</Empty>}
      {items && items.length < PAGE_SIZE && list.next && (
        // The broker reads a bounded part of the log per page: a rare filter gets short pages that go on.
        <p className="muted" role="status">
          {items.length === 0 ? "No match" : "No more matches"} in the part of the log searched so far. Next searches further back.
        </p>
      )}
      {items && items.length > 0 && (
        <div className="table-wrap">
          <table aria-busy={list.loading}>
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
      <Pager list={list} what="audit entries" />
    </>
  );
}
