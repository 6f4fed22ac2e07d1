import { api, type Account, type App } from "../../api";
import { Loading, ProblemView, useLoad } from "../../components/common";
import { dateTime } from "../../format";
import { MailProxyAccess } from "../../components/MailProxyAccess";
import { StatusBadge } from "./MailboxList";

/**
 * One mailbox (`GET /v1/accounts/{id}`). Panels about the mailbox (its app passwords, its mail
 * sessions) go below the facts, each its own component taking the account.
 */
export function MailboxDetailPage({ accountId }: { accountId: string }) {
  const account = useLoad(() => api.get<Account>(`/v1/accounts/${encodeURIComponent(accountId)}`), [accountId]);
  const a = account.data;
  return (
    <>
      <p>
        <a href="#/mailboxes">← Mailboxes</a>
      </p>
      <ProblemView error={account.error} />
      {account.loading && !a && <Loading what="the mailbox" />}
      {a && (
        <>
          <h1>{a.mailbox}</h1>
          <MailboxFacts account={a} />
          <h2>Mail proxy</h2>
          <MailProxyAccess accountId={a.id} mailbox={a.mailbox} />
        </>
      )}
    </>
  );
}

function MailboxFacts({ account: a }: { account: Account }) {
  const app = useLoad(() => api.get<App>(`/v1/apps/${encodeURIComponent(a.app_id)}`), [a.app_id]);
  return (
    <dl className="card facts">
      <dt>Status</dt>
      <dd>
        <StatusBadge status={a.status} />
      </dd>
      <dt>App</dt>
      <dd>
        <a href={`#/apps/${encodeURIComponent(a.app_id)}`}>{app.data?.name ?? a.app_id}</a>
      </dd>
      <dt>Provider</dt>
      <dd>{a.provider}</dd>
      <dt>Scopes</dt>
      <dd>{a.scope ?? "—"}</dd>
      <dt>Connected</dt>
      <dd>{dateTime(a.connected_at)}</dd>
      <dt>Last refresh</dt>
      <dd>{dateTime(a.last_refresh_at)}</dd>
      {a.last_error && (
        <>
          <dt>Last error</dt>
          <dd>
            {dateTime(a.last_error.at)} · <code>{a.last_error.code}</code> {a.last_error.description}
          </dd>
        </>
      )}
      <dt>Account id</dt>
      <dd>
        <code>{a.id}</code>
      </dd>
    </dl>
  );
}
