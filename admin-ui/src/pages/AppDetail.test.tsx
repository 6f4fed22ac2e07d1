import { afterEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { fakeBroker } from "../test-fetch";
import { AppDetailPage } from "./AppDetail";

afterEach(() => vi.unstubAllGlobals());

const inDays = (n: number) => new Date(Date.now() + n * 24 * 3600 * 1000).toISOString();

function app(verification?: { at: string; accepted: boolean }) {
  return {
    id: "app_1", name: "Contoso mail", provider: "microsoft", tenant: "contoso.onmicrosoft.com", client_id: "x", scopes: [],
    created_at: inDays(-1), updated_at: inDays(-1), active_credential_id: "cred_old",
    credentials: [
      { id: "cred_old", type: "client_secret", state: "active", description: "old", created_at: inDays(-300), expires_at: inDays(20) },
      { id: "cred_new", type: "client_secret", state: "pending", description: "new", created_at: inDays(0), expires_at: inDays(700), verification },
    ],
  };
}

describe("AppDetailPage", () => {
  it("promotes an unverified credential only with force and a reason", async () => {
    const calls = fakeBroker({
      "GET /v1/apps/app_1": () => [200, app()],
      "POST /v1/apps/app_1/credentials/cred_new/promote": () => [200, app()],
    });
    render(<AppDetailPage appId="app_1" rotate={false} />);
    fireEvent.click(await screen.findByRole("button", { name: "Promote Client secret “new” cred_new" }));
    const submit = screen.getByRole("button", { name: "Promote" }) as HTMLButtonElement;
    expect(submit.disabled).toBe(true);
    fireEvent.click(screen.getByLabelText("Promote without an accepted verification"));
    expect(submit.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText("Reason"), { target: { value: "IdP down, secret checked by hand" } });
    expect(submit.disabled).toBe(false);
    fireEvent.click(submit);
    await waitFor(() => expect(calls.some((c) => c.url.endsWith("/promote"))).toBe(true));
    expect(calls.find((c) => c.url.endsWith("/promote"))!.body).toEqual({ force: true, reason: "IdP down, secret checked by hand" });
    // The active credential can be neither promoted nor deleted.
    expect(screen.queryByRole("button", { name: /Delete Client secret “old”/ })).toBeNull();
  });

  it("promotes a verified credential without force", async () => {
    const calls = fakeBroker({
      "GET /v1/apps/app_1": () => [200, app({ at: inDays(0), accepted: true })],
      "POST /v1/apps/app_1/credentials/cred_new/promote": () => [200, app()],
    });
    render(<AppDetailPage appId="app_1" rotate={false} />);
    fireEvent.click(await screen.findByRole("button", { name: "Promote Client secret “new” cred_new" }));
    expect(screen.queryByLabelText("Reason")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Promote" }));
    await waitFor(() => expect(calls.find((c) => c.url.endsWith("/promote"))?.body).toEqual({}));
  });

  it("shows a conflict from the broker in plain words", async () => {
    fakeBroker({
      "GET /v1/apps/app_1": () => [200, app()],
      "DELETE /v1/apps/app_1/credentials/cred_new": () => [409, { title: "Conflict", status: 409, detail: "The credential is in use.", request_id: "req_9" }],
    });
    render(<AppDetailPage appId="app_1" rotate={false} />);
    fireEvent.click(await screen.findByRole("button", { name: "Delete Client secret “new” cred_new" }));
    fireEvent.click(screen.getByRole("button", { name: "Delete for good" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Conflict");
    expect(alert.textContent).toContain("The credential is in use.");
    expect(alert.textContent).toContain("req_9");
  });
});
