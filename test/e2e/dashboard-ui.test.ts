/**
 * The operator dashboard at /ui in headless Chromium (Debian `chromium`, `make browser`),
 * driven by playwright-core against the compiled binary. The upstream is the simulator,
 * started here on loopback so the test can approve its device login like a user would.
 *
 * One operator's session, end to end: sign in with the admin key, see the imported
 * account's quota bars, create a key and read it once, use it (/v1/models, /v1/responses),
 * find the request in Requests and Usage, revoke the key (then 401), add an account by
 * device login. Nothing may leave loopback; screenshots land in test-results/ (desktop,
 * phone in dark mode); with UPDATE_SCREENSHOTS=1 the desktop one is copied to
 * docs/dashboard.png for the README.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { createSimulator, type RunningSimulator, type Simulator } from '../../src/upstream/mock';
import { REPO_ROOT, bearer, makeTempDir, removeTempDirs, runCli, startServer, stopAllServers, type RunningServer } from '../support/binary';

const CHROMIUM = '/usr/bin/chromium';
const RESULTS = join(REPO_ROOT, 'test-results');
const UI_TIMEOUT_MS = 15_000;

let browser: Browser;
let server: RunningServer;
let sim: Simulator;
let simRunning: RunningSimulator;
let adminKey: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run "make browser" (installs Debian's chromium package)`);
  mkdirSync(RESULTS, { recursive: true });
  sim = createSimulator();
  simRunning = await sim.start({ hostname: '127.0.0.1', port: 0 });
  const dataDir = makeTempDir('dashboard');
  const authJson = join(makeTempDir('auth'), 'auth.json');
  writeFileSync(authJson, JSON.stringify(sim.issueAccount({ accountId: 'team-account', plan: 'pro', email: 'ops@example.invalid' }).authJson));
  const imported = await runCli(['accounts', 'import', authJson, '--label', 'imported pro account', '--data-dir', dataDir]);
  expect(imported.code).toBe(0);
  server = await startServer({ dataDir, args: ['--upstream', 'chatgpt', '--upstream-url', `${simRunning.url}/backend-api`, '--auth-url', simRunning.url] });
  adminKey = server.adminKey!;
  // One call through the account, so the upstream's quota headers are on record.
  const warm = await fetch(`${server.url}/v1/responses`, { method: 'POST', headers: { ...bearer(adminKey), 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-5.5', input: 'hello' }) });
  expect(warm.status).toBe(200);
  await warm.text();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-default-apps'],
    timeout: UI_TIMEOUT_MS,
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stopAllServers();
  await simRunning?.stop();
  removeTempDirs();
});

interface PageLog {
  requests: string[];
  offMachine: string[];
  failed: string[];
  httpErrors: string[];
  consoleErrors: string[];
  pageErrors: string[];
}

/** A page that records every request, failure and console error; requests off the machine are aborted (and recorded). */
async function instrumentedPage(options: BrowserContextOptions = {}): Promise<{ page: Page; log: PageLog }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  const origin = new URL(server.url).origin;
  const log: PageLog = { requests: [], offMachine: [], failed: [], httpErrors: [], consoleErrors: [], pageErrors: [] };
  const local = (raw: string) => {
    const url = new URL(raw);
    if (url.protocol === 'data:' || url.protocol === 'blob:') return true;
    return url.origin === origin && url.hostname === '127.0.0.1';
  };
  await context.route('**/*', (route) => (local(route.request().url()) ? route.continue() : route.abort('blockedbyclient')));
  page.on('request', (r) => {
    log.requests.push(`${r.method()} ${r.url()}`);
    if (!local(r.url())) log.offMachine.push(r.url());
  });
  page.on('requestfailed', (r) => log.failed.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText ?? '?'}`));
  page.on('response', (r) => {
    if (r.status() >= 400) log.httpErrors.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') log.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => log.pageErrors.push(String(e)));
  return { page, log };
}

/** `allowedHttpErrors`: answers the test provokes on purpose (Chromium also logs each one to the console). */
function expectClean(log: PageLog, allowedHttpErrors: string[] = []): void {
  expect(log.offMachine).toEqual([]);
  expect(log.failed).toEqual([]);
  expect(log.httpErrors).toEqual(allowedHttpErrors);
  expect(log.consoleErrors.filter((m) => !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m))).toEqual([]);
  expect(log.consoleErrors.length).toBe(allowedHttpErrors.length);
  expect(log.pageErrors).toEqual([]);
  // every request the page made went to this server's loopback address
  expect(log.requests.length).toBeGreaterThan(0);
  for (const r of log.requests) expect(r).toContain(`${server.url}/`);
}

async function signIn(page: Page, key: string): Promise<void> {
  const response = await page.goto(`${server.url}/ui`, { waitUntil: 'load' });
  expect(response?.status()).toBe(200);
  await page.getByLabel('Admin key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name });

describe('operator dashboard at /ui (headless Chromium, compiled binary, simulator upstream)', () => {
  test(
    'sign in, quotas, create → use → see → revoke a key, add an account by device login; nothing leaves loopback',
    async () => {
      const { page, log } = await instrumentedPage();
      await signIn(page, adminKey);

      // Accounts: the imported account with its 5-hour and weekly quota bars (the simulator reports 12% and 4%)
      const card = page.getByRole('article', { name: /imported pro account/ });
      await card.waitFor();
      expect(await card.innerText()).toContain('pro');
      const fiveHour = card.getByRole('meter', { name: '5-hour quota used' });
      const weekly = card.getByRole('meter', { name: 'Weekly quota used' });
      expect(await fiveHour.getAttribute('aria-valuenow')).toBe('12');
      expect(await weekly.getAttribute('aria-valuenow')).toBe('4');
      expect(await card.innerText()).toMatch(/resets in 2h 5\dmin|resets in 3h/);
      // the key is kept in session storage only: not in the URL, not in a cookie
      expect(page.url()).not.toContain(adminKey);
      expect(await page.context().cookies()).toEqual([]);
      expect(await page.evaluate(() => sessionStorage.getItem('codexin.adminKey'))).toBe(adminKey);
      await page.screenshot({ path: join(RESULTS, 'dashboard-accounts-desktop.png'), fullPage: true });
      await page.screenshot({ path: join(RESULTS, 'dashboard-readme.png'), clip: { x: 0, y: 0, width: 1280, height: 500 } });

      // Keys: create one; its secret is shown once, with the client config from /v1/me
      await nav(page, 'Keys').click();
      await page.getByRole('button', { name: 'Create key' }).click();
      const createDialog = page.getByRole('dialog', { name: 'Create a key' });
      await createDialog.getByLabel('Name').fill('dashboard-e2e');
      await createDialog.getByLabel('Requests per minute').fill('120');
      await createDialog.getByRole('button', { name: 'Create key' }).click();
      const createdDialog = page.getByRole('dialog', { name: 'Key created' });
      const secret = await createdDialog.getByTestId('new-key').inputValue();
      expect(secret).toMatch(/^ci_[A-Za-z0-9_-]{20,}$/);
      expect(await createdDialog.getByTestId('client-env').innerText()).toContain(`OPENAI_BASE_URL=${server.url}/v1`);
      await createdDialog.getByRole('button', { name: 'Copy key' }).click();
      await createdDialog.getByRole('button', { name: 'Copied', exact: true }).waitFor();
      expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(secret);
      await page.screenshot({ path: join(RESULTS, 'dashboard-key-created-desktop.png') });
      await createdDialog.getByRole('button', { name: 'Done, I copied it' }).click();
      const row = page.locator('tr', { has: page.getByRole('rowheader', { name: 'dashboard-e2e' }) });
      await row.waitFor();
      expect(await row.innerText()).toContain('120/min');
      // shown once: nowhere on the page any more
      expect(await page.content()).not.toContain(secret);

      // Use the key
      expect((await fetch(`${server.url}/v1/models`, { headers: bearer(secret) })).status).toBe(200);
      const used = await fetch(`${server.url}/v1/responses`, { method: 'POST', headers: { ...bearer(secret), 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-5.5', input: 'from the dashboard test' }) });
      expect(used.status).toBe(200);
      await used.text();
      // and one call that fails upstream mid-stream, so Requests has an error code to show
      sim.enqueue({ kind: 'fail_mid_stream', afterEvents: 3, code: 'server_error' });
      const failed = await fetch(`${server.url}/v1/responses`, { method: 'POST', headers: { ...bearer(secret), 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-5.5', input: 'this one fails' }) });
      const failedStatus = failed.status;
      expect(failedStatus).toBeGreaterThanOrEqual(500);
      await failed.text();

      // Requests: the call with key, account, route, model and status
      await nav(page, 'Requests').click();
      const requests = page.getByTestId('requests');
      const call = requests.locator('tbody tr', { hasText: 'dashboard-e2e' }).filter({ hasNotText: 'server_error' });
      await call.first().waitFor();
      const callText = await call.first().innerText();
      expect(callText).toContain('imported pro account');
      expect(callText).toContain('/v1/responses');
      expect(callText).toContain('gpt-5.5');
      expect(callText).toContain('200');
      expect(await requests.innerText()).not.toContain('from the dashboard test');
      // every call the key made is there, not only model calls: the /v1/models one too
      const listing = requests.locator('tbody tr', { hasText: 'dashboard-e2e' }).filter({ hasText: '/v1/models' });
      await listing.first().waitFor();
      expect(await listing.first().innerText()).toContain('200');
      // only the failures, with the status and error code the client got
      await page.getByRole('combobox', { name: /^Show/ }).selectOption('error');
      const failure = requests.locator('tbody tr', { hasText: 'dashboard-e2e' }).filter({ hasText: 'server_error' });
      await requests.locator('tbody tr:not(.failed)').first().waitFor({ state: 'detached' });
      expect(await requests.locator('tbody tr').count()).toBe(1);
      expect(await failure.innerText()).toContain(String(failedStatus));
      await page.screenshot({ path: join(RESULTS, 'dashboard-requests-desktop.png'), fullPage: true });

      // Usage: the key has a request today
      await nav(page, 'Usage').click();
      const totals = page.getByTestId('usage-totals');
      const usageRow = totals.locator('tr', { has: page.getByRole('rowheader', { name: /dashboard-e2e/ }) });
      await usageRow.waitFor();
      // /v1/me (the client config the page fetched with the new key), /v1/models and the two model calls
      expect((await usageRow.locator('td').first().innerText()).trim()).toBe('4');
      expect(await page.locator('.chart canvas').count()).toBe(2);
      await page.screenshot({ path: join(RESULTS, 'dashboard-usage-desktop.png'), fullPage: true });
      await page.getByRole('combobox', { name: /^Per/ }).selectOption('account');
      await totals.locator('tr', { has: page.getByRole('rowheader', { name: 'imported pro account' }) }).waitFor();

      // Edit the key's limits
      await nav(page, 'Keys').click();
      await page.getByRole('button', { name: 'Edit limits of dashboard-e2e' }).click();
      const limits = page.getByRole('dialog', { name: 'Limits of dashboard-e2e' });
      await limits.getByLabel('Tokens per day').fill('50000');
      await limits.getByLabel('Requests per minute').fill('');
      await limits.getByRole('button', { name: 'Save limits' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved the limits of dashboard-e2e.' }).waitFor();
      // the notice comes first, the reloaded list right after
      await row.locator('td').nth(2).filter({ hasText: /^50\.0k tokens\/day$/ }).waitFor();
      // a bad number is refused in words, before anything is sent
      await page.getByRole('button', { name: 'Edit limits of dashboard-e2e' }).click();
      await limits.getByLabel('Requests at once').fill('two');
      await limits.getByRole('button', { name: 'Save limits' }).click();
      await limits.getByRole('alert').filter({ hasText: 'Requests at once must be a whole number of at least 1' }).waitFor();
      await limits.getByRole('button', { name: 'Cancel' }).click();

      // Revoke with confirmation; the key then gets 401
      await page.getByRole('button', { name: 'Revoke dashboard-e2e' }).click();
      const confirm = page.getByRole('dialog', { name: 'Revoke dashboard-e2e?' });
      await confirm.getByRole('button', { name: 'Revoke key' }).click();
      await page.getByRole('status').filter({ hasText: 'Revoked dashboard-e2e.' }).waitFor();
      expect((await fetch(`${server.url}/v1/models`, { headers: bearer(secret) })).status).toBe(401);

      // Add account: device login against the simulator, approved as the user would
      await nav(page, 'Accounts').click();
      await page.getByRole('button', { name: 'Add account' }).click();
      const addDialog = page.getByRole('dialog', { name: 'Add a ChatGPT account' });
      await addDialog.getByLabel('Label (optional)').fill('second account');
      await addDialog.getByRole('button', { name: 'Start login' }).click();
      const code = (await addDialog.getByTestId('user-code').innerText()).trim();
      expect(code).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{5}$/);
      expect(await addDialog.getByRole('link', { name: `${simRunning.url}/codex/device` }).count()).toBe(1);
      await addDialog.getByText('Waiting for you to approve').waitFor();
      await page.screenshot({ path: join(RESULTS, 'dashboard-add-account-desktop.png') });
      sim.approveDevice(code);
      await addDialog.getByText('Account added: second account').waitFor();
      await addDialog.getByRole('button', { name: 'Done' }).click();
      const second = page.getByRole('article', { name: /second account/ });
      await second.waitFor();

      // Disable and enable an account; remove one after confirming
      await page.getByRole('button', { name: 'Disable second account' }).click();
      await second.getByText('Disabled', { exact: true }).waitFor();
      await page.getByRole('button', { name: 'Enable second account' }).click();
      await second.getByText('Active', { exact: true }).waitFor();
      await page.getByRole('button', { name: 'Remove second account' }).click();
      await page.getByRole('dialog', { name: 'Remove second account?' }).getByRole('button', { name: 'Remove account' }).click();
      await page.getByRole('status').filter({ hasText: 'Removed second account.' }).waitFor();
      await second.waitFor({ state: 'detached' });

      expectClean(log);
      // The README's screenshot: refreshed on request only, so a test run leaves the tree clean.
      if (process.env.UPDATE_SCREENSHOTS === '1') copyFileSync(join(RESULTS, 'dashboard-readme.png'), join(REPO_ROOT, 'docs', 'dashboard.png'));
      await page.context().close();
    },
    90_000,
  );

  test(
    'at phone width in dark mode it is usable from the keyboard alone',
    async () => {
      const { page, log } = await instrumentedPage({ viewport: { width: 390, height: 844 }, colorScheme: 'dark', isMobile: true, hasTouch: true });
      await page.goto(`${server.url}/ui`, { waitUntil: 'load' });
      // the key field takes focus once the page has rendered; Enter submits
      await page.locator('#admin-key:focus').waitFor();
      await page.keyboard.type(adminKey);
      await page.keyboard.press('Enter');
      await page.getByRole('article', { name: /imported pro account/ }).waitFor();
      // nothing wider than the screen
      expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      const background = await page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
      expect(background).toBe('rgb(15, 19, 24)');
      await page.screenshot({ path: join(RESULTS, 'dashboard-accounts-phone-dark.png'), fullPage: true });

      // Tab to the Keys link, follow it, and the focus ring is visible
      const focused = () => page.evaluate<string | null>("document.activeElement?.closest('nav') ? document.activeElement.textContent : null");
      for (let i = 0; i < 10 && (await focused()) !== 'Keys'; i++) await page.keyboard.press('Tab');
      expect(await focused()).toBe('Keys');
      expect(await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Keys' }).waitFor();
      await page.screenshot({ path: join(RESULTS, 'dashboard-keys-phone-dark.png'), fullPage: true });
      // the create form opens as a modal with focus inside; Escape closes it and focus returns to its button
      await page.getByRole('button', { name: 'Create key' }).focus();
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: 'Create a key' });
      await dialog.waitFor();
      await page.locator('dialog :focus').waitFor();
      await page.screenshot({ path: join(RESULTS, 'dashboard-create-key-phone-dark.png') });
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      expect(await page.evaluate<string | null>('document.activeElement?.textContent ?? null')).toBe('Create key');
      // the wide tables and the charts fit the screen too
      for (const [name, ready] of [
        ['Requests', page.getByTestId('requests')],
        ['Usage', page.locator('.chart canvas').first()],
      ] as const) {
        await nav(page, name).click();
        await ready.waitFor();
        expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
        await page.screenshot({ path: join(RESULTS, `dashboard-${name.toLowerCase()}-phone-dark.png`), fullPage: true });
      }
      expectClean(log);
      await page.context().close();
    },
    60_000,
  );

  test(
    'when the admin key is revoked while signed in, the next call signs the page out and says why',
    async () => {
      const created = await runCli(['keys', 'create', '--name', 'short-lived-admin', '--admin', '--json', '--data-dir', server.dataDir!]);
      expect(created.code).toBe(0);
      const { id, key } = JSON.parse(created.stdout) as { id: string; key: string };
      const { page, log } = await instrumentedPage();
      await signIn(page, key);
      await page.getByRole('article', { name: /imported pro account/ }).waitFor();
      expect((await fetch(`${server.url}/admin/keys/${id}`, { method: 'DELETE', headers: bearer(adminKey) })).status).toBe(200);
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.getByRole('status').filter({ hasText: 'no longer accepts this admin key' }).waitFor();
      expect(await page.getByLabel('Admin key').count()).toBe(1);
      expect(await page.evaluate(() => sessionStorage.getItem('codexin.adminKey'))).toBeNull();
      expectClean(log, ['401 GET /admin/accounts']);
      await page.context().close();
    },
    60_000,
  );

  test(
    'a key without admin access cannot use the dashboard: the API answers 403 and the page says why',
    async () => {
      const created = await runCli(['keys', 'create', '--name', 'not-admin', '--advanced', '--json', '--data-dir', server.dataDir!]);
      expect(created.code).toBe(0);
      const plainKey = (JSON.parse(created.stdout) as { key: string }).key;
      const { page, log } = await instrumentedPage();
      await signIn(page, plainKey);
      await page.getByRole('alert').filter({ hasText: 'not an admin key' }).waitFor();
      expect(await page.getByRole('navigation', { name: 'Dashboard' }).count()).toBe(0);
      expect(await page.evaluate(() => sessionStorage.getItem('codexin.adminKey'))).toBeNull();
      expect((await fetch(`${server.url}/admin/keys`, { headers: bearer(plainKey) })).status).toBe(403);
      expectClean(log, ['403 GET /admin/keys']);
      await page.context().close();
    },
    60_000,
  );
});
