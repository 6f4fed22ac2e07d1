import { useState } from "react";
import { type Account, type AccountStatus, type Page } from "../../api";
import { Empty, Loading, ProblemView } from "../../components/common";
import { AppPicker, Pager, useAppNames, useDebounced, usePagedList } from "../../components/paging";
import { dateTime } from "../../format";

export const STATUS_LABELS: Record<AccountStatus, string> = { active: "active", reauth_required: "owner must reconnect", revoked: "revoked" };

export function StatusBadge({ status }: { status: AccountStatus }) {
  return <span className={`badge ${status === "active" ? "ok" : status === "revoked" ? "expired" : "warning"}`}>{STATUS_LABELS[status] ?? status}</span>;
}

/**
 * The connected mailboxes, one page at a time, searched by address prefix and filtered by app and
 * status on the broker (`GET /v1/accounts?mailbox=&app_id=&status=`).
 */
export function MailboxList() {
  const [search, setSearch] = useState("");
  const [appId, setAppId] = useState("");
  const [status, setStatus] = useState("");
  // The broker keeps addresses in lower case; the prefix is matched the same way.
  const mailbox = useDebounced(search.trim().toLowerCase());
  const list = usePagedList<Page<Account>>("/v1/accounts", { mailbox, app_id: appId, status });
  const accounts = list.page?.items;
  const appNames = useAppNames(accounts?.map((a) => a.app_id) ?? []);
  const filtered = Boolean(mailbox || appId || status);
  return (
    <section aria-labelledby="accounts-title">
      <h2 id="accounts-title">Connected mailboxes</h2>
      <form className="filters" role="search" aria-label="Find mailboxes" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="mailbox-search">Mailbox address starts with</label>
          <input id="mailbox-search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="alice@" autoComplete="off" />
        </div>
        <div className="field">
          <label htmlFor="mailbox-app">Connected through app</label>
          <AppPicker id="mailbox-app" value={appId} onChange={setAppId} anyLabel="any app" />
        </div>
        <div className="field">
          <label htmlFor="mailbox-status">Status</label>
          <select id="mailbox-status" value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">any</option>
            {(Object.keys(STATUS_LABELS) as AccountStatus[]).map((s) => (
              <option key={s} value={s}>
                {STATUS_LABELS[s]}
              </option>
            ))}
          </select>
        </div>
      </form>
      <ProblemView error={list.error} />
      {list.loading && !accounts && <Loading what="mailboxes" />}
      {accounts && accounts.length === 0 && (
        <Empty>{filtered ? "No mailbox matches." : "No mailbox is connected yet. Send a connect link to a mailbox owner."}</Empty>
      )}
      {accounts && accounts.length > 0 && (
        <div className="table-wrap">
          <table aria-labelledby="accounts-title" aria-busy={list.loading}>
            <thead>
              <tr>
                <th scope="col">Mailbox</th>
                <th scope="col">App</th>
                <th scope="col">Provider</th>
                <th scope="col">Status</th>
                <th scope="col">Last refresh</th>
              </tr>
            </thead>
            <tbody>
              {accounts.map((a) => (
                <tr key={a.id}>
                  <td>
                    <a href={`#/mailboxes/${encodeURIComponent(a.id)}`}>{a.mailbox}</a>
                  </td>
                  <td>
                    <a href={`#/apps/${encodeURIComponent(a.app_id)}`}>{appNames[a.app_id] ?? a.app_id}</a>
                  </td>
                  <td>{a.provider}</td>
                  <td>
                    <StatusBadge status={a.status} />
                  </td>
                  <td>{dateTime(a.last_refresh_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager list={list} what="mailboxes" />
    </section>
  );
}
