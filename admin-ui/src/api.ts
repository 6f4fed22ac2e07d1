// The broker's v1 API as the admin web app uses it: the session cookie authenticates every call,
// and every change carries the session's CSRF token (the broker refuses it otherwise).

/** An RFC 9457 problem document as the broker writes it. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  request_id?: string;
  errors?: Record<string, string>;
}

/** A failed call: the problem the broker answered, or a made-up one when it could not be reached. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(status: number, problem: Problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

let csrfToken: string | null = null;
let onSignedOut: (() => void) | null = null;

/** Remembers the CSRF token of the current session (held in memory only, never in storage). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when a call answers 401: the session expired or was revoked. */
export function setSignedOutHandler(handler: (() => void) | null): void {
  onSignedOut = handler;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json, application/problem+json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, { title: "Postern cannot be reached", detail: "Check the network and that the broker is running." });
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const problem: Problem =
      json && typeof json === "object" ? (json as Problem) : { title: response.statusText || `HTTP ${response.status}` };
    if (response.status === 401 && !path.startsWith("/admin/session") && onSignedOut) onSignedOut();
    throw new ApiError(response.status, problem);
  }
  return json as T;
}

/** One page of a v1 list: `items` in the list's order, `next_cursor` for the next page (null on the last). */
export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

/** The path of one page of a v1 list: `limit`, the `cursor` of the page, and the non-empty filters. */
export function listPath(path: string, filters: Record<string, string>, limit: number, cursor?: string): string {
  const params = new URLSearchParams({ limit: String(limit) });
  if (cursor) params.set("cursor", cursor);
  Object.entries(filters).forEach(([key, value]) => {
    if (value.trim()) params.set(key, value.trim());
  });
  return `${path}?${params.toString()}`;
}

export const api = {
  get: <T>(path: string) => request<T>("GET", path),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, body ?? {}),
  patch: <T>(path: string, body: unknown) => request<T>("PATCH", path, body),
  del: <T>(path: string) => request<T>("DELETE", path),
};

export interface Session {
  client_id: string;
  name?: string;
  role: string;
  csrf_token: string;
  expires_at: string;
  idle_timeout_seconds: number;
}

export interface Verification {
  at: string;
  accepted: boolean;
  error?: string;
  description?: string;
}

export interface CertificateInfo {
  pem: string;
  sha1_thumbprint: string;
  sha256_thumbprint: string;
  key_algorithm: string;
}

export interface Credential {
  id: string;
  type: "client_secret" | "certificate";
  state: "pending" | "active" | "retired";
  description?: string;
  created_at: string;
  expires_at: string;
  verification?: Verification;
  promoted_at?: string;
  retired_at?: string;
  certificate?: CertificateInfo;
}

export interface App {
  id: string;
  name: string;
  provider: "microsoft" | "google" | "generic";
  tenant?: string;
  client_id: string;
  scopes: string[];
  authorize_endpoint?: string;
  token_endpoint?: string;
  userinfo_endpoint?: string;
  created_at: string;
  updated_at: string;
  active_credential_id?: string;
  credentials: Credential[];
}

export interface CreatedCredential {
  app_id: string;
  credential: Credential;
  warnings: string[];
}

export interface ApiClient {
  id: string;
  name: string;
  role: "admin" | "client" | "monitor";
  allowed_apps: string[];
  allowed_accounts: string[];
  key_prefix: string;
  created_at: string;
  expires_at?: string;
  revoked_at?: string;
  key?: string;
}

export interface AuditEvent {
  id: string;
  at: string;
  actor: string;
  action: string;
  object_type: string;
  object_id?: string;
  outcome: string;
  request_id?: string;
  details: Record<string, string>;
}

export type ExpiryKind = "client_secret" | "certificate" | "mailbox";
export type WatchState = "ok" | "warning" | "expired" | "reauth_required";

/** One object the last expiry scan watched (GET /v1/expiry). */
export interface ExpiryItem {
  kind: ExpiryKind;
  id: string;
  app_id: string;
  /** null for an app the scan did not see (deleted since). */
  app_name?: string | null;
  label: string;
  expires_at: string;
  days_left: number;
  state: WatchState;
  usage: string;
  managed: boolean;
  fired_thresholds: string[];
  incident_id?: string | null;
  reconnect_url?: string | null;
}

/** A notification the broker gave up on after every try. */
export interface FailedNotification {
  message_id: string;
  notifier: string;
  type: string;
  app_id: string;
  incident_id?: string;
  attempts: number;
  last_error: string;
  failed_at: string;
}

/** One day of the expiry timeline: how many objects of each kind expire on it (UTC). */
export interface TimelineDay {
  date: string;
  counts: Partial<Record<ExpiryKind, number>>;
}

/** A page of GET /v1/expiry: `counts` and `timeline` are over the whole last scan, not the page. */
export interface ExpiryPage extends Page<ExpiryItem> {
  evaluated_at: string | null;
  counts: Record<WatchState, number>;
  timeline: TimelineDay[];
  failed_notifications: FailedNotification[];
  discovery_errors: Record<string, string>;
}

export type AccountStatus = "active" | "reauth_required" | "revoked";

export interface Account {
  id: string;
  app_id: string;
  provider: string;
  mailbox: string;
  status: AccountStatus;
  scope?: string;
  created_at?: string;
  connected_at?: string;
  last_refresh_at?: string;
  last_error?: { code: string; description: string; at: string } | null;
}

export interface ConnectLink {
  url: string;
  expires_at: string;
}
