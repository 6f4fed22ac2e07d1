import { useState } from "react";
import { type App, type Page } from "../api";
import { Empty, ExpiryBadge, Loading, ProblemView } from "../components/common";
import { Pager, usePagedList } from "../components/paging";

export const PROVIDER_NAMES: Record<string, string> = { microsoft: "Microsoft Entra ID", google: "Google", generic: "Generic OAuth2" };

/** The credential in use, or else the one that expires first. */
function soonest(app: App) {
  const active = app.credentials.find((c) => c.id === app.active_credential_id);
  if (active) return active;
  return [...app.credentials].sort((a, b) => a.expires_at.localeCompare(b.expires_at))[0];
}

/** Whether the app's name, id, client id or tenant contains the text (case-insensitive). */
export function appMatches(app: App, text: string): boolean {
  const wanted = text.trim().toLowerCase();
  return !wanted || [app.name, app.id, app.client_id, app.tenant ?? ""].some((v) => v.toLowerCase().includes(wanted));
}

export function AppsPage() {
  const list = usePagedList<Page<App>>("/v1/apps");
  // GET /v1/apps has no search: the filter narrows the page on screen and says so.
  const [filter, setFilter] = useState("");
  const apps = list.page?.items;
  const shown = apps?.filter((a) => appMatches(a, filter));
  return (
    <>
      <div className="page-head">
        <h1>Apps</h1>
        <a className="button" href="#/apps/new">
          Register an app
        </a>
      </div>
      <ProblemView error={list.error} />
      {list.loading && !apps && <Loading what="apps" />}
      {apps && apps.length === 0 && !list.previous && (
        <Empty>
          No app is registered yet. <a href="#/apps/new">Register the first one</a>: an Entra ID app registration, a Google OAuth client or any OAuth2 provider.
        </Empty>
      )}
      {apps && apps.length > 0 && (
        <>
          <form className="filters" role="search" aria-label="Filter apps on this page" onSubmit={(e) => e.preventDefault()}>
            <div className="field">
              <label htmlFor="apps-filter">Filter this page by name, id or client ID</label>
              <input id="apps-filter" type="search" value={filter} onChange={(e) => setFilter(e.target.value)} autoComplete="off" />
            </div>
          </form>
          {shown!.length === 0 && <Empty>No app on this page matches. The next pages may hold more.</Empty>}
          {shown!.length > 0 && (
            <div className="table-wrap">
              <table aria-busy={list.loading}>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Provider</th>
                    <th scope="col">Client ID</th>
                    <th scope="col">Credentials</th>
                    <th scope="col">Credential in use</th>
                  </tr>
                </thead>
                <tbody>
                  {shown!.map((app) => {
                    const credential = soonest(app);
                    return (
                      <tr key={app.id}>
                        <td>
                          <a href={`#/apps/${encodeURIComponent(app.id)}`}>{app.name}</a>
                        </td>
                        <td>
                          {PROVIDER_NAMES[app.provider] ?? app.provider}
                          {app.tenant && <div className="muted small">{app.tenant}</div>}
                        </td>
                        <td>
                          <code>{app.client_id}</code>
                        </td>
                        <td>{app.credentials.length}</td>
                        <td>
                          {credential ? (
                            <>
                              <ExpiryBadge expiresAt={credential.expires_at} />
                              {!app.active_credential_id && <div className="muted small">none promoted yet</div>}
                            </>
                          ) : (
                            <span className="muted">none</span>
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
      <Pager list={list} what="apps" />
    </>
  );
}
