import { api, ApiError, type App, type ExpiryItem } from "../api";
import { Empty, ExpiryBadge, Loading, ProblemView, useLoad } from "../components/common";
import { dateTime, expiryState } from "../format";

interface FailedNotification {
  at?: string;
  notifier?: string;
  target?: string;
  error?: string;
  detail?: string;
  credential_id?: string;
  app_id?: string;
}

interface ExpiryOverview {
  items: ExpiryItem[];
  failedNotifications: FailedNotification[];
}

/** GET /v1/expiry is being added by another change: a 404 means "not on this broker yet", not a failure. */
async function loadExpiry(): Promise<ExpiryOverview | null> {
  try {
    // The first page carries the failed notifications; the items of every page follow the cursor.
    const first = await api.get<Record<string, unknown>>("/v1/expiry?limit=500");
    const items = Array.isArray(first.items) ? [...(first.items as ExpiryItem[])] : [];
    const next = first.next_cursor as string | null | undefined;
    if (next) items.push(...(await api.getAll<ExpiryItem>(`/v1/expiry?cursor=${encodeURIComponent(next)}`)));
    const failed = (first.failed_notifications ?? []) as FailedNotification[];
    return { items, failedNotifications: Array.isArray(failed) ? failed : [] };
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405)) return null;
    throw e;
  }
}

interface Row {
  key: string;
  appId: string;
  appName: string;
  what: string;
  state: string;
  expiresAt: string;
}

export function credentialRows(apps: App[]): Row[] {
  return apps
    .flatMap((app) =>
      app.credentials.map((c) => ({
        key: `${app.id}/${c.id}`,
        appId: app.id,
        appName: app.name,
        what: `${c.type === "certificate" ? "Certificate" : "Client secret"}${c.description ? ` “${c.description}”` : ""}`,
        state: c.state,
        expiresAt: c.expires_at,
      })),
    )
    .sort((a, b) => a.expiresAt.localeCompare(b.expiresAt));
}

export function Dashboard() {
  const apps = useLoad(() => api.getAll<App>("/v1/apps"), []);
  const expiry = useLoad(loadExpiry, []);
  const rows = apps.data ? credentialRows(apps.data) : [];
  const counts = { ok: 0, warning: 0, expired: 0 };
  rows.forEach((r) => counts[expiryState(r.expiresAt)]++);

  return (
    <>
      <h1>Dashboard</h1>
      <section aria-labelledby="summary-title" className="summary">
        <h2 id="summary-title" className="sr-only">
          Summary
        </h2>
        <div className="stat expired">
          <span className="number">{counts.expired}</span> expired
        </div>
        <div className="stat warning">
          <span className="number">{counts.warning}</span> expiring within 30 days
        </div>
        <div className="stat ok">
          <span className="number">{counts.ok}</span> OK
        </div>
      </section>

      <section aria-labelledby="credentials-title">
        <h2 id="credentials-title">Credentials, soonest expiry first</h2>
        <ProblemView error={apps.error} />
        {apps.loading && !apps.data && <Loading what="apps" />}
        {apps.data && rows.length === 0 && (
          <Empty>
            No credentials yet. <a href="#/apps/new">Register an app</a> and add its client secret or certificate.
          </Empty>
        )}
        {rows.length > 0 && (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Expiry</th>
                  <th scope="col">App</th>
                  <th scope="col">Credential</th>
                  <th scope="col">State</th>
                  <th scope="col">Expires at</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.key} className={`row-${expiryState(r.expiresAt)}`}>
                    <td>
                      <ExpiryBadge expiresAt={r.expiresAt} />
                    </td>
                    <td>
                      <a href={`#/apps/${encodeURIComponent(r.appId)}`}>{r.appName}</a>
                    </td>
                    <td>{r.what}</td>
                    <td>{r.state}</td>
                    <td>{dateTime(r.expiresAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section aria-labelledby="expiry-title">
        <h2 id="expiry-title">Everything the broker watches</h2>
        <ProblemView error={expiry.error} />
        {expiry.loading && expiry.data === undefined && <Loading what="the expiry overview" />}
        {expiry.data === null && (
          <Empty>The expiry overview (GET /v1/expiry) is not available on this broker yet. The credentials above are read from the apps.</Empty>
        )}
        {expiry.data && expiry.data.items.length === 0 && <Empty>Nothing with an expiry date is watched yet.</Empty>}
        {expiry.data && expiry.data.items.length > 0 && (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Expiry</th>
                  <th scope="col">What</th>
                  <th scope="col">State</th>
                  <th scope="col">Expires at</th>
                </tr>
              </thead>
              <tbody>
                {[...expiry.data.items]
                  .sort((a, b) => (a.expires_at ?? "9999").localeCompare(b.expires_at ?? "9999"))
                  .map((item, i) => (
                    <tr key={`${item.credential_id ?? item.account_id ?? ""}-${i}`}>
                      <td>{item.expires_at ? <ExpiryBadge expiresAt={item.expires_at} /> : "—"}</td>
                      <td>
                        {item.app_id ? <a href={`#/apps/${encodeURIComponent(item.app_id)}`}>{item.app_name ?? item.name ?? item.app_id}</a> : item.name ?? item.account_id}
                        {item.kind ? <span className="muted"> · {item.kind}</span> : null}
                      </td>
                      <td>{item.state ?? "—"}</td>
                      <td>{dateTime(item.expires_at)}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        )}
        {expiry.data && expiry.data.failedNotifications.length > 0 && (
          <div className="problem" role="alert">
            <strong>Notifications that could not be delivered</strong>
            <ul>
              {expiry.data.failedNotifications.map((n, i) => (
                <li key={i}>
                  {dateTime(n.at)} · {n.notifier ?? "notifier"} {n.target ? `to ${n.target}` : ""}: {n.error ?? n.detail ?? "failed"}
                </li>
              ))}
            </ul>
          </div>
        )}
      </section>
    </>
  );
}
