import { afterEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { fakeBroker } from "../test-fetch";
import { MailProxyAccess } from "./MailProxyAccess";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const base = "/v1/accounts/acc_1";

function open() {
  render(<MailProxyAccess accountId="acc_1" mailbox="alice@example.com" />);
  const details = screen.getByText("Mail proxy").closest("details") as HTMLDetailsElement;
  details.open = true;
  fireEvent(details, new Event("toggle"));
}

describe("MailProxyAccess", () => {
  it("loads nothing until opened, then shows the open sessions and the app passwords without secrets", async () => {
    const calls = fakeBroker({
      [`GET ${base}/mail-sessions`]: () => [200, { account_id: "acc_1", mail_proxy_enabled: true, open_sessions: 3, max_sessions: 20 }],
      [`GET ${base}/app-passwords`]: () => [200, { items: [{ id: "apw_1", account_id: "acc_1", name: "printer", created_at: "2026-01-01T00:00:00Z" }] }],
    });
    render(<MailProxyAccess accountId="acc_1" mailbox="alice@example.com" />);
    expect(calls).toHaveLength(0);
    const details = screen.getByText("Mail proxy").closest("details") as HTMLDetailsElement;
    details.open = true;
    fireEvent(details, new Event("toggle"));
    expect(await screen.findByText("Open sessions: 3 of at most 20")).toBeTruthy();
    expect(await screen.findByText("printer")).toBeTruthy();
    expect(screen.getByText("never")).toBeTruthy();
  });

  it("shows a new app password once and lists it; revoking deletes it and forgets the shown password", async () => {
    let items: unknown[] = [];
    const calls = fakeBroker({
      [`GET ${base}/mail-sessions`]: () => [200, { account_id: "acc_1", mail_proxy_enabled: false, open_sessions: 0 }],
      [`GET ${base}/app-passwords`]: () => [200, { items }],
      [`POST ${base}/app-passwords`]: (body) => {
        items = [{ id: "apw_new", account_id: "acc_1", name: (body as { name: string }).name, created_at: "2026-01-01T00:00:00Z" }];
        return [201, { ...(items[0] as object), password: "ppw_secret_once" }];
      },
      [`DELETE ${base}/app-passwords/apw_new`]: () => {
        items = [];
        return [204];
      },
    });
    vi.spyOn(window, "confirm").mockReturnValue(true);
    open();
    expect(await screen.findByText("The mail proxy is off on this broker.")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Name (optional)"), { target: { value: "scanner" } });
    fireEvent.click(screen.getByRole("button", { name: "Create an app password" }));
    const shown = (await screen.findByLabelText(/shown this once/)) as HTMLInputElement;
    expect(shown.value).toBe("ppw_secret_once");
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ name: "scanner" });
    expect(await screen.findByText("scanner")).toBeTruthy();

    fireEvent.click(screen.getByRole("button", { name: "Revoke scanner" }));
    await waitFor(() => expect(calls.some((c) => c.method === "DELETE" && c.url.endsWith("/app-passwords/apw_new"))).toBe(true));
    expect(await screen.findByText("No app password yet.")).toBeTruthy();
    expect(screen.queryByLabelText(/shown this once/)).toBeNull();
  });

  it("shows the broker's problem when creating fails", async () => {
    fakeBroker({
      [`GET ${base}/mail-sessions`]: () => [200, { account_id: "acc_1", mail_proxy_enabled: true, open_sessions: 0, max_sessions: 20 }],
      [`GET ${base}/app-passwords`]: () => [200, { items: [] }],
      [`POST ${base}/app-passwords`]: () => [409, { title: "Conflict", status: 409, detail: "This mailbox has 20 app passwords, the most it may have." }],
    });
    open();
    await screen.findByText("No app password yet.");
    fireEvent.click(screen.getByRole("button", { name: "Create an app password" }));
    expect((await screen.findByRole("alert")).textContent).toContain("20 app passwords");
    expect(screen.queryByLabelText(/shown this once/)).toBeNull();
  });
});
