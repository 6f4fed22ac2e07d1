// End-to-end run of the admin web app in Debian's Chromium against a running broker on a real
// OpenBao (scripts/test-ui starts both). Needs POSTERN_URL and POSTERN_ADMIN_KEY; writes the
// screenshots of docs/admin-ui.md to SCREENSHOT_DIR.
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";

const base = process.env.POSTERN_URL ?? assert.fail("POSTERN_URL is not set");
const adminKey = process.env.POSTERN_ADMIN_KEY ?? assert.fail("POSTERN_ADMIN_KEY is not set");
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
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const page = context.pages()[0] ?? (await context.newPage());
page.setDefaultTimeout(20_000);
const pageErrors = [];
page.on("pageerror", (error) => pageErrors.push(error.message));
// The broker sends a strict Content-Security-Policy: anything the built app does that it blocks is a bug.
page.on("console", (message) => {
  if (/Content[ -]Security[ -]Policy/i.test(message.text())) pageErrors.push(message.text());
});
const nav = (name) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true });
const shot = (name) => page.screenshot({ path: join(shots, name), fullPage: true });

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
  await soon.waitFor();
  assert.match(await soon.textContent(), /Expires soon/);
  await shot("dashboard.png");

  step("create an API client: the key is shown once");
  await nav("API clients").click();
  await page.getByLabel("Name").fill("NocoBase e2e");
  await page.getByLabel("Role").selectOption("client");
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

  step("mailboxes: empty state or list; a connect link or its problem");
  await nav("Mailboxes").click();
  await page.getByRole("heading", { name: "Connected mailboxes" }).waitFor();
  await page.getByRole("button", { name: "Create a connect link" }).click();
  await page.locator("#connect-url, .problem").first().waitFor();

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
