import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { buildWeb } from '../../scripts/build-web.ts';

/**
 * The one browser path: `socstream demo` as a child process, the built dashboard in Debian's
 * Chromium. Signs in with the keyboard, waits for generated attacks to arrive as alerts over the
 * live stream, acknowledges one, opens it, searches events. Screenshots go to test-artifacts/web/.
 */
const CHROMIUM = process.env.SOCSTREAM_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = resolve(import.meta.dirname, '../..');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'web');
const TOKEN = `demo-${'x'.repeat(8)}-${process.pid}-browser-test`;
/** A viewer token given to the demo through SOCSTREAM_TOKEN_<NAME>=role:token. */
const VIEWER_TOKEN = `viewer-${process.pid}-browser-test-token`;
/** The demo's first brute-force alert needs ~15-25 s of traffic; a loaded machine gets more room. */
const FIRST_ALERT_MS = 90_000;

const skip = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set SOCSTREAM_CHROMIUM)`;
if (skip) process.stderr.write(`\n*** SKIPPING the dashboard browser test: ${skip} ***\n\n`);

let demo: ChildProcess | undefined;
let browser: Browser | undefined;
let page: Page;
let baseUrl = '';
const outsideRequests: string[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'socstream-web-'));

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

/** Starts the demo and resolves with its dashboard URL once it prints it. */
function startDemo(port: number): Promise<string> {
  demo = spawn(
    process.execPath,
    [join(ROOT, 'src/cli/main.ts'), 'demo', '--port', String(port), '--data-dir', dataDir, '--rate', '200'],
    {
      cwd: ROOT,
      env: { ...process.env, SOCSTREAM_DEMO_TOKEN: TOKEN, SOCSTREAM_TOKEN_WATCHER: `viewer:${VIEWER_TOKEN}` },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`demo did not start in 60 s:\n${stderr}`)), 60_000);
    demo?.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /dashboard: (http:\/\/\S+?)\/?\s/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    demo?.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`demo exited (${code}) before it was ready:\n${stderr}`));
    });
  });
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function apiGet<T>(path: string): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return (await res.json()) as T;
}

before(async () => {
  if (skip) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  await buildWeb();
  baseUrl = await startDemo(await freePort());
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  // The dashboard must never reach outside the server (no CDN, fonts or analytics).
  page.on('request', (req) => {
    if (!req.url().startsWith(baseUrl) && !req.url().startsWith('data:')) outsideRequests.push(req.url());
  });
});

after(async () => {
  await browser?.close();
  if (demo && demo.exitCode === null) {
    const exited = new Promise((ok) => demo?.once('exit', ok));
    demo.kill('SIGTERM');
    await Promise.race([exited, new Promise((ok) => setTimeout(ok, 15_000))]);
    if (demo.exitCode === null) demo.kill('SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
});

test('a wrong token is refused on the sign-in page', { skip }, async () => {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('API token').fill('not-a-real-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
  await shot('01-sign-in-refused');
});

test('signing in with the keyboard opens the overview with live statistics', { skip }, async () => {
  await page.getByLabel('API token').fill('');
  await page.getByLabel('API token').focus();
  await page.keyboard.type(TOKEN);
  await page.keyboard.press('Enter');
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('socstream.token')), TOKEN);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  // The lake is flushed every 5 s: wait until the chart has data (a uPlot canvas).
  await page.locator('.chart canvas').first().waitFor({ timeout: 60_000 });
  await page.locator('.live, .conn-open').first().waitFor();
  await shot('02-overview');
});

test('generated attacks appear as alerts in the list while it is open (live stream)', { skip }, async () => {
  await page.getByRole('link', { name: 'Alerts' }).click();
  await page.getByRole('heading', { name: 'Alerts' }).waitFor();
  const row = page.locator('tr[data-alert-id]').first();
  await row.waitFor({ timeout: FIRST_ALERT_MS });
  const { alerts } = await apiGet<{ alerts: Array<{ id: string }> }>('/api/alerts');
  assert.ok(alerts.length >= 1, 'the API lists the alert the page shows');
  await shot('03-alerts');
});

let acknowledgedId = '';

test('acknowledging an alert from the list (keyboard) changes its status in the store', {
  skip,
}, async () => {
  const row = page
    .locator('tr[data-alert-id]')
    .filter({ has: page.getByRole('button', { name: /^Acknowledge / }) })
    .first();
  acknowledgedId = (await row.getAttribute('data-alert-id')) ?? '';
  assert.ok(acknowledgedId);
  // With the keyboard: a real button, focusable, with a visible focus ring, pressed with Enter.
  // Focus the button before it by script, then Tab: keyboard navigation (focus-visible).
  await row.locator('a').first().focus();
  await page.keyboard.press('Tab');
  assert.match(
    (await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))) ?? '',
    /^Acknowledge /,
  );
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
  assert.equal(outline, 'solid', 'the focused button shows a focus outline');
  await page.keyboard.press('Enter');
  await page.locator(`tr[data-alert-id="${acknowledgedId}"] .status-acknowledged`).waitFor();
  const detail = await apiGet<{
    alert: { status: string };
    history: Array<{ actor: string; to: string | null }>;
  }>(`/api/alerts/${acknowledgedId}`);
  assert.equal(detail.alert.status, 'acknowledged');
  assert.ok(detail.history.some((h) => h.actor === 'demo' && h.to === 'acknowledged'));
});

test('the alert detail shows its history and related events, and takes a note', { skip }, async () => {
  await page.locator(`tr[data-alert-id="${acknowledgedId}"] a`).first().click();
  await page.getByRole('heading', { name: 'History' }).waitFor();
  await page.getByText('changed status from new to acknowledged').waitFor();
  await page.getByLabel('Note').fill('checked by the browser test');
  await page.getByRole('button', { name: 'Add note' }).click();
  await page.getByText('noted: checked by the browser test').waitFor();
  await page.getByRole('heading', { name: 'Related events' }).waitFor();
  await shot('04-alert-detail');
});

test('event search finds events by source IP, newest first, with a "more" page', { skip }, async () => {
  await page.getByRole('link', { name: 'Events' }).click();
  await page.getByRole('button', { name: 'Search' }).click();
  const rows = page.locator('tr[data-event-id]');
  await rows.first().waitFor({ timeout: 30_000 });
  assert.equal(await rows.count(), 100, 'a first page of 100');
  await page.getByRole('button', { name: 'More events' }).click();
  await page.locator('tr[data-event-id]:nth-child(101)').waitFor();
  assert.ok((await rows.count()) > 100, 'More events appends the next page');
  // Not every event has a source (threat events name a host): search by the first row that has one.
  const sources = await page.locator('tr[data-event-id] td:nth-child(3)').allTextContents();
  const ip = sources.map((t) => t.trim()).find((t) => /^[0-9a-f.:]+$/.test(t)) ?? '';
  assert.match(
    ip,
    /^[0-9a-f.:]+$/,
    `no row of the first pages has a source IP: ${sources.slice(0, 5).join(', ')}`,
  );
  await page.getByLabel('Source IP').fill(ip);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForFunction(
    (wanted) => {
      const cells = [...document.querySelectorAll('tr[data-event-id] td:nth-child(3)')];
      return cells.length > 0 && cells.every((c) => c.textContent?.trim() === wanted);
    },
    ip,
    { timeout: 30_000 },
  );
  await shot('05-event-search');
});

test('the live tail shows sampled events as they arrive', { skip }, async () => {
  await page.getByRole('link', { name: 'Live' }).click();
  await page.locator('.tail-event').first().waitFor({ timeout: 30_000 });
  // Paused, the list stops moving (and the screenshot can settle).
  await page.getByRole('button', { name: 'Pause' }).click();
  const count = await page.locator('.tail li').count();
  await new Promise((ok) => setTimeout(ok, 1500));
  assert.equal(await page.locator('.tail li').count(), count);
  await shot('06-live');
});

test('the overview counts the alerts raised so far by level', { skip }, async () => {
  await page.getByRole('link', { name: 'Overview' }).click();
  const levels = page.locator('.panel', { has: page.getByRole('heading', { name: 'Alerts by level' }) });
  await levels.locator('.bars li').first().waitFor({ timeout: 30_000 });
  assert.match((await levels.textContent()) ?? '', /high/);
  await shot('07-overview-with-alerts');
});

test('a viewer sees the alerts without triage buttons; a refused token returns to sign-in', {
  skip,
}, async () => {
  const context = await browser?.newContext({ viewport: { width: 1360, height: 900 } });
  assert.ok(context);
  const viewer = await context.newPage();
  try {
    await viewer.goto(`${baseUrl}/#/alerts`);
    await viewer.getByLabel('API token').fill(VIEWER_TOKEN);
    await viewer.getByRole('button', { name: 'Sign in' }).click();
    await viewer.locator('tr[data-alert-id]').first().waitFor({ timeout: 30_000 });
    assert.equal(await viewer.getByRole('button', { name: /^Acknowledge/ }).count(), 0);
    assert.equal(await viewer.getByRole('columnheader', { name: 'Triage' }).count(), 0);
    await viewer.locator('tr[data-alert-id] a').first().click();
    await viewer.getByRole('heading', { name: 'History' }).waitFor();
    assert.equal(await viewer.getByRole('heading', { name: 'Triage' }).count(), 0);
    await viewer.screenshot({ path: join(ARTIFACTS, '08-viewer-alert-detail.png'), fullPage: true });
    // A token that stops working (revoked, mistyped in storage): the next call lands on sign-in.
    await viewer.evaluate(() => sessionStorage.setItem('socstream.token', 'revoked-token-0123456789'));
    await viewer.getByRole('link', { name: 'Events' }).click();
    await viewer.getByRole('button', { name: 'Search' }).click();
    await viewer.getByRole('heading', { name: 'socstream' }).waitFor();
    await viewer.getByText('The server refused the token (401)').waitFor();
    assert.equal(await viewer.evaluate(() => sessionStorage.getItem('socstream.token')), null);
  } finally {
    await context.close();
  }
});

test('the dashboard made no request outside the server', { skip }, () => {
  assert.deepEqual(outsideRequests, []);
});
