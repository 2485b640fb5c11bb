/**
 * Swagger UI at /docs in headless Chromium (Debian `chromium`, `make browser`), driven
 * by playwright-core against the compiled binary: it renders the operations, makes no
 * request off the machine, and is usable end to end (Authorize → Try it out → Execute).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { removeTempDirs, startServer, stopAllServers, type RunningServer } from '../support/binary';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = '/tmp/docs.png';
const UI_TIMEOUT_MS = 15_000;

let browser: Browser;
let server: RunningServer;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run "make browser" (installs Debian's chromium package)`);
  server = await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-default-apps'],
    timeout: UI_TIMEOUT_MS,
  });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await stopAllServers();
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
async function instrumentedPage(): Promise<{ page: Page; log: PageLog }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1400 } });
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
    if (r.status() >= 400) log.httpErrors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') log.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => log.pageErrors.push(String(e)));
  return { page, log };
}

describe('Swagger UI at /docs (headless Chromium)', () => {
  test(
    'renders the operations offline and executes GET /v1/models with the admin key',
    async () => {
      expect(server.adminKey).toBeTruthy();
      const { page, log } = await instrumentedPage();
      const response = await page.goto(`${server.url}/docs`, { waitUntil: 'load' });
      expect(response?.status()).toBe(200);

      // the operations are rendered from /docs/json
      await page.locator('.opblock').first().waitFor({ state: 'visible' });
      const models = page.locator('.opblock.opblock-get', { has: page.locator('.opblock-summary-path[data-path="/v1/models"]') });
      expect(await models.count()).toBe(1);
      expect(await models.locator('.opblock-summary-path').innerText()).toBe('/v1/models');
      expect(await models.isVisible()).toBe(true);
      const health = page.locator('.opblock.opblock-get', { has: page.locator('.opblock-summary-path[data-path="/healthz"]') });
      expect(await health.isVisible()).toBe(true);
      expect(await page.locator('.info .title').innerText()).toContain('CodexIn');

      // Authorize with the admin key (bearerAuth)
      await page.locator('.auth-wrapper .btn.authorize').click();
      const modal = page.locator('.modal-ux');
      await modal.waitFor({ state: 'visible' });
      expect(await modal.innerText()).toContain('bearerAuth');
      await modal.locator('input').first().fill(server.adminKey!);
      await modal.locator('.auth-btn-wrapper .btn.modal-btn.auth.authorize').click();
      await modal.locator('.auth-btn-wrapper .btn-done').click();
      await modal.waitFor({ state: 'hidden' });

      // GET /v1/models → Try it out → Execute
      await models.locator('.opblock-summary').first().click();
      await models.locator('.try-out__btn').click();
      await models.locator('.btn.execute').click();
      const live = models.locator('.live-responses-table .response');
      await live.first().waitFor({ state: 'visible' });
      expect(await live.first().locator('.response-col_status').innerText()).toContain('200');
      const body = models.locator('.live-responses-table .response-col_description pre').first();
      expect(await body.innerText()).toContain('gpt-5.5');
      // the curl shown to the user carries the bearer key, so Authorize really took effect
      expect(await models.locator('.curl-command').innerText()).toContain(`Bearer ${server.adminKey}`);

      await page.screenshot({ path: SCREENSHOT, fullPage: true });

      // everything the page fetched came from this server, and nothing failed
      expect(log.requests.some((r) => r.endsWith('/docs-assets/swagger-ui-bundle.js'))).toBe(true);
      expect(log.requests.some((r) => r.endsWith('/docs-assets/swagger-ui.css'))).toBe(true);
      expect(log.requests.some((r) => r.endsWith('/docs/json'))).toBe(true);
      expect(log.requests).toContain(`GET ${server.url}/v1/models`);
      expect(log.offMachine).toEqual([]);
      expect(log.failed).toEqual([]);
      expect(log.httpErrors).toEqual([]);
      expect(log.consoleErrors).toEqual([]);
      expect(log.pageErrors).toEqual([]);
      await page.context().close();
    },
    60_000,
  );
});
