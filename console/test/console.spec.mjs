// Browser test of the ops console, driven by playwright-core in the system Chromium.
//
//   BFF_URL=http://127.0.0.1:8080 OPS_TOKEN=... WEBHOOK_SECRET=... node test/console.spec.mjs
//   node test/console.spec.mjs --mock     # against test/mock-server.mjs, started in-process
//
// Env: BFF_URL (required without --mock), OPS_TOKEN (default: the development token),
// WEBHOOK_SECRET (see fixtures.mjs), CHROMIUM (default /usr/bin/chromium), HEADED=1 to watch.
// Prints "N passed, M failed" last; exits non-zero when anything failed.
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.join(here, 'artifacts');
const TIMEOUT = 10_000;

let mock = null;
if (process.argv.includes('--mock')) {
  const { startMockServer } = await import('./mock-server.mjs');
  mock = await startMockServer({
    opsToken: process.env.OPS_TOKEN || 'dev-ops-token',
    webhookSecret: process.env.WEBHOOK_SECRET || 'whsec_dev_sandbox_secret',
    forwarding: process.env.MOCK_NO_FORWARDING !== '1',
  });
  process.env.BFF_URL = mock.url;
}
const BFF_URL = process.env.BFF_URL;
if (!BFF_URL) {
  console.error('Set BFF_URL (e.g. http://127.0.0.1:8080), or pass --mock.');
  process.exit(2);
}
const OPS_TOKEN = process.env.OPS_TOKEN || 'dev-ops-token';
const { sendWebhook, sendBadWebhook } = await import('./fixtures.mjs');

// ---- a tiny runner ----------------------------------------------------------------------------------

const results = [];
async function step(name, fn) {
  const t0 = Date.now();
  try {
    const note = await fn();
    results.push({ name, ok: true });
    console.log(`  ✓ ${name} (${Date.now() - t0} ms)${note ? ` — ${note}` : ''}`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`  ✗ ${name} (${Date.now() - t0} ms)\n      ${String(e && e.stack || e).split('\n').slice(0, 4).join('\n      ')}`);
  }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }
async function until(fn, what, timeout = TIMEOUT) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---- the browser ---------------------------------------------------------------------------------------

await mkdir(ARTIFACTS, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: process.env.HEADED !== '1',
  // The machine's network is closed: keep Chromium from reaching out on its own.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1360, height: 860 }, colorScheme: 'light' });
context.setDefaultTimeout(TIMEOUT);
const page = await context.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
page.on('console', (m) => {
  // 401s while signed out are expected; Chromium reports each failed load as a console error.
  if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
});
const byId = (id) => page.getByTestId(id);
const CONSOLE_URL = new URL('/ops/', BFF_URL).toString();

console.log(`ops console test against ${CONSOLE_URL}${mock ? ' (mock server)' : ''}`);
let live = null; // the journey sent by the live-feed step

await step('the console loads and offers the sign-in form', async () => {
  const res = await page.goto(CONSOLE_URL);
  assert(res && res.ok(), `GET /ops/ answered ${res && res.status()}`);
  await until(() => page.evaluate(() => document.body.dataset.ready === 'true'), 'the page to start');
  await byId('signin-form').waitFor({ state: 'visible' });
  assert(await byId('app').isHidden(), 'the app is visible before sign-in');
});

await step('a wrong token is refused with the server\'s message', async () => {
  const answer = await fetch(new URL('/v1/ops/login', BFF_URL), {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF': '1' }, body: JSON.stringify({ token: 'not-the-token' }),
  });
  const body = await answer.json();
  assert(answer.status === 401 && body.error && body.error.code === 'UNAUTHENTICATED', `login with a wrong token answered ${answer.status} ${JSON.stringify(body)}`);
  await byId('signin-token').fill('not-the-token');
  await byId('signin-submit').click();
  await byId('signin-error').waitFor({ state: 'visible' });
  const shown = await byId('signin-error').innerText();
  assert(shown.includes(body.error.message), `shown "${shown}", server said "${body.error.message}"`);
  assert(await byId('app').isHidden(), 'the app became visible');
  await page.screenshot({ path: path.join(ARTIFACTS, 'signin.png') });
});

await step('the right token signs in and the live feed connects', async () => {
  await byId('signin-token').fill(OPS_TOKEN);
  await byId('signin-submit').click();
  await byId('signed-in-as').waitFor({ state: 'visible' });
  assert(await byId('signin').isHidden(), 'the sign-in form is still visible');
  assert(await byId('signin-token').inputValue() === '', 'the token stays in the form after sign-in');
  await until(async () => (await byId('feed-state').getAttribute('data-state')) === 'live', 'the feed to be live');
});

await step('a verified webhook shows up in the live feed', async () => {
  live = await sendWebhook();
  const item = page.locator(`[data-testid="feed-item"][data-journey-id="${live.journeyID}"]`);
  await item.waitFor({ state: 'visible' });
  const text = await item.innerText();
  assert(text.includes(live.status) && text.includes(live.userID), `feed item reads "${text}"`);
  const first = await byId('feed-item').first().getAttribute('data-journey-id');
  assert(first === live.journeyID, 'the newest event is not on top');
});

await step('values from the API are shown as text, never as markup', async () => {
  const markup = '<img src=x onerror="window.__xss=1">';
  let sent;
  try {
    sent = await sendWebhook({ status: markup, nextAction: '<b>bold</b>' });
  } catch (e) {
    return `the server refused markup in a status (${e.message.slice(0, 60)}…)`;
  }
  const item = page.locator(`[data-testid="feed-item"][data-journey-id="${sent.journeyID}"]`);
  await item.waitFor({ state: 'visible' });
  assert((await item.innerText()).includes(markup), 'the markup was not shown literally');
  assert(await item.locator('img, b').count() === 0, 'API text became elements');
  assert(await page.evaluate(() => window.__xss === undefined), 'injected script ran');
});

await step('journeys can be searched by user, and the timeline marks stale snapshots', async () => {
  assert(live, 'no journey from the live-feed step');
  // A newer snapshot, then one older than it (stale: it must not change the journey).
  const newer = await sendWebhook({ journeyID: live.journeyID, userID: live.userID, status: 'OFFER_SELECTED', nextAction: 'COMPLETE_STEP', sequence: live.sequence + 10 });
  const stale = await sendWebhook({ journeyID: live.journeyID, userID: live.userID, status: 'PROFILE_PENDING', nextAction: 'COMPLETE_PROFILE', sequence: live.sequence + 5 });
  await byId('tab-journeys').click();
  await byId('journeys-user').fill(live.userID);
  await byId('journeys-search').click();
  const rows = page.locator(`[data-testid="journey-row"][data-journey-id="${live.journeyID}"]`);
  await rows.first().waitFor({ state: 'visible' });
  await until(async () => (await byId('journey-row').count()) === 1, 'exactly one row for the user');
  assert((await rows.innerText()).includes('OFFER_SELECTED'), 'the row does not show the latest status');
  await rows.click();
  await byId('journey-detail').waitFor({ state: 'visible' });
  await until(async () => (await byId('timeline-item').count()) === 3, 'three timeline items');
  const staleItems = page.locator('[data-testid="timeline-item"][data-stale="true"]');
  assert(await staleItems.count() === 1, `${await staleItems.count()} stale items, expected 1`);
  assert((await staleItems.innerText()).includes(stale.status) && (await staleItems.innerText()).toLowerCase().includes('stale'), 'the stale item is not marked');
  assert((await byId('journey-facts').innerText()).includes('OFFER_SELECTED'), 'the stale snapshot changed the journey');
  await byId('journey-snapshot').locator('summary').click();
  const raw = await byId('journey-snapshot-json').innerText();
  assert(raw.includes(newer.eventID), 'the raw snapshot is not the latest one');
});

await step('a user\'s journeys are listed and "Sign out everywhere" asks first', async () => {
  await byId('journey-user').click();
  await byId('users-card').waitFor({ state: 'visible' });
  assert((await byId('users-title').innerText()) === live.userID, 'another user is shown');
  assert(await byId('user-journey-row').count() === 1, 'the user\'s journey is not listed');
  await byId('users-revoke').click();
  await byId('confirm-dialog').waitFor({ state: 'visible' });
  await byId('confirm-cancel').click();
  assert(await byId('users-result').isHidden(), 'cancel still revoked');
  await byId('users-revoke').click();
  const answered = page.waitForResponse((r) => r.url().endsWith('/revoke'));
  await byId('confirm-ok').click();
  const res = await answered;
  assert(res.status() === 200, `revoke answered ${res.status()}`);
  await byId('users-result').waitFor({ state: 'visible' });
  assert(/signed out everywhere/i.test(await byId('users-result').innerText()), 'no confirmation of the revocation');
});

await step('a dead letter can be re-driven and the server\'s answer is shown', async () => {
  const bad = await sendBadWebhook();
  await byId('tab-dead-letters').click();
  await byId('dead-letters-refresh').click();
  const card = page.locator(`[data-testid="dead-letter"][data-event-id="${bad.eventID}"]`);
  await card.waitFor({ state: 'visible' });
  assert((await card.getByTestId('dead-letter-reason').innerText()).length > 0, 'no reason shown');
  const answered = page.waitForResponse((r) => r.url().includes('/redrive') && r.request().method() === 'POST');
  await card.getByTestId('dead-letter-redrive').click();
  const answer = await (await answered).json();
  const result = card.getByTestId('dead-letter-result');
  await result.waitFor({ state: 'visible' });
  const shown = await result.innerText();
  if (answer.error) assert(shown.includes(answer.error.message), `shown "${shown}", server said "${answer.error.message}"`);
  else assert(shown.includes(answer.data.outcome), `shown "${shown}", server said ${JSON.stringify(answer.data)}`);
  return answer.error ? `still a dead letter: ${answer.error.code}` : `re-driven: ${answer.data.outcome}`;
});

await step('the forwarding panel appears only when the server has it', async () => {
  const probe = await page.evaluate(async () => (await fetch('../v1/ops/forwarding', { headers: { 'X-CSRF': '1' } })).status);
  const tabShown = await byId('tab-forwarding').isVisible();
  if (probe === 404 || probe === 405) { assert(!tabShown, 'forwarding tab shown without the endpoint'); return 'no forwarding endpoint: tab hidden'; }
  assert(tabShown, `forwarding answered ${probe} but the tab is hidden`);
  await byId('tab-forwarding').click();
  await byId('forwarding-search').click();
  await until(async () => (await byId('forwarding-table').isVisible()) || (await byId('forwarding-empty').isVisible()), 'deliveries or "no deliveries"');
  assert(await byId('forwarding-error').isHidden(), await byId('forwarding-error').innerText().catch(() => 'error shown'));
});

await step('the audit log shows the sign-in', async () => {
  await byId('tab-audit').click();
  await byId('audit-row').first().waitFor({ state: 'visible' });
  const text = await byId('audit-rows').innerText();
  assert(/log.?in|sign.?in/i.test(text), `no sign-in in the audit log: "${text.slice(0, 200)}"`);
});

await step('screenshots are saved', async () => {
  await byId('tab-feed').click();
  await page.screenshot({ path: path.join(ARTIFACTS, 'feed.png'), fullPage: true });
  await byId('tab-dead-letters').click();
  await page.screenshot({ path: path.join(ARTIFACTS, 'dead-letters.png'), fullPage: true });
  await byId('tab-audit').click();
  await page.screenshot({ path: path.join(ARTIFACTS, 'audit.png'), fullPage: true });
  await byId('tab-journeys').click();
  await byId('journey-detail').waitFor({ state: 'visible' });
  await page.screenshot({ path: path.join(ARTIFACTS, 'console.png'), fullPage: true });
  return path.relative(process.cwd(), path.join(ARTIFACTS, 'console.png'));
});

await step('a session ended elsewhere sends the operator back to sign-in', async () => {
  // End the cookie's session behind the page's back, as an expiry or a sign-out in another tab would.
  const status = await page.evaluate(async () => (await fetch('../v1/ops/logout', { method: 'POST', headers: { 'X-CSRF': '1' } })).status);
  assert(status >= 200 && status < 300, `logout answered ${status}`);
  await byId('tab-audit').click(); // loads the audit log: refused now
  await byId('signin-form').waitFor({ state: 'visible' });
  assert(/session has ended/i.test(await byId('signin-error').innerText()), 'no explanation shown');
  await byId('signin-token').fill(OPS_TOKEN);
  await byId('signin-submit').click();
  await byId('signed-in-as').waitFor({ state: 'visible' });
});

await step('sign out returns to the sign-in form and ends the session', async () => {
  await byId('signout').click();
  await byId('signin-form').waitFor({ state: 'visible' });
  assert(await byId('app').isHidden(), 'the app is still visible');
  assert(await byId('feed-item').count() === 0, 'data from the session stayed in the page');
  await page.reload();
  await until(() => page.evaluate(() => document.body.dataset.ready === 'true'), 'the page to start');
  assert(await byId('signin-form').isVisible(), 'a reload signed back in: the cookie survived sign-out');
});

await step('the page raised no script errors', async () => {
  assert(pageErrors.length === 0, pageErrors.join('\n'));
});

await browser.close();
if (mock) await mock.close();

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
