import { useState, type FormEvent } from "react";
import { api, type App } from "../api";
import { CopyButton, ProblemView, useAction } from "../components/common";

export const MICROSOFT_PERMISSIONS = ["email", "offline_access", "IMAP.AccessAsUser.All", "SMTP.Send", "User.Read"];

/** Registers an app; for Microsoft it walks through the Entra ID app registration step by step. */
export function NewAppPage() {
  const [provider, setProvider] = useState<"microsoft" | "google" | "generic">("microsoft");
  const [name, setName] = useState("");
  const [tenant, setTenant] = useState("");
  const [clientId, setClientId] = useState("");
  const [authorize, setAuthorize] = useState("");
  const [token, setToken] = useState("");
  const [userinfo, setUserinfo] = useState("");
  const action = useAction();
  const redirectUri = `${window.location.origin}/oauth2/callback`;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body: Record<string, unknown> = { name: name.trim(), provider, client_id: clientId.trim() };
    if (provider === "microsoft") body.tenant = tenant.trim();
    if (provider === "generic") {
      body.authorize_endpoint = authorize.trim();
      body.token_endpoint = token.trim();
      if (userinfo.trim()) body.userinfo_endpoint = userinfo.trim();
    }
    const app = await action.run(() => api.post<App>("/v1/apps", body));
    if (app) window.location.hash = `#/apps/${encodeURIComponent(app.id)}`;
  };

  return (
    <>
      <p>
        <a href="#/apps">← Apps</a>
      </p>
      <h1>Register an app</h1>
      <form onSubmit={submit} className="stack">
        <fieldset>
          <legend>Identity provider</legend>
          {(
            [
              ["microsoft", "Microsoft Entra ID (Outlook, Exchange Online)"],
              ["google", "Google (Gmail)"],
              ["generic", "Another OAuth2 provider"],
            ] as const
          ).map(([value, label]) => (
            <label key={value} className="radio">
              <input type="radio" name="provider" value={value} checked={provider === value} onChange={() => setProvider(value)} /> {label}
            </label>
          ))}
        </fieldset>

        <label htmlFor="app-name">Name in Postern</label>
        <input id="app-name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="Contoso mail" />

        {provider === "microsoft" && (
          <ol className="steps">
            <li>
              <h2>Create the app registration</h2>
              <p>
                In the Microsoft Entra admin center open <strong>Identity → Applications → App registrations → New registration</strong>. Pick the
                account types of your mailboxes and add a <strong>Web</strong> redirect URI:
              </p>
              <p className="copyline">
                <code>{redirectUri}</code> <CopyButton value={redirectUri} label="Copy the redirect URI" />
              </p>
            </li>
            <li>
              <h2>Copy the IDs from the Overview page</h2>
              <label htmlFor="app-tenant">Directory (tenant) ID or verified domain</label>
              <input
                id="app-tenant"
                required
                value={tenant}
                onChange={(e) => setTenant(e.target.value)}
                placeholder="contoso.onmicrosoft.com"
                aria-describedby="tenant-help"
              />
              <p id="tenant-help" className="muted small">
                A GUID, a domain such as contoso.onmicrosoft.com, or <code>organizations</code> for any work account.
              </p>
              <label htmlFor="app-client-id">Application (client) ID</label>
              <input
                id="app-client-id"
                required
                value={clientId}
                onChange={(e) => setClientId(e.target.value)}
                placeholder="11111111-2222-3333-4444-555555555555"
              />
            </li>
            <li>
              <h2>Grant the delegated permissions</h2>
              <p>
                Under <strong>API permissions → Add a permission → Microsoft Graph → Delegated permissions</strong> add these, then choose{" "}
                <strong>Grant admin consent</strong>:
              </p>
              <ul className="permissions">
                {MICROSOFT_PERMISSIONS.map((p) => (
                  <li key={p}>
                    <code>{p}</code>
                  </li>
                ))}
              </ul>
            </li>
            <li>
              <h2>Create the client secret</h2>
              <p>
                Under <strong>Certificates &amp; secrets → Client secrets → New client secret</strong>, pick an expiry (Microsoft allows at most 24
                months) and copy the secret's <strong>Value</strong> (not its Secret ID): it is shown only once. You enter it with its expiry date on
                the next page. You can also let Postern generate a certificate there instead.
              </p>
            </li>
          </ol>
        )}

        {provider !== "microsoft" && (
          <>
            <label htmlFor="app-client-id">Client ID</label>
            <input id="app-client-id" required value={clientId} onChange={(e) => setClientId(e.target.value)} />
          </>
        )}
        {provider === "google" && (
          <p className="muted">
            Create an OAuth client of type “Web application” in the Google Cloud console with the redirect URI <code>{redirectUri}</code>. Postern asks
            for the scope <code>https://mail.google.com/</code>.
          </p>
        )}
        {provider === "generic" && (
          <>
            <label htmlFor="app-authorize">Authorization endpoint</label>
            <input id="app-authorize" type="url" required value={authorize} onChange={(e) => setAuthorize(e.target.value)} />
            <label htmlFor="app-token">Token endpoint</label>
            <input id="app-token" type="url" required value={token} onChange={(e) => setToken(e.target.value)} />
            <label htmlFor="app-userinfo">Userinfo endpoint (optional)</label>
            <input id="app-userinfo" type="url" value={userinfo} onChange={(e) => setUserinfo(e.target.value)} />
          </>
        )}

        <ProblemView error={action.error} />
        <div>
          <button type="submit" disabled={action.busy}>
            {action.busy ? "Registering…" : "Register the app"}
          </button>
        </div>
      </form>
    </>
  );
}
