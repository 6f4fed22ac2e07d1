import { useState, type FormEvent } from "react";
import { api, type App, type Credential, type CreatedCredential } from "../api";
import { CopyButton, Empty, ExpiryBadge, Loading, ProblemView, useAction, useLoad } from "../components/common";
import { dateTime } from "../format";
import { PROVIDER_NAMES } from "./Apps";

const base = (appId: string) => `/v1/apps/${encodeURIComponent(appId)}`;

/** "2027-05-01" from a date input, as the instant the broker wants (end of that day is not guessed: midnight UTC). */
function dateToInstant(date: string): string {
  return `${date}T00:00:00Z`;
}

function credentialLabel(c: Credential): string {
  return `${c.type === "certificate" ? "Certificate" : "Client secret"}${c.description ? ` “${c.description}”` : ""}`;
}

function download(filename: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/x-pem-file" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function AppDetailPage({ appId, rotate }: { appId: string; rotate: boolean }) {
  const app = useLoad(() => api.get<App>(base(appId)), [appId]);
  return (
    <>
      <p>
        <a href="#/apps">← Apps</a>
      </p>
      <ProblemView error={app.error} />
      {app.loading && !app.data && <Loading what="the app" />}
      {app.data && (rotate ? <RotationWizard app={app.data} onChange={(a) => app.setData(a)} reload={app.reload} /> : <AppDetail app={app.data} reload={app.reload} />)}
    </>
  );
}

function AppDetail({ app, reload }: { app: App; reload: () => Promise<void> }) {
  const [certificate, setCertificate] = useState<Credential | null>(null);
  const [warnings, setWarnings] = useState<string[]>([]);
  const credentials = [...app.credentials].sort((a, b) => a.expires_at.localeCompare(b.expires_at));
  return (
    <>
      <div className="page-head">
        <h1>{app.name}</h1>
        {app.active_credential_id && (
          <a className="button" href={`#/apps/${encodeURIComponent(app.id)}/rotate`}>
            Rotate the credential
          </a>
        )}
      </div>
      <dl className="facts">
        <dt>Provider</dt>
        <dd>{PROVIDER_NAMES[app.provider] ?? app.provider}</dd>
        {app.tenant && (
          <>
            <dt>Tenant</dt>
            <dd>{app.tenant}</dd>
          </>
        )}
        <dt>Client ID</dt>
        <dd>
          <code>{app.client_id}</code>
        </dd>
        <dt>Scopes</dt>
        <dd>{app.scopes.join(" ")}</dd>
        <dt>App ID</dt>
        <dd>
          <code>{app.id}</code>
        </dd>
      </dl>

      <section aria-labelledby="creds-title">
        <h2 id="creds-title">Credentials</h2>
        {credentials.length === 0 && <Empty>No credential yet: add the client secret from the app registration, or generate a certificate.</Empty>}
        {credentials.length > 0 && (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Credential</th>
                  <th scope="col">State</th>
                  <th scope="col">Expiry</th>
                  <th scope="col">Verification</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {credentials.map((c) => (
                  <CredentialRow key={c.id} app={app} credential={c} reload={reload} onShowCertificate={setCertificate} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      {certificate?.certificate && <CertificatePanel credential={certificate} onClose={() => setCertificate(null)} />}
      {warnings.length > 0 && (
        <div className="notice" role="status">
          {warnings.map((w) => (
            <p key={w}>{w}</p>
          ))}
        </div>
      )}

      <div className="two-columns">
        <AddSecretForm
          app={app}
          onAdded={async (created) => {
            setWarnings(created.warnings);
            await reload();
          }}
        />
        {app.provider === "microsoft" && (
          <GenerateCertificateForm
            app={app}
            onGenerated={async (created) => {
              setCertificate(created.credential);
              await reload();
            }}
          />
        )}
      </div>
    </>
  );
}

function VerificationText({ credential }: { credential: Credential }) {
  const v = credential.verification;
  if (!v) return <span className="muted">not verified</span>;
  return v.accepted ? (
    <span className="badge ok">accepted {dateTime(v.at)}</span>
  ) : (
    <span>
      <span className="badge expired">refused</span> <span className="small">{v.error ?? v.description}</span>
    </span>
  );
}

function CredentialRow({
  app,
  credential,
  reload,
  onShowCertificate,
}: {
  app: App;
  credential: Credential;
  reload: () => Promise<void>;
  onShowCertificate: (c: Credential) => void;
}) {
  const action = useAction();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [promoting, setPromoting] = useState(false);
  const path = `${base(app.id)}/credentials/${encodeURIComponent(credential.id)}`;
  const label = credentialLabel(credential);
  const active = credential.state === "active";

  const verify = () => action.run(async () => {
    await api.post(`${path}/verify`);
    await reload();
    return true;
  });
  const remove = () => action.run(async () => {
    await api.del(path);
    setConfirmDelete(false);
    await reload();
    return true;
  });

  return (
    <tr>
      <td>
        {label}
        <div className="muted small">
          <code>{credential.id}</code> · added {dateTime(credential.created_at)}
        </div>
      </td>
      <td>
        <span className={`state ${credential.state}`}>{credential.state}</span>
      </td>
      <td>
        <ExpiryBadge expiresAt={credential.expires_at} />
        <div className="muted small">{dateTime(credential.expires_at)}</div>
      </td>
      <td>
        <VerificationText credential={credential} />
      </td>
      <td className="actions">
        <button type="button" className="secondary" onClick={verify} disabled={action.busy} aria-label={`Verify ${label} ${credential.id}`}>
          Verify
        </button>
        {!active && (
          <button type="button" className="secondary" onClick={() => setPromoting(true)} disabled={action.busy} aria-label={`Promote ${label} ${credential.id}`}>
            Promote
          </button>
        )}
        {credential.certificate && (
          <button type="button" className="secondary" onClick={() => onShowCertificate(credential)} aria-label={`Show the certificate ${credential.id}`}>
            Certificate
          </button>
        )}
        {!active && !confirmDelete && (
          <button type="button" className="danger" onClick={() => setConfirmDelete(true)} aria-label={`Delete ${label} ${credential.id}`}>
            Delete
          </button>
        )}
        {confirmDelete && (
          <span className="confirm" role="group" aria-label="Confirm the deletion">
            <button type="button" className="danger" onClick={remove} disabled={action.busy}>
              Delete for good
            </button>
            <button type="button" className="secondary" onClick={() => setConfirmDelete(false)}>
              Cancel
            </button>
          </span>
        )}
        {promoting && (
          <PromoteForm
            app={app}
            credential={credential}
            onDone={async () => {
              setPromoting(false);
              await reload();
            }}
            onCancel={() => setPromoting(false)}
          />
        )}
        <ProblemView error={action.error} />
      </td>
    </tr>
  );
}

/** Promotion; without an accepted verification it needs force and a reason, which go to the audit trail. */
function PromoteForm({
  app,
  credential,
  onDone,
  onCancel,
}: {
  app: App;
  credential: Credential;
  onDone: (app: App) => void | Promise<void>;
  onCancel?: () => void;
}) {
  const verified = credential.verification?.accepted === true;
  const [force, setForce] = useState(false);
  const [reason, setReason] = useState("");
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = verified ? {} : { force, reason: reason.trim() };
    const updated = await action.run(() =>
      api.post<App>(`${base(app.id)}/credentials/${encodeURIComponent(credential.id)}/promote`, body),
    );
    if (updated) await onDone(updated);
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label={`Promote ${credential.id}`}>
      {!verified && (
        <>
          <p className="small">This credential has no accepted verification. Promoting it anyway is recorded in the audit log with your reason.</p>
          <label className="checkbox">
            <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} /> Promote without an accepted verification
          </label>
          <label htmlFor={`reason-${credential.id}`}>Reason</label>
          <textarea id={`reason-${credential.id}`} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} required={force} />
        </>
      )}
      <div className="buttons">
        <button type="submit" disabled={action.busy || (!verified && (!force || reason.trim() === ""))}>
          Promote
        </button>
        {onCancel && (
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
      <ProblemView error={action.error} />
    </form>
  );
}

function AddSecretForm({ app, onAdded, title = "Add a client secret" }: { app: App; onAdded: (c: CreatedCredential) => void | Promise<void>; title?: string }) {
  const [value, setValue] = useState("");
  const [expires, setExpires] = useState("");
  const [description, setDescription] = useState("");
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const created = await action.run(() =>
      api.post<CreatedCredential>(`${base(app.id)}/credentials`, {
        type: "client_secret",
        value,
        expires_at: dateToInstant(expires),
        ...(description.trim() ? { description: description.trim() } : {}),
      }),
    );
    if (created) {
      // The secret leaves the page as soon as the broker has it.
      setValue("");
      setExpires("");
      setDescription("");
      await onAdded(created);
    }
  };
  return (
    <form className="card stack" onSubmit={submit} aria-labelledby={`add-secret-${app.id}`}>
      <h2 id={`add-secret-${app.id}`}>{title}</h2>
      <label htmlFor="secret-value">Secret value</label>
      <input id="secret-value" type="password" autoComplete="off" required value={value} onChange={(e) => setValue(e.target.value)} />
      <label htmlFor="secret-expires">Expires on (UTC)</label>
      <input id="secret-expires" type="date" required value={expires} onChange={(e) => setExpires(e.target.value)} />
      <label htmlFor="secret-description">Description (optional)</label>
      <input id="secret-description" maxLength={200} value={description} onChange={(e) => setDescription(e.target.value)} />
      <ProblemView error={action.error} />
      <div>
        <button type="submit" disabled={action.busy}>
          {action.busy ? "Adding…" : "Add the secret"}
        </button>
      </div>
    </form>
  );
}

function GenerateCertificateForm({ app, onGenerated }: { app: App; onGenerated: (c: CreatedCredential) => void | Promise<void> }) {
  const [days, setDays] = useState("365");
  const [algorithm, setAlgorithm] = useState("rsa_3072");
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const created = await action.run(() =>
      api.post<CreatedCredential>(`${base(app.id)}/credentials`, { type: "certificate", validity_days: Number(days), key_algorithm: algorithm }),
    );
    if (created) await onGenerated(created);
  };
  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="generate-cert">
      <h2 id="generate-cert">Generate a certificate</h2>
      <p className="muted small">Postern keeps the private key; you upload the certificate to the app registration.</p>
      <label htmlFor="cert-days">Valid for (days)</label>
      <input id="cert-days" type="number" min={1} max={1095} required value={days} onChange={(e) => setDays(e.target.value)} />
      <label htmlFor="cert-algorithm">Key algorithm</label>
      <select id="cert-algorithm" value={algorithm} onChange={(e) => setAlgorithm(e.target.value)}>
        <option value="rsa_3072">RSA 3072</option>
        <option value="ec_p256">EC P-256</option>
      </select>
      <ProblemView error={action.error} />
      <div>
        <button type="submit" disabled={action.busy}>
          {action.busy ? "Generating…" : "Generate"}
        </button>
      </div>
    </form>
  );
}

function CertificatePanel({ credential, onClose }: { credential: Credential; onClose: () => void }) {
  const cert = credential.certificate!;
  return (
    <section className="card" aria-labelledby="cert-title">
      <h2 id="cert-title">Certificate {credential.id}</h2>
      <p>
        Upload it in Entra ID under <strong>Certificates &amp; secrets → Certificates → Upload certificate</strong>. It is public: it holds no
        private key.
      </p>
      <dl className="facts">
        <dt>SHA-1 thumbprint</dt>
        <dd>
          <code>{cert.sha1_thumbprint}</code>
        </dd>
        <dt>SHA-256 thumbprint</dt>
        <dd>
          <code className="wrap">{cert.sha256_thumbprint}</code>
        </dd>
        <dt>Expires</dt>
        <dd>{dateTime(credential.expires_at)}</dd>
      </dl>
      <label htmlFor="cert-pem">Certificate (PEM)</label>
      <textarea id="cert-pem" readOnly rows={6} value={cert.pem} className="mono" />
      <div className="buttons">
        <button type="button" onClick={() => download(`postern-${credential.id}.pem`, cert.pem)}>
          Download the PEM
        </button>
        <CopyButton value={cert.pem} label="Copy the certificate PEM" />
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
    </section>
  );
}

/** Rotation: add the new secret, verify it, promote it, then delete the one it replaces. */
function RotationWizard({ app, onChange, reload }: { app: App; onChange: (a: App) => void; reload: () => Promise<void> }) {
  const [oldId] = useState(app.active_credential_id);
  const [step, setStep] = useState(1);
  const [newId, setNewId] = useState<string | null>(null);
  const action = useAction();
  const fresh = app.credentials.find((c) => c.id === newId);
  const old = app.credentials.find((c) => c.id === oldId);
  const steps = ["Add the new secret", "Verify it", "Promote it", "Delete the old one"];

  const verify = () =>
    action.run(async () => {
      await api.post(`${base(app.id)}/credentials/${encodeURIComponent(newId!)}/verify`);
      await reload();
      return true;
    });
  const removeOld = () =>
    action.run(async () => {
      const updated = await api.del<App>(`${base(app.id)}/credentials/${encodeURIComponent(oldId!)}`);
      onChange(updated);
      setStep(5);
      return true;
    });

  return (
    <>
      <h1>Rotate the credential of {app.name}</h1>
      <ol className="wizard" aria-label="Rotation steps">
        {steps.map((label, i) => (
          <li key={label} aria-current={step === i + 1 ? "step" : undefined} className={step > i + 1 ? "done" : step === i + 1 ? "current" : ""}>
            {label}
          </li>
        ))}
      </ol>
      {old && (
        <p>
          In use now: {credentialLabel(old)} <code>{old.id}</code>, <ExpiryBadge expiresAt={old.expires_at} />
        </p>
      )}

      {step === 1 && (
        <>
          <p>Create a new client secret in the app registration first; the old one keeps working until you delete it at the end.</p>
          <AddSecretForm
            app={app}
            title="New client secret"
            onAdded={async (created) => {
              setNewId(created.credential.id);
              await reload();
              setStep(2);
            }}
          />
        </>
      )}

      {step === 2 && fresh && (
        <section className="card stack" aria-labelledby="verify-title">
          <h2 id="verify-title">Verify the new secret</h2>
          <p>Postern asks the identity provider for a token with the new secret. Microsoft can take a minute to accept a new secret.</p>
          <p>
            Result: <VerificationText credential={fresh} />
          </p>
          <ProblemView error={action.error} />
          <div className="buttons">
            <button type="button" onClick={verify} disabled={action.busy}>
              {action.busy ? "Verifying…" : "Verify now"}
            </button>
            <button type="button" className="secondary" onClick={() => setStep(3)}>
              Continue to promotion
            </button>
          </div>
        </section>
      )}

      {step === 3 && fresh && (
        <section className="card stack" aria-labelledby="promote-title">
          <h2 id="promote-title">Promote the new secret</h2>
          <p>From now on Postern uses the new secret; the old one is retired and keeps working until it expires or is deleted.</p>
          <PromoteForm
            app={app}
            credential={fresh}
            onDone={(updated) => {
              onChange(updated);
              setStep(oldId ? 4 : 5);
            }}
          />
        </section>
      )}

      {step === 4 && (
        <section className="card stack" aria-labelledby="delete-title">
          <h2 id="delete-title">Delete the old secret</h2>
          <p>
            Delete it here and then in the app registration, once every replica uses the new one. You can also keep it until it expires and delete it
            later.
          </p>
          <ProblemView error={action.error} />
          <div className="buttons">
            <button type="button" className="danger" onClick={removeOld} disabled={action.busy}>
              Delete the old secret
            </button>
            <button type="button" className="secondary" onClick={() => setStep(5)}>
              Keep it for now
            </button>
          </div>
        </section>
      )}

      {step === 5 && (
        <section className="card" role="status">
          <h2>Rotation done</h2>
          <p>
            The new secret is in use. <a href={`#/apps/${encodeURIComponent(app.id)}`}>Back to the app</a>
          </p>
        </section>
      )}
      {step < 5 && (
        <p>
          <a href={`#/apps/${encodeURIComponent(app.id)}`}>Cancel the rotation</a>
        </p>
      )}
    </>
  );
}
