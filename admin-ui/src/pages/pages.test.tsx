import { afterEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { fakeBroker } from "../test-fetch";
import { setCsrfToken } from "../api";
import { SignIn } from "./SignIn";
import { Dashboard } from "./Dashboard";
import { ClientsPage } from "./Clients";
import { AuditPage } from "./Audit";
import { NewAppPage, MICROSOFT_PERMISSIONS } from "./NewApp";
import { MailboxesPage } from "./mailboxes/MailboxesPage";
import { AppsPage } from "./Apps";

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

const day = 24 * 3600 * 1000;
const inDays = (n: number) => new Date(Date.now() + n * day).toISOString();

describe("SignIn", () => {
  it("shows the broker's problem for a wrong key and does not sign in", async () => {
    fakeBroker({
      "POST /admin/session": () => [401, { title: "Unauthorized", status: 401, detail: "The API key is unknown, revoked or expired." }],
    });
    const signedIn = vi.fn(async () => {});
    render(<SignIn onSignedIn={signedIn} />);
    fireEvent.change(screen.getByLabelText("Admin API key"), { target: { value: "pst_wrong" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect((await screen.findByRole("alert")).textContent).toContain("The API key is unknown, revoked or expired.");
    expect(signedIn).not.toHaveBeenCalled();
  });

  it("sends the key once and forgets it", async () => {
    const calls = fakeBroker({ "POST /admin/session": () => [204] });
    const signedIn = vi.fn(async () => {});
    render(<SignIn onSignedIn={signedIn} />);
    const input = screen.getByLabelText("Admin API key") as HTMLInputElement;
    fireEvent.change(input, { target: { value: " pst_right_key " } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(signedIn).toHaveBeenCalled());
    expect(calls[0].body).toEqual({ api_key: "pst_right_key" });
    expect(input.value).toBe("");
    expect(input.type).toBe("password");
  });
});

describe("Dashboard", () => {
  const item = (id: string, kind: string, state: string, days: number, appName: string | null) => ({
    kind, id, app_id: `app_${id}`, app_name: appName, label: `${kind} ${id}`, expires_at: inDays(days), days_left: days,
    state, usage: "in_use", managed: true, fired_thresholds: [], incident_id: null, reconnect_url: null,
  });
  const today = new Date().toISOString().slice(0, 10);
  const dayAfter = (n: number) => new Date(Date.parse(`${today}T00:00:00Z`) + n * day).toISOString().slice(0, 10);

  it("shows the scan's counts and timeline from one page, names apps, and pages the table", async () => {
    const calls = fakeBroker({
      "GET /v1/expiry": (_body, url) =>
        url.includes("cursor=c2")
          ? [200, { evaluated_at: new Date().toISOString(), counts: { ok: 1, warning: 1, expired: 1, reauth_required: 0 }, timeline: [], items: [item("3", "mailbox", "ok", 80, "Later app")], next_cursor: null, failed_notifications: [], discovery_errors: {} }]
          : [
              200,
              {
                evaluated_at: new Date().toISOString(),
                counts: { ok: 1, warning: 1, expired: 1, reauth_required: 0 },
                timeline: [
                  { date: dayAfter(5), counts: { client_secret: 2 } },
                  { date: dayAfter(80), counts: { mailbox: 1, certificate: 1 } },
                ],
                items: [item("1", "client_secret", "expired", -2, "Soon app"), item("2", "certificate", "warning", 5, null)],
                next_cursor: "c2",
                failed_notifications: [],
                discovery_errors: {},
              },
            ],
      "GET /v1/apps/app_2": () => [200, { id: "app_2", name: "Named by its own read", credentials: [] }],
    });
    render(<Dashboard />);
    const table = await screen.findByRole("table", { name: /Everything the broker watches/ });
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.className)).toEqual(["row-expired", "row-warning"]);
    expect(rows[0].textContent).toContain("Soon app");
    expect(rows[0].textContent).not.toContain("app_1");
    await waitFor(() => expect(rows[1].textContent).toContain("Named by its own read"));
    expect(screen.getByText(/In the next 90 days: 2 client secrets, 1 certificate, 1 mailbox expire/)).toBeTruthy();
    // Two days with something on them, the second a stack of two kinds.
    expect(document.querySelectorAll("svg g title")).toHaveLength(2);
    expect(document.querySelectorAll("svg rect")).toHaveLength(3);
    fireEvent.click(screen.getByLabelText(/mailboxes/));
    expect(document.querySelectorAll("svg rect")).toHaveLength(2);
    expect(screen.queryByText(/not available/)).toBeNull();

    fireEvent.click(screen.getByRole("button", { name: "Next" }));
    await waitFor(() => expect(screen.getByText("Page 2")).toBeTruthy());
    expect(await screen.findByText("Later app")).toBeTruthy();
    // Every call was one page: the dashboard never reads the app list nor the whole scan.
    expect(calls.some((c) => c.url.startsWith("/v1/apps?"))).toBe(false);
    expect(calls.filter((c) => c.url.startsWith("/v1/expiry")).every((c) => c.url.includes("limit=50"))).toBe(true);
    fireEvent.click(screen.getByRole("button", { name: "Previous" }));
    await waitFor(() => expect(screen.getByText("Page 1")).toBeTruthy());
    expect(calls.at(-1)!.url).not.toContain("cursor");
  });

  it("says so before the first scan has finished", async () => {
    fakeBroker({
      "GET /v1/expiry": () => [200, { evaluated_at: null, counts: { ok: 0, warning: 0, expired: 0, reauth_required: 0 }, timeline: [], items: [], next_cursor: null, failed_notifications: [], discovery_errors: {} }],
    });
    render(<Dashboard />);
    expect(await screen.findByText(/first expiry scan has not finished/)).toBeTruthy();
  });
});

describe("MailboxesPage", () => {
  const account = (id: string, mailbox: string, status = "active") => ({ id, app_id: "app_1", provider: "microsoft", mailbox, status, last_refresh_at: inDays(-1) });

  it("searches by prefix, filters by app and status on the broker, and pages with next_cursor", async () => {
    const calls = fakeBroker({
      "GET /v1/accounts": (_body, url) =>
        url.includes("cursor=acc_2")
          ? [200, { items: [account("acc_3", "carol@example.com")], next_cursor: null }]
          : url.includes("mailbox=ali")
            ? [200, { items: [account("acc_1", "alice@example.com")], next_cursor: null }]
            : [200, { items: [account("acc_1", "alice@example.com"), account("acc_2", "bob@example.com", "reauth_required")], next_cursor: "acc_2" }],
      "GET /v1/apps": () => [200, { items: [{ id: "app_1", name: "Contoso mail", credentials: [] }, { id: "app_2", name: "Fabrikam", credentials: [] }], next_cursor: null }],
      "GET /v1/apps/app_1": () => [200, { id: "app_1", name: "Contoso mail", credentials: [] }],
    });
    render(<MailboxesPage />);
    const table = await screen.findByRole("table", { name: "Connected mailboxes" });
    expect(within(table).getAllByRole("row")).toHaveLength(3);
    expect(within(table).getByText("owner must reconnect")).toBeTruthy();
    await waitFor(() => expect(within(table).getAllByText("Contoso mail")).toHaveLength(2));
    expect(calls.filter((c) => c.url === "/v1/apps/app_1")).toHaveLength(1);

    fireEvent.click(screen.getByRole("button", { name: "Next" }));
    expect(await screen.findByText("carol@example.com")).toBeTruthy();
    expect(calls.at(-1)!.url).toContain("cursor=acc_2");

    // Typing waits for a pause, then asks the broker for the prefix from the first page.
    fireEvent.change(screen.getByLabelText("Mailbox address starts with"), { target: { value: "ALI" } });
    expect(await screen.findByText("alice@example.com")).toBeTruthy();
    expect(screen.queryByText("carol@example.com")).toBeNull();
    const search = calls.filter((c) => c.url.startsWith("/v1/accounts")).at(-1)!.url;
    expect(search).toContain("mailbox=ali");
    expect(search).not.toContain("cursor");
    expect(calls.filter((c) => c.url.includes("mailbox=a") && !c.url.includes("mailbox=ali"))).toHaveLength(0);

    await waitFor(() => expect(screen.getAllByRole("option", { name: "Fabrikam" })).toHaveLength(2));
    fireEvent.change(screen.getByLabelText("Connected through app"), { target: { value: "app_2" } });
    fireEvent.change(screen.getByLabelText("Status"), { target: { value: "revoked" } });
    await waitFor(() => expect(calls.at(-1)!.url).toContain("status=revoked"));
    expect(calls.at(-1)!.url).toContain("app_id=app_2");
    expect(calls.at(-1)!.url).toContain("mailbox=ali");
    // No call read a whole list.
    expect(calls.every((c) => !c.url.startsWith("/v1/") || c.url.includes("limit=") || /^\/v1\/apps\/app_\d$/.test(c.url))).toBe(true);
  });
});

describe("AppsPage", () => {
  it("pages the apps and filters the page on screen", async () => {
    const app = (id: string, name: string) => ({ id, name, provider: "microsoft", client_id: `cid-${id}`, scopes: [], created_at: inDays(-1), updated_at: inDays(-1), credentials: [] });
    const calls = fakeBroker({
      "GET /v1/apps": (_body, url) =>
        url.includes("cursor=app_2") ? [200, { items: [app("app_3", "Gamma")], next_cursor: null }] : [200, { items: [app("app_1", "Alpha"), app("app_2", "Beta")], next_cursor: "app_2" }],
    });
    render(<AppsPage />);
    expect(await screen.findByText("Alpha")).toBeTruthy();
    fireEvent.change(screen.getByLabelText(/Filter this page/), { target: { value: "bet" } });
    expect(screen.queryByText("Alpha")).toBeNull();
    expect(screen.getByText("Beta")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Next" }));
    fireEvent.change(screen.getByLabelText(/Filter this page/), { target: { value: "" } });
    expect(await screen.findByText("Gamma")).toBeTruthy();
    expect(calls.map((c) => c.url)).toEqual(["/v1/apps?limit=50", "/v1/apps?limit=50&cursor=app_2"]);
  });
});

describe("ClientsPage", () => {
  it("shows a new key once, with a copy button, and never again", async () => {
    const calls = fakeBroker({
      "GET /v1/clients": () => [200, { items: [], next_cursor: null }],
      "POST /v1/clients": (body) => [
        201,
        { id: "cli_new", name: (body as { name: string }).name, role: "client", allowed_apps: [], allowed_accounts: [], key_prefix: "pst_ab", created_at: inDays(0), key: "pst_the_secret_key" },
      ],
    });
    setCsrfToken("csrf-1");
    render(<ClientsPage />);
    await screen.findByText("No API client yet.");
    fireEvent.change(screen.getByLabelText("Name"), { target: { value: "NocoBase" } });
    fireEvent.click(screen.getByRole("button", { name: "Create the client" }));
    const key = (await screen.findByLabelText("New API key")) as HTMLInputElement;
    expect(key.value).toBe("pst_the_secret_key");
    expect(screen.getByRole("button", { name: "Copy the new API key" })).toBeTruthy();
    const post = calls.find((c) => c.method === "POST")!;
    expect(post.headers["X-CSRF-Token"]).toBe("csrf-1");
    fireEvent.click(screen.getByRole("button", { name: "I have stored the key" }));
    expect(screen.queryByLabelText("New API key")).toBeNull();
    expect(document.body.innerHTML).not.toContain("pst_the_secret_key");
  });
});

describe("AuditPage", () => {
  it("filters by action, outcome and time range on the broker and pages with next_cursor", async () => {
    const event = (id: string) => ({ id, at: inDays(0), actor: "cli_admin", action: "app.create", object_type: "app", object_id: "app_1", outcome: "success", details: {} });
    const calls = fakeBroker({
      "GET /v1/audit": (_body, url) => (url.includes("cursor=evt_2") ? [200, { items: [event("evt_3")] }] : [200, { items: [event("evt_1"), event("evt_2")], next_cursor: "evt_2" }]),
    });
    render(<AuditPage />);
    expect(await screen.findAllByText("app.create")).toHaveLength(2);
    fireEvent.click(screen.getByRole("button", { name: "Next" }));
    await waitFor(() => expect(screen.getAllByText("app.create")).toHaveLength(1));
    expect((screen.getByRole("button", { name: "Next" }) as HTMLButtonElement).disabled).toBe(true);

    fireEvent.change(screen.getByLabelText("Action"), { target: { value: "client.revoke" } });
    fireEvent.change(screen.getByLabelText("Outcome"), { target: { value: "denied" } });
    fireEvent.change(screen.getByLabelText("From (your time)"), { target: { value: "2026-11-01T09:30" } });
    fireEvent.click(screen.getByRole("button", { name: "Filter" }));
    await waitFor(() => expect(calls.at(-1)!.url).toContain("action=client.revoke"));
    const url = new URL(calls.at(-1)!.url, "http://x");
    expect(url.searchParams.get("outcome")).toBe("denied");
    expect(url.searchParams.get("from")).toBe(new Date("2026-11-01T09:30").toISOString());
    expect(url.searchParams.has("to")).toBe(false);
    expect(url.searchParams.has("cursor")).toBe(false);
  });

  it("says a short page goes on when the broker stopped searching early", async () => {
    const event = (id: string) => ({ id, at: inDays(0), actor: "cli_admin", action: "app.create", object_type: "app", object_id: "app_1", outcome: "success", details: {} });
    fakeBroker({
      "GET /v1/audit": (_body, url) => (url.includes("cursor=evt_9") ? [200, { items: [event("evt_1")] }] : [200, { items: [], next_cursor: "evt_9" }]),
    });
    render(<AuditPage />);
    expect(await screen.findByText("No match in the part of the log searched so far. Next searches further back.")).toBeTruthy();
    expect(screen.queryByText("No audit entry matches.")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Next" }));
    expect(await screen.findByText("app.create")).toBeTruthy();
    expect(screen.queryByRole("status")).toBeNull();
  });
});

describe("NewAppPage", () => {
  it("guides a Microsoft registration through tenant, client ID, permissions and secret", () => {
    render(<NewAppPage />);
    expect(screen.getByLabelText("Directory (tenant) ID or verified domain")).toBeTruthy();
    expect(screen.getByLabelText("Application (client) ID")).toBeTruthy();
    MICROSOFT_PERMISSIONS.forEach((p) => expect(screen.getByText(p)).toBeTruthy());
    expect(screen.getByText(/Certificates & secrets → Client secrets → New client secret/)).toBeTruthy();
    fireEvent.click(screen.getByLabelText(/Another OAuth2 provider/));
    expect(screen.getByLabelText("Token endpoint")).toBeTruthy();
    expect(screen.queryByLabelText("Directory (tenant) ID or verified domain")).toBeNull();
  });
});
