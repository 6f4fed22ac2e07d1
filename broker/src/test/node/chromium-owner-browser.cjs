// A mailbox owner in Debian's Chromium (through playwright-core): opens a connect link, signs in on
// mock-oauth2-server's page with a user name, and follows the provider back to the broker.
// ChromiumOwnerBrowser runs it with NODE_PATH pointing at admin-ui/node_modules.
//
//   node chromium-owner-browser.cjs LINK_URL USERNAME SPKI_PIN
//
// Prints one JSON object on stdout: the final page's url, status, title and text, every main-frame
// document the browser loaded (method, url, status), the cookies the browser holds for the final
// page (names and attributes, no values) and the requests it blocked because they left 127.0.0.1.
// The `code` parameter is left out of every printed URL. On failure: a message on stderr and exit 1.
// Either way, screenshots of the sign-in page and of the last page go to SCREENSHOT_DIR when set.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const [link, username, spkiPin] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const shots = process.env.SCREENSHOT_DIR;

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

if (!link || !username || !spkiPin) fail("usage: chromium-owner-browser.cjs LINK_URL USERNAME SPKI_PIN");
if (!fs.existsSync(executablePath)) fail(`Chromium is not installed at ${executablePath} (scripts/test installs Debian's chromium)`);
let chromium;
try {
  ({ chromium } = require("playwright-core"));
} catch (error) {
  fail(`playwright-core is missing (NODE_PATH=${process.env.NODE_PATH}); the admin-ui module's npm ci installs it (./mvnw builds that module before the broker): ${error.message}`);
}

// An authorization code is a one-time credential: printed URLs never carry it.
function printable(url) {
  const parsed = new URL(url);
  if (parsed.searchParams.has("code")) parsed.searchParams.set("code", "[redacted]");
  return parsed.toString();
}

(async () => {
  // Only this run's pictures: a screenshot left by an earlier run must not pass for this one.
  if (shots) fs.rmSync(shots, { recursive: true, force: true });
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    // --ignore-certificate-errors-spki-list trusts exactly the identity provider's test key (the
    // base64 SHA-256 of its certificate's SubjectPublicKeyInfo); every other certificate is still
    // validated, unlike --ignore-certificate-errors. Chromium honours it only with a user data
    // directory, which Playwright always passes.
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      `--ignore-certificate-errors-spki-list=${spkiPin}`],
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const documents = [];
  const blocked = [];
  let signInShot = null;
  // Tests touch 127.0.0.1 only: the sign-in page's web font (fonts.googleapis.com) is refused here.
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1") return route.continue();
    blocked.push(url.origin);
    return route.abort("blockedbyclient");
  });
  page.on("response", (response) => {
    const request = response.request();
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
      documents.push({ method: request.method(), url: printable(response.url()), status: response.status() });
    }
  });
  try {
    await page.goto(link, { waitUntil: "domcontentloaded" });
    const user = page.getByPlaceholder("Enter any user/subject");
    await user.waitFor();
    signInShot = await page.screenshot({ fullPage: true });
    await user.fill(username);
    await Promise.all([
      page.waitForURL((url) => url.pathname === "/oauth2/callback", { waitUntil: "load" }),
      page.getByRole("button", { name: "Sign-in" }).click(),
    ]);
    const final = documents[documents.length - 1];
    const cookies = (await context.cookies(page.url())).map((c) =>
      ({ name: c.name, domain: c.domain, path: c.path, httpOnly: c.httpOnly, secure: c.secure, sameSite: c.sameSite }));
    process.stdout.write(JSON.stringify({
      url: printable(page.url()),
      status: final ? final.status : 0,
      title: await page.title(),
      text: await page.locator("body").innerText(),
      documents,
      cookies,
      blocked: [...new Set(blocked)],
    }) + "\n");
  } catch (error) {
    process.stderr.write(`the owner's sign-in in Chromium failed at ${printable(page.url())}: ${error.message}\n`
      + `pages loaded: ${JSON.stringify(documents)}\n`);
    process.exitCode = 1;
  } finally {
    if (shots) {
      fs.mkdirSync(shots, { recursive: true });
      if (signInShot) fs.writeFileSync(path.join(shots, "sign-in.png"), signInShot);
      await page.screenshot({ path: path.join(shots, "last-page.png"), fullPage: true })
        .catch((error) => process.stderr.write(`no screenshot of the last page: ${error.message}\n`));
    }
    await browser.close();
  }
})().catch((error) => fail(`Chromium could not run: ${error.stack || error}`));
