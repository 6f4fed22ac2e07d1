import type { ExpiryItem, ExpiryPage, WatchState } from "../api";
import { Empty, Loading, ProblemView } from "../components/common";
import { ExpiryTimeline, KIND_LABELS } from "../components/ExpiryTimeline";
import { Pager, useAppNames, usePagedList } from "../components/paging";
import { dateTime, relative } from "../format";

export const WATCH_LABELS: Record<WatchState, string> = {
  ok: "OK",
  warning: "Expires soon",
  expired: "Expired",
  reauth_required: "Owner must reconnect",
};

/** The broker's judgement of an object (its thresholds, not the browser's), with the time left. */
function WatchBadge({ item }: { item: ExpiryItem }) {
  const colour = item.state === "reauth_required" ? "expired" : item.state;
  return (
    <span className={`badge ${colour}`} title={dateTime(item.expires_at)}>
      {WATCH_LABELS[item.state] ?? item.state} · {relative(item.expires_at)}
    </span>
  );
}

/**
 * The security team's overview from one page of `GET /v1/expiry`: the counts and the timeline are
 * over the broker's whole last scan, the table pages through it, soonest expiry first.
 */
export function Dashboard() {
  const expiry = usePagedList<ExpiryPage>("/v1/expiry");
  const page = expiry.page;
  // Items carry their app's name; alerts name only the app's id, so those few are read.
  const appNames = useAppNames([
    ...(page?.items.filter((i) => !i.app_name).map((i) => i.app_id) ?? []),
    ...(page?.failed_notifications.map((n) => n.app_id) ?? []),
    ...Object.keys(page?.discovery_errors ?? {}),
  ]);
  const appName = (item: { app_id: string; app_name?: string | null }) => item.app_name ?? appNames[item.app_id] ?? item.app_id;

  return (
    <>
      <h1>Dashboard</h1>
      <ProblemView error={expiry.error} />
      {expiry.loading && !page && <Loading what="the expiry overview" />}
      {page && !page.evaluated_at && <Empty>The broker's first expiry scan has not finished yet. Reload in a moment.</Empty>}
      {page?.evaluated_at && (
        <>
          <section aria-labelledby="summary-title">
            <h2 id="summary-title" className="sr-only">
              Summary
            </h2>
            <div className="summary">
              <div className="stat expired">
                <span className="number">{page.counts.expired}</span> expired
              </div>
              <div className="stat expired">
                <span className="number">{page.counts.reauth_required}</span> mailboxes whose owner must reconnect
              </div>
              <div className="stat warning">
                <span className="number">{page.counts.warning}</span> expiring soon
              </div>
              <div className="stat ok">
                <span className="number">{page.counts.ok}</span> OK
              </div>
            </div>
            <p className="muted small">As of the broker's last expiry scan, {dateTime(page.evaluated_at)}.</p>
          </section>

          <section aria-labelledby="timeline-title">
            <h2 id="timeline-title">What expires in the next 90 days</h2>
            <ExpiryTimeline timeline={page.timeline} from={page.evaluated_at.slice(0, 10)} />
          </section>
        </>
      )}

      {page && page.failed_notifications.length > 0 && (
        <div className="problem" role="alert">
          <strong>Notifications that could not be delivered</strong>
          <ul>
            {page.failed_notifications.map((n) => (
              <li key={n.message_id}>
                {dateTime(n.failed_at)} · {n.notifier} ({n.type}) for <a href={`#/apps/${encodeURIComponent(n.app_id)}`}>{appNames[n.app_id] ?? n.app_id}</a>, {n.attempts}{" "}
                tries: {n.last_error}
              </li>
            ))}
          </ul>
        </div>
      )}
      {page && Object.keys(page.discovery_errors).length > 0 && (
        <div className="problem" role="alert">
          <strong>Entra ID could not be read for these apps</strong>
          <ul>
            {Object.entries(page.discovery_errors).map(([appId, error]) => (
              <li key={appId}>
                <a href={`#/apps/${encodeURIComponent(appId)}`}>{appNames[appId] ?? appId}</a>: {error}
              </li>
            ))}
          </ul>
        </div>
      )}

      {page?.evaluated_at && (
        <section aria-labelledby="expiry-title">
          <h2 id="expiry-title">Everything the broker watches, soonest expiry first</h2>
          {page.items.length === 0 && !expiry.previous && (
            <Empty>
              Nothing with an expiry date is watched yet. <a href="#/apps/new">Register an app</a> and add its client secret or certificate.
            </Empty>
          )}
          {page.items.length > 0 && (
            <div className="table-wrap">
              <table aria-labelledby="expiry-title" aria-busy={expiry.loading}>
                <thead>
                  <tr>
                    <th scope="col">Expiry</th>
                    <th scope="col">App</th>
                    <th scope="col">What</th>
                    <th scope="col">Expires at</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((item) => (
                    <tr key={`${item.app_id}/${item.id}`} className={`row-${item.state === "reauth_required" ? "expired" : item.state}`}>
                      <td>
                        <WatchBadge item={item} />
                      </td>
                      <td>
                        <a href={`#/apps/${encodeURIComponent(item.app_id)}`}>{appName(item)}</a>
                      </td>
                      <td>
                        {item.kind === "mailbox" ? "Mailbox" : KIND_LABELS[item.kind][0].replace(/^./, (c) => c.toUpperCase())}
                        <div className="muted small">
                          {item.label}
                          {item.reconnect_url && (
                            <>
                              {" · "}
                              <a href={item.reconnect_url}>reconnect link</a>
                            </>
                          )}
                        </div>
                      </td>
                      <td>{dateTime(item.expires_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <Pager list={expiry} what="watched objects" />
        </section>
      )}
    </>
  );
}
