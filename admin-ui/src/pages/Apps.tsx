import { api, type App } from "../api";
import { Empty, ExpiryBadge, Loading, ProblemView, useLoad } from "../components/common";

export const PROVIDER_NAMES: Record<string, string> = { microsoft: "Microsoft Entra ID", google: "Google", generic: "Generic OAuth2" };

/** The credential in use, or else the one that expires first. */
function soonest(app: App) {
  const active = app.credentials.find((c) => c.id === app.active_credential_id);
  if (active) return active;
  return [...app.credentials].sort((a, b) => a.expires_at.localeCompare(b.expires_at))[0];
}

export function AppsPage() {
  const apps = useLoad(() => api.getAll<App>("/v1/apps"), []);
  return (
    <>
      <div className="page-head">
        <h1>Apps</h1>
        <a className="button" href="#/apps/new">
          Register an app
        </a>
      </div>
      <ProblemView error={apps.error} />
      {apps.loading && !apps.data && <Loading what="apps" />}
      {apps.data && apps.data.length === 0 && (
        <Empty>
          No app is registered yet. <a href="#/apps/new">Register the first one</a>: an Entra ID app registration, a Google OAuth client or any OAuth2 provider.
        </Empty>
      )}
      {apps.data && apps.data.length > 0 && (
        <div className="table-wrap">
          <table>
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
              {apps.data.map((app) => {
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
  );
}
