import { afterEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { fakeBroker } from "../test-fetch";
import { setCsrfToken } from "../api";
import { SignIn } from "./SignIn";
import { Dashboard } from "./Dashboard";
import { ClientsPage } from "./Clients";
import { AuditPage } from "./Audit";
import { NewAppPage, MICROSOFT_PERMISSIONS } from "./NewApp";

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
  it("lists credentials soonest first, coloured by state, and copes without GET /v1/expiry", async () => {
    fakeBroker({
      "GET /v1/apps": () => [
        200,
        { items: [
          {
            id: "app_a", name: "Later app", provider: "microsoft", client_id: "x", scopes: [], created_at: inDays(-1), updated_at: inDays(-1),
            credentials: [{ id: "cred_1", type: "client_secret", state: "active", created_at: inDays(-1), expires_at: inDays(200) }],
          },
          {
            id: "app_b", name: "Soon app", provider: "google", client_id: "y", scopes: [], created_at: inDays(-1), updated_at: inDays(-1),
            credentials: [
              { id: "cred_2", type: "client_secret", state: "active", created_at: inDays(-1), expires_at: inDays(5) },
              { id: "cred_3", type: "client_secret", state: "retired", created_at: inDays(-90), expires_at: inDays(-2) },
            ],
          },
        ], next_cursor: null },
      ],
    });
    render(<Dashboard />);
    const table = await screen.findByRole("table");
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.className)).toEqual(["row-expired", "row-warning", "row-ok"]);
    expect(rows[1].textContent).toContain("Soon app");
    expect(await screen.findByText(/not available on this broker yet/)).toBeTruthy();
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
  it("filters and pages with next_cursor", async () => {
    const event = (id: string) => ({ id, at: inDays(0), actor: "cli_admin", action: "app.create", object_type: "app", object_id: "app_1", outcome: "success", details: {} });
    const calls = fakeBroker({
      "GET /v1/audit": (_body, url) => (url.includes("cursor=evt_2") ? [200, { items: [event("evt_3")] }] : [200, { items: [event("evt_1"), event("evt_2")], next_cursor: "evt_2" }]),
    });
    render(<AuditPage />);
    expect(await screen.findAllByText("app.create")).toHaveLength(2);
    fireEvent.click(screen.getByRole("button", { name: "Load older entries" }));
    await waitFor(() => expect(screen.getAllByText("app.create")).toHaveLength(3));
    expect(screen.queryByRole("button", { name: "Load older entries" })).toBeNull();

    fireEvent.change(screen.getByLabelText("Action"), { target: { value: "client.revoke" } });
    fireEvent.change(screen.getByLabelText("Outcome"), { target: { value: "denied" } });
    fireEvent.click(screen.getByRole("button", { name: "Filter" }));
    await waitFor(() => expect(calls.at(-1)!.url).toContain("action=client.revoke"));
    expect(calls.at(-1)!.url).toContain("outcome=denied");
    expect(calls.at(-1)!.url).not.toContain("cursor");
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
