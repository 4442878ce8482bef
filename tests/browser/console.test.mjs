// The operator console in a real browser: headless Debian chromium driven by
// playwright-core, against the httpd + PostgreSQL of the integration run
// (MV_TEST_URL, MV_TEST_ADMIN_KEY).  The steps run in order on one page, as
// an operator would: sign in, make root codes, watch sign-ups and scans
// arrive on the dashboard, open an invite tree, make a batch, download its
// CSV, void it.  Any console error, uncaught exception or CSP violation on
// the page fails the run.  Screenshots of every page, at 1280 px and 390 px
// wide, go to MV_SCREENSHOTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(join(process.env.MV_BROWSER_MODULES, 'package.json'));
const { chromium } = require('playwright-core');

const BASE = process.env.MV_TEST_URL;
const ADMIN_KEY = process.env.MV_TEST_ADMIN_KEY;
const SHOTS = process.env.MV_SCREENSHOTS;
const CONSOLE = `${BASE}/console/`;
const RUN = Date.now().toString(36); // keeps this run's e-mails unique
const WAIT = 15000;                  // generous: the machine is shared

let context, page, profile;
const problems = [];          // console errors, page errors, CSP violations
let expectedProblem = null;   // a RegExp for the one error a step provokes

// ---- the API, spoken directly (as the apps of the users would) ----------

async function call(method, path, { body, token, admin } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  if (admin) headers['X-Admin-Key'] = ADMIN_KEY;
  const response = await fetch(`${BASE}${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* CSV or empty */ }
  return { status: response.status, json, text };
}

async function registerWithEmail(email, inviteCode) {
  const r = await call('POST', '/auth/register-with-email',
    { body: { email, password: 'correct horse battery', inviteCode } });
  assert.equal(r.status, 200, `register ${email}: ${r.text}`);
  return r.json;
}

async function signUpWithPhone(phone, inviteCode) {
  const otp = await call('POST', '/auth/otp', { body: { phone } });
  assert.equal(otp.status, 200, otp.text);
  const r = await call('POST', '/auth/verify', { body: { phone, otp: otp.json.otp, inviteCode } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.created, true);
  return r.json;
}

async function scan(token, coupon) {
  return call('POST', '/scan', { token, body: { token: coupon } });
}

// ---- the page ------------------------------------------------------------

function problem(text) {
  if (expectedProblem && expectedProblem.test(text)) return;
  problems.push(text);
}

function assertNoProblems() {
  assert.deepEqual(problems.splice(0), [], 'the page reported errors');
}

async function shot(name) {
  for (const [suffix, width, height] of [['desktop', 1280, 900], ['390', 390, 844]]) {
    await page.setViewportSize({ width, height });
    await page.waitForTimeout(150); // charts resize on the next frame
    await page.screenshot({ path: join(SHOTS, `${name}-${suffix}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function goto(hash, heading) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: WAIT });
  await page.locator('#view[aria-busy]').waitFor({ state: 'detached', timeout: WAIT });
}

async function figure(name) {
  const text = await page.locator(`[data-figure="${name}"]`).textContent();
  return Number(text.replace(/[^0-9.]/g, ''));
}

async function refreshDashboard() {
  const done = page.waitForResponse((r) => r.url().includes('/admin/analytics'));
  await page.getByRole('button', { name: 'Refresh' }).click();
  assert.equal((await done).status(), 200);
  await page.locator('[data-figure="signups"]').waitFor({ timeout: WAIT });
}

// The CSV of a batch, downloaded through the console's button.
async function downloadCsv(batchId) {
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: WAIT }),
    page.getByRole('button', { name: `CSV batch ${batchId}`, exact: true }).click(),
  ]);
  const path = join(SHOTS, `batch-${batchId}.csv`);
  await download.saveAs(path);
  const [header, ...rows] = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  const columns = header.split(',');
  return rows.map((line) => Object.fromEntries(line.split(',').map((v, i) => [columns[i], v])));
}

before(async () => {
  assert.ok(BASE && ADMIN_KEY, 'MV_TEST_URL and MV_TEST_ADMIN_KEY come from tests/integration/run.sh');
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  profile = mkdtempSync(join(tmpdir(), 'mv-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.on('console', (m) => { if (m.type() === 'error') problem(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problem(`page error: ${e.message}`));
  page.on('dialog', (d) => d.accept());
  await page.exposeBinding('reportCspViolation', (_source, text) => problem(`CSP: ${text}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.reportCspViolation(`${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
});

after(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test('the console is served by httpd with a strict CSP and no inline code', async () => {
  const response = await fetch(CONSOLE);
  assert.equal(response.status, 200);
  const csp = response.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /style-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const html = await response.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
  assert.doesNotMatch(html, /<style|style=/, 'no inline style');
  const chart = await fetch(`${CONSOLE}lib/chart.js/chart.esm.js`);
  assert.equal(chart.status, 200, "Debian's Chart.js through the Alias");
  assert.match(chart.headers.get('content-type'), /javascript/);
});

test('a wrong admin key shows a clear message, not a blank page', async () => {
  await page.goto(CONSOLE);
  await page.getByLabel('Admin key').fill(`wrong-${RUN}-key-that-is-long`);
  expectedProblem = /status of 403/; // the browser logs the refused request itself
  await page.getByRole('button', { name: 'Sign in' }).click();
  const message = page.locator('#sign-in-error');
  await message.waitFor({ state: 'visible' });
  assert.match(await message.textContent(), /admin key was refused/i);
  expectedProblem = null;
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused key is not kept');
  await shot('sign-in-wrong-key');
  assertNoProblems();
});

test('signing in keeps the key in sessionStorage only and shows the dashboard', async () => {
  await page.getByLabel('Admin key').fill(ADMIN_KEY);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('mocaverse.adminKey')), ADMIN_KEY);
  assert.ok(!page.url().includes(ADMIN_KEY), 'the key is not in the URL');
  assert.deepEqual(await context.cookies(), [], 'no cookie');
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  // The charts are drawn (Chart.js from the Debian package, under the CSP).
  assert.equal(await page.locator('canvas').count(), 2);
  assertNoProblems();
});

const state = {};

test('root codes made in the console are listed, disabled and edited', async () => {
  await goto('#/invites', 'Invite codes');
  await page.getByLabel('How many codes').fill('3');
  await page.getByLabel('Uses per code').fill('5');
  await page.getByRole('button', { name: 'Create root codes' }).click();
  await page.getByText('Created 3 root codes.').waitFor();
  state.codes = await page.locator('.created-codes code').allTextContents();
  assert.equal(state.codes.length, 3);

  // Each new code is in the list (searched by its code), as a root code.
  for (const code of state.codes) {
    await page.getByLabel('Code', { exact: true }).fill(code);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('#invite-list code', { hasText: code }).waitFor();
  }
  const row = page.locator('#invite-list tbody tr').first();
  assert.match(await row.textContent(), /root/);
  assert.match(await row.textContent(), /active/);

  // Disable the third code: the API then refuses it for sign-up.
  const third = state.codes[2];
  await page.getByLabel('Code', { exact: true }).fill(third);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('button', { name: `Disable ${third}` }).click();
  await page.getByRole('button', { name: `Enable ${third}` }).waitFor();
  const refused = await call('POST', '/auth/register-with-email',
    { body: { email: `refused-${RUN}@example.com`, password: 'correct horse battery', inviteCode: third } });
  assert.equal(refused.status, 400);
  assert.equal(refused.json.code, 'invalid_invite_code');

  // Edit the second code: 2 uses left.
  const second = state.codes[1];
  await page.getByLabel('Code', { exact: true }).fill(second);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('button', { name: `Edit ${second}` }).click();
  const editor = page.locator('form.inline-edit:not([hidden])');
  await editor.getByLabel('Remaining uses').fill('2');
  await editor.getByRole('button', { name: 'Save' }).click();
  await page.locator('#invite-list td[data-label="Remaining"]', { hasText: /^2$/ }).waitFor();

  await page.getByLabel('Code', { exact: true }).fill('');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('#invite-list tbody tr').first().waitFor();
  await shot('invites');
  assertNoProblems();
});

test('a batch made in the console, its CSV, sign-ups and scans change the dashboard', async () => {
  await goto('#/dashboard', 'Dashboard');
  const before = { signups: await figure('signups'), scans: await figure('scans'), points: await figure('points') };

  await goto('#/batches', 'Coupon batches');
  await page.getByLabel('Name').fill(`Browser ${RUN}`);
  await page.getByLabel('Points per coupon').fill('30');
  await page.getByLabel('Number of coupons').fill('5');
  await page.getByRole('button', { name: 'Create batch' }).click();
  const created = await page.getByText(/Created batch #\d+ with 5 coupons/).textContent();
  state.batchId = Number(/#(\d+)/.exec(created)[1]);

  const rows = await downloadCsv(state.batchId);
  assert.equal(rows.length, 5, 'one row per coupon');
  for (const row of rows) assert.match(row.token, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  state.tokens = rows.map((r) => r.token);

  // Users arrive through the API: ann and bob with the first root code,
  // cy invited by ann, and a phone user through a one-time code.
  const [first] = state.codes;
  state.ann = await registerWithEmail(`ann-${RUN}@example.com`, first);
  state.bob = await registerWithEmail(`bob-${RUN}@example.com`, first);
  state.cy = await registerWithEmail(`cy-${RUN}@example.com`, state.ann.user.inviteCode.code);
  state.phone = await signUpWithPhone(`+49151${String(Date.now()).slice(-7)}`, first);
  for (const [user, coupon] of [[state.ann, state.tokens[0]], [state.cy, state.tokens[1]]]) {
    const r = await scan(user.accessToken, coupon);
    assert.equal(r.status, 200, r.text);
  }

  await goto('#/dashboard', 'Dashboard');
  await refreshDashboard();
  assert.equal(await figure('signups'), before.signups + 4);
  assert.equal(await figure('scans'), before.scans + 2);
  assert.equal(await figure('points'), before.points + 60);
  await shot('dashboard');

  await goto('#/batches', 'Coupon batches');
  assert.equal(await page.locator(`[data-batch-redeemed="${state.batchId}"]`).textContent(), '2 / 5');
  const after = await downloadCsv(state.batchId);
  const redeemed = after.filter((r) => r.redeemedAt);
  assert.deepEqual(redeemed.map((r) => r.token).sort(), state.tokens.slice(0, 2).sort());
  assertNoProblems();
});

test("a user's invite tree, disable and revoke sessions", async () => {
  await goto('#/users', 'Users');
  await page.getByLabel('E-mail, phone or id').fill(`ann-${RUN}@`);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: `ann-${RUN}@example.com` }).click();
  await page.getByRole('heading', { level: 1, name: new RegExp(`ann-${RUN}@example.com`) }).waitFor();
  const tree = page.getByRole('list', { name: /Invite tree of/ });
  await tree.getByRole('link', { name: `cy-${RUN}@example.com` }).waitFor();
  await shot('user-tree');

  // cy's chain goes back through ann to the root code.
  await tree.getByRole('link', { name: `cy-${RUN}@example.com` }).click();
  await page.getByRole('heading', { level: 1, name: new RegExp(`cy-${RUN}@example.com`) }).waitFor();
  await page.getByRole('list', { name: 'Invite chain from the root' })
    .getByRole('link', { name: `ann-${RUN}@example.com` }).waitFor();

  // Disabling cy refuses cy's access token at once; enabling lets cy log in again.
  assert.equal((await call('GET', '/me', { token: state.cy.accessToken })).status, 200);
  await page.getByRole('button', { name: 'Disable user' }).click();
  await page.getByRole('button', { name: 'Enable user' }).waitFor();
  assert.equal((await call('GET', '/me', { token: state.cy.accessToken })).status, 401);
  await page.getByRole('button', { name: 'Enable user' }).click();
  await page.getByRole('button', { name: 'Disable user' }).waitFor();

  // Revoking bob's sessions makes bob's refresh token stop working.
  await goto('#/users', 'Users');
  await page.getByLabel('E-mail, phone or id').fill(`bob-${RUN}@`);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: `bob-${RUN}@example.com` }).click();
  await page.getByRole('button', { name: 'Revoke sessions' }).click();
  await page.getByText('Every session of this user was revoked.').waitFor();
  const refresh = await call('POST', '/auth/refresh', { body: { refreshToken: state.bob.refreshToken } });
  assert.equal(refresh.status, 401);

  await goto('#/users', 'Users');
  await shot('users');
  assertNoProblems();
});

test('voiding a batch in the console makes its unredeemed coupons refused', async () => {
  await goto('#/batches', 'Coupon batches');
  await page.getByRole('button', { name: `Void batch ${state.batchId}`, exact: true }).click();
  await page.getByRole('button', { name: `Void batch ${state.batchId}`, exact: true }).and(page.locator(':disabled')).waitFor();
  const refused = await scan(state.ann.accessToken, state.tokens[3]);
  assert.equal(refused.status, 410, refused.text);
  assert.equal(refused.json.code, 'coupon_void');
  const rows = await downloadCsv(state.batchId);
  assert.equal(rows.filter((row) => row.redeemedAt).length, 2, 'redeemed coupons stay redeemed');
  await shot('batches');
  assertNoProblems();
});

test("the audit page lists the console's own actions", async () => {
  await goto('#/audit', 'Audit');
  const voided = page.locator('#audit-list tbody tr', { hasText: '/void' }).first();
  assert.match(await voided.textContent(), new RegExp(`POST /admin/coupon-batches/\\{id\\}/void${state.batchId}`));
  assert.match(await voided.textContent(), /ok \(200\)/);
  await shot('audit');
  assertNoProblems();
});

test('the pages are usable at 390 px: no horizontal scrolling', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [hash, heading] of [['#/dashboard', 'Dashboard'], ['#/invites', 'Invite codes'],
    ['#/users', 'Users'], ['#/batches', 'Coupon batches'], ['#/audit', 'Audit']]) {
    await goto(hash, heading);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${heading} scrolls sideways by ${overflow} px at 390 px`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  assertNoProblems();
});

test('the controls are labelled and reachable by keyboard', async () => {
  await goto('#/invites', 'Invite codes');
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, button')]
    .filter((el) => !el.closest('[hidden]') && !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
    .map((el) => el.outerHTML));
  assert.deepEqual(unlabelled, []);
  // From the page's heading (where the console puts the focus), Tab goes on
  // to the forms and Shift+Tab back to the navigation; Enter follows a link.
  const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim() || document.activeElement?.labels?.[0]?.textContent);
  await page.getByRole('heading', { level: 1, name: 'Invite codes' }).focus();
  const forward = [];
  for (let i = 0; i < 12 && forward.at(-1) !== 'Create root codes'; i++) {
    await page.keyboard.press('Tab');
    const now = await focused();
    if (now !== forward.at(-1)) forward.push(now); // a date field has several stops
  }
  assert.deepEqual(forward, ['How many codes', 'Uses per code', 'Expires (UTC)', 'Create root codes']);
  await page.getByRole('heading', { level: 1, name: 'Invite codes' }).focus();
  let reached = null;
  for (let i = 0; i < 6 && reached !== 'Users'; i++) { await page.keyboard.press('Shift+Tab'); reached = await focused(); }
  assert.equal(reached, 'Users', 'Shift+Tab reaches the navigation');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
  assertNoProblems();
});

test('the CSP refuses inline script and style on the page, and this test sees it', async () => {
  const ran = await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.inlineRan = true';
    document.head.append(script);
    document.body.setAttribute('style', 'background: red');
    return window.inlineRan === true;
  });
  assert.equal(ran, false, 'an inline script ran');
  await page.waitForTimeout(200); // violation events are queued
  const seen = problems.splice(0);
  assert.ok(seen.some((p) => /^CSP: script-src/.test(p)), `inline script reported: ${seen}`);
  assert.ok(seen.some((p) => /^CSP: style-src/.test(p)), `inline style reported: ${seen}`);
  assert.notEqual(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(255, 0, 0)');
});
