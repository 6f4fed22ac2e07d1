// End-to-end run of the admin web app in Debian's Chromium against a running broker on a real
// OpenBao, with mock-oauth2-server as the mailbox owners' identity provider (scripts/test-ui starts
// them). Needs POSTERN_URL, POSTERN_ADMIN_KEY, IDP_ISSUER_URL and IDP_SPKI_PIN (the provider's
// key, the one certificate Chromium is told to accept); writes the screenshots of docs/admin-ui.md
// to SCREENSHOT_DIR.
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";

const base = process.env.POSTERN_URL ?? assert.fail("POSTERN_URL is not set");
const adminKey = process.env.POSTERN_ADMIN_KEY ?? assert.fail("POSTERN_ADMIN_KEY is not set");
const idpIssuer = process.env.IDP_ISSUER_URL ?? assert.fail("IDP_ISSUER_URL is not set");
const idpPin = process.env.IDP_SPKI_PIN ?? assert.fail("IDP_SPKI_PIN is not set");
const shots = process.env.SCREENSHOT_DIR ?? "screenshots";
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
mkdirSync(shots, { recursive: true });

const day = 24 * 3600 * 1000;
const dateIn = (days) => new Date(Date.now() + days * day).toISOString().slice(0, 10);
const step = (text) => console.log(`[e2e] ${text}`);

// A fresh profile every run: no cookie or cache from an earlier run can make a step pass.
const profile = mkdtempSync(join(tmpdir(), "postern-e2e-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    `--ignore-certificate-errors-spki-list=${idpPin}`],
});
// Everything runs on 127.0.0.1: the provider's sign-in page asks for a web font, which is refused here.
await context.route("**/*", (route) => (new URL(route.request().url()).hostname === "127.0.0.1" ? route.continue() : route.abort("blockedbyclient")));
const page = context.pages()[0] ?? (await context.newPage());
// Generous: on a busy 2-CPU machine, generating a certificate alone has taken over 20 s.
page.setDefaultTimeout(60_000);
const pageErrors = [];
page.on("pageerror", (error) => pageErrors.push(error.message));
// The broker sends a strict Content-Security-Policy: anything the built app does that it blocks is a bug.
page.on("console", (message) => {
  if (/Content[ -]Security[ -]Policy/i.test(message.text())) pageErrors.push(message.text());
});
const nav = (name) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true });
const shot = (name) => page.screenshot({ path: join(shots, name), fullPage: true });
const rows = (table) => table.locator("tbody tr");

/** The v1 API with the admin key, for what the run sets up around the pages it tests. */
async function api(method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${adminKey}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(response.ok, `${method} ${path} answered ${response.status}`);
  return response.status === 204 ? undefined : response.json();
}

/** Waits until `check` holds, reloading the page between tries (the dashboard shows the last scan, every 2 s). */
async function untilAfterReload(check, what) {
  for (let i = 0; i < 40; i++) {
    if (await check()) return;
    await page.waitForTimeout(500);
    await page.reload();
    await page.getByRole("heading", { level: 1 }).waitFor();
  }
  assert.fail(`not seen after 20 s: ${what}`);
}

try {
  step("a wrong key does not sign in");
  await page.goto(`${base}/admin/`);
  await page.getByLabel("Admin API key").waitFor();
  await shot("sign-in.png");
  await page.getByLabel("Admin API key").fill("pst_this_is_not_a_key_xxxxxxxxxxxxxxxxxxxxxxxx");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "The API key is unknown, revoked or expired." }).waitFor();
  assert.equal((await context.cookies()).filter((c) => c.name === "postern_session").length, 0);

  step("sign in with the admin key");
  await page.getByLabel("Admin API key").fill(adminKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Dashboard", level: 1 }).waitFor();
  const session = (await context.cookies()).find((c) => c.name === "postern_session");
  assert.ok(session, "the session cookie is set");
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, "Strict");
  assert.ok(!(await page.content()).includes(adminKey), "the admin key is not on the page");
  assert.equal(await page.evaluate(() => document.cookie.includes("postern_session")), false, "scripts cannot read the cookie");

  step("register a Microsoft app with the guided form");
  await nav("Apps").click();
  await page.getByRole("link", { name: "Register an app" }).click();
  await page.getByLabel("Name in Postern").fill("Contoso mail");
  await page.getByLabel("Directory (tenant) ID or verified domain").fill("contoso.onmicrosoft.com");
  await page.getByLabel("Application (client) ID").fill("11111111-2222-3333-4444-555555555555");
  await page.getByText("IMAP.AccessAsUser.All").waitFor();
  await page.getByRole("button", { name: "Register the app" }).click();
  await page.getByRole("heading", { name: "Contoso mail", level: 1 }).waitFor();

  step("add the first client secret and promote it (force: no identity provider is reachable)");
  const firstSecret = `first-secret-${Date.now()}`;
  await page.getByLabel("Secret value").fill(firstSecret);
  await page.getByLabel("Expires on (UTC)").fill(dateIn(20));
  await page.getByLabel("Description (optional)").fill("first");
  await page.getByRole("button", { name: "Add the secret" }).click();
  await page.getByRole("button", { name: /^Promote Client secret “first”/ }).click();
  await page.getByLabel("Promote without an accepted verification").check();
  await page.getByLabel("Reason").fill("e2e: no identity provider in the test");
  await page.getByRole("form", { name: /^Promote / }).getByRole("button", { name: "Promote" }).click();
  await page.locator(".state.active").first().waitFor();
  assert.ok(!(await page.content()).includes(firstSecret), "the secret is not on the page after it was added");

  step("rotate: add, verify step, promote with force, delete the old one");
  await page.getByRole("link", { name: "Rotate the credential" }).click();
  await page.getByRole("heading", { name: /^Rotate the credential/ }).waitFor();
  await page.getByLabel("Secret value").fill(`second-secret-${Date.now()}`);
  await page.getByLabel("Expires on (UTC)").fill(dateIn(400));
  await page.getByLabel("Description (optional)").fill("second");
  await page.getByRole("button", { name: "Add the secret" }).click();
  await page.getByRole("heading", { name: "Verify the new secret" }).waitFor();
  await page.getByRole("button", { name: "Continue to promotion" }).click();
  await page.getByLabel("Promote without an accepted verification").check();
  await page.getByLabel("Reason").fill("e2e rotation");
  await page.getByRole("button", { name: "Promote" }).click();
  await page.getByRole("button", { name: "Delete the old secret" }).click();
  await page.getByRole("heading", { name: "Rotation done" }).waitFor();
  await page.getByRole("link", { name: "Back to the app" }).click();
  await page.getByRole("heading", { name: "Contoso mail", level: 1 }).waitFor();
  await page.getByText("Client secret “second”").waitFor();
  assert.equal(await page.getByText("Client secret “first”").count(), 0, "the old secret is gone");

  step("a secret that expires soon shows on the dashboard");
  await page.getByLabel("Secret value").fill(`third-secret-${Date.now()}`);
  await page.getByLabel("Expires on (UTC)").fill(dateIn(12));
  await page.getByLabel("Description (optional)").fill("spare");
  await page.getByRole("button", { name: "Add the secret" }).click();
  await page.getByText("Client secret “spare”").waitFor();
  await page.getByRole("button", { name: "Generate" }).click();
  await page.getByRole("button", { name: "Download the PEM" }).waitFor();
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download the PEM" }).click()]);
  assert.match(download.suggestedFilename(), /^postern-.*\.pem$/);
  await shot("app-detail.png");
  await nav("Apps").click();
  await page.getByRole("link", { name: "Contoso mail" }).waitFor();
  await shot("apps.png");
  await nav("Dashboard").click();
  const soon = page.locator("tr.row-warning").filter({ hasText: "Contoso mail" }).filter({ hasText: "spare" });
  await untilAfterReload(async () => (await soon.count()) === 1, "the new secret on the dashboard");
  assert.match(await soon.textContent(), /Expires soon/);
  // The app's name, never its id.
  assert.doesNotMatch(await page.getByRole("table", { name: /Everything the broker watches/ }).textContent(), /app_[a-z0-9]{8,}/);
  assert.ok(Number(await page.locator(".stat.warning .number").textContent()) >= 1, "the counts include the secret");
  // The timeline: the secret in 12 days is a bar; the one in 400 days is beyond the horizon.
  await page.getByText(/In the next 90 days: 1 client secret/).waitFor();
  assert.equal(await page.locator(".timeline svg g rect.kind-client_secret").count(), 1);
  assert.equal(await page.getByText(/not available/).count(), 0);
  await shot("dashboard.png");

  step("create an API client: the key is shown once");
  await nav("API clients").click();
  await page.getByLabel("Name", { exact: true }).fill("NocoBase e2e");
  await page.getByLabel("Role", { exact: true }).selectOption("client");
  await page.getByRole("button", { name: "Create the client" }).click();
  const key = await page.getByRole("textbox", { name: "New API key" }).inputValue();
  assert.match(key, /^pst_/);
  await page.getByRole("button", { name: "Copy the new API key" }).waitFor();
  await page.getByRole("button", { name: "I have stored the key" }).click();
  assert.ok(!(await page.content()).includes(key), "the key is gone once dismissed");
  await page.getByRole("cell", { name: /^NocoBase e2e/ }).waitFor();
  await page.getByRole("button", { name: "Revoke NocoBase e2e" }).click();
  await page.getByRole("button", { name: "Revoke now" }).click();
  await page.getByRole("cell", { name: /^revoked/ }).waitFor();
  await shot("clients.png");
  await page.reload();
  await page.getByRole("cell", { name: /^NocoBase e2e/ }).waitFor();
  assert.ok(!(await page.content()).includes(key), "the key is not shown again");

  step("audit log: filter by action");
  await nav("Audit log").click();
  await page.getByRole("cell", { name: "app.create" }).first().waitFor();
  await page.getByLabel("Action").fill("credential.promote");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForFunction(() => [...document.querySelectorAll("tbody tr")].every((r) => r.textContent.includes("credential.promote")));
  await page.getByLabel("Action").fill("");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.getByRole("cell", { name: "app.create" }).first().waitFor();
  await shot("audit.png");

  step("mailboxes: connect three through the identity provider with links made on the page");
  const idpApp = await api("POST", "/v1/apps", {
    name: "Fabrikam (mock IdP)", provider: "generic", client_id: "postern-e2e.client",
    authorize_endpoint: `${idpIssuer}/authorize`, token_endpoint: `${idpIssuer}/token`, scopes: ["openid", "email", "mail", "offline_access"],
  });
  const idpSecret = await api("POST", `/v1/apps/${idpApp.id}/credentials`, { type: "client_secret", value: `idp-secret-${Date.now()}`, expires_at: new Date(Date.now() + 60 * day).toISOString() });
  await api("POST", `/v1/apps/${idpApp.id}/credentials/${idpSecret.credential.id}/promote`, { force: true, reason: "e2e: the mock accepts any secret" });
  const owners = ["anna@fabrikam.test", "anton@fabrikam.test", "bob@fabrikam.test"];
  await nav("Mailboxes").click();
  await page.getByRole("heading", { name: "Connected mailboxes" }).waitFor();
  await page.getByText("No mailbox is connected yet.").waitFor();
  const links = [];
  for (const owner of owners) {
    await page.getByRole("combobox", { name: "App", exact: true }).selectOption({ label: "Fabrikam (mock IdP)" });
    await page.getByLabel("Mailbox address (optional login hint)").fill(owner);
    await page.getByRole("button", { name: "Create a connect link" }).click();
    // The link is shown for the owner named last: wait for it, not for the previous one.
    const shown = page.locator("#connect-url");
    await page.waitForFunction((previous) => {
      const input = document.querySelector("#connect-url");
      return input && input.value && !previous.includes(input.value);
    }, links);
    const link = await shown.inputValue();
    links.push(link);
    const owner_page = await context.newPage();
    await owner_page.goto(link);
    await owner_page.getByPlaceholder("Enter any user/subject").fill(owner);
    await owner_page.getByRole("button", { name: "Sign-in" }).click();
    await owner_page.getByText(`Connected as ${owner}`).waitFor();
    await owner_page.close();
  }
  await page.reload();
  const mailboxes = page.getByRole("table", { name: "Connected mailboxes" });
  await mailboxes.getByRole("link", { name: "bob@fabrikam.test" }).waitFor();
  assert.equal(await rows(mailboxes).count(), 3);
  // The app's name in each row (read after the rows, one app read for the three).
  await page.waitForFunction(() => [...document.querySelectorAll("table tbody tr")].filter((r) => r.textContent.includes("Fabrikam (mock IdP)")).length === 3);
  await shot("mailboxes.png");

  step("mailboxes: search by prefix, filter by status and app, open one");
  await page.getByLabel("Mailbox address starts with").fill("AN");
  await page.waitForFunction(() => document.querySelectorAll("table tbody tr").length === 2);
  assert.equal(await mailboxes.getByRole("link", { name: "bob@fabrikam.test" }).count(), 0);
  await page.getByLabel("Mailbox address starts with").fill("anna@");
  await page.waitForFunction(() => document.querySelectorAll("table tbody tr").length === 1);
  await page.getByLabel("Status").selectOption("revoked");
  await page.getByText("No mailbox matches.").waitFor();
  await page.getByLabel("Status").selectOption("active");
  await page.getByLabel("Connected through app").selectOption({ label: "Contoso mail" });
  await page.getByText("No mailbox matches.").waitFor();
  await page.getByLabel("Connected through app").selectOption({ label: "Fabrikam (mock IdP)" });
  await mailboxes.getByRole("link", { name: "anna@fabrikam.test" }).click();
  await page.getByRole("heading", { name: "anna@fabrikam.test", level: 1 }).waitFor();
  await page.getByRole("link", { name: "Fabrikam (mock IdP)" }).waitFor();

  step("apps and audit page through the broker's lists");
  for (let i = 0; i < 55; i++) await api("POST", "/v1/apps", { name: `Paging e2e ${String(i).padStart(2, "0")}`, provider: "microsoft", tenant: "contoso.onmicrosoft.com", client_id: "11111111-2222-3333-4444-555555555555" });
  await nav("Apps").click();
  const apps = page.locator("table");
  await page.getByText("Page 1").waitFor();
  assert.equal(await rows(apps).count(), 50, "one page of 50 apps");
  const firstPage = await rows(apps).allTextContents();
  // The page number changes at once; the rows when the broker has answered.
  const firstRowIs = (text, same) =>
    page.waitForFunction(([t, s]) => (document.querySelector("tbody tr")?.textContent === t) === s, [text, same]);
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByText("Page 2").waitFor();
  await firstRowIs(firstPage[0], false);
  const secondPage = await rows(apps).allTextContents();
  assert.equal(secondPage.length, 57 - 50, "the rest of the 57 apps");
  assert.ok(secondPage.every((row) => !firstPage.includes(row)), "no app on both pages");
  assert.equal(await page.getByRole("button", { name: "Next" }).isDisabled(), true);
  await page.getByRole("button", { name: "Previous" }).click();
  await page.getByText("Page 1").waitFor();
  await firstRowIs(firstPage[0], true);
  assert.deepEqual(await rows(apps).allTextContents(), firstPage);
  await nav("Audit log").click();
  await page.getByLabel("Action").fill("app.create");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.getByText("Page 1").waitFor();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByText("Page 2").waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll("tbody tr")].every((r) => r.textContent.includes("app.create")));
  await page.getByLabel("From (your time)").fill(new Date(Date.now() + 3600_000 - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16));
  await page.getByRole("button", { name: "Filter" }).click();
  await page.getByText("No audit entry matches.").waitFor();

  step("the app works at phone width");
  await page.setViewportSize({ width: 390, height: 844 });
  await nav("Dashboard").click();
  await page.getByRole("heading", { name: "Dashboard", level: 1 }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `no sideways scrolling at 390 px (overflow ${overflow} px)`);
  await shot("dashboard-phone.png");
  await page.setViewportSize({ width: 1280, height: 800 });

  step("sign out");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByText("You are signed out.").waitFor();
  const status = await page.evaluate(async () => (await fetch("/v1/apps")).status);
  assert.equal(status, 401, "the old cookie no longer works");

  assert.deepEqual(pageErrors, [], "no uncaught errors in the page");
  step("all steps passed");
} catch (error) {
  const failureShot = join(tmpdir(), "postern-e2e-failure.png");
  await page.screenshot({ path: failureShot, fullPage: true }).then(() => console.error(`[e2e] screenshot of the failure: ${failureShot}`)).catch(() => {});
  // Playwright's messages quote elements with their values: keep keys and secrets out of the log.
  const message = String(error.stack ?? error)
    .replaceAll(adminKey, "(admin key)")
    .replace(/pst_[A-Za-z0-9_-]+/g, "pst_(redacted)")
    .replace(/(first|second|third)-secret-\d+/g, "(secret)");
  console.error(`[e2e] FAILED at ${page.url()}: ${message}`);
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
