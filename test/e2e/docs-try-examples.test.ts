/**
 * Swagger UI's "Try it out" in headless Chromium against the compiled binary on the
 * simulator (`serve --upstream mock`): for each JSON operation with a body, the body
 * Swagger UI pre-fills is the documented example, and executing it unchanged
 * answers 2xx. (docs-examples.test.ts submits every operation's example without a
 * browser; this proves Swagger UI itself picks the examples up.)
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { removeTempDirs, startServer, stopAllServers, type RunningServer } from '../support/binary';

const CHROMIUM = '/usr/bin/chromium';
const UI_TIMEOUT_MS = 15_000;
/** The JSON operations whose path has no parameter (those need an id the user types in). */
const OPERATIONS = ['/v1/responses', '/v1/responses/compact', '/v1/chat/completions', '/v1/codex/image-analysis', '/v1/images/generations', '/v1/codex/image-generation', '/admin/keys'];

let browser: Browser;
let server: RunningServer;
let doc: Record<string, any>;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run "make browser" (installs Debian's chromium package)`);
  server = await startServer({ args: ['--upstream', 'mock'] });
  doc = (await (await fetch(`${server.url}/docs/json`)).json()) as Record<string, any>;
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

describe('Swagger UI pre-fills working request bodies', () => {
  test(
    'each JSON operation: the pre-filled body is the documented example and executes with a 2xx',
    async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 1400 } });
      const page = await context.newPage();
      page.setDefaultTimeout(UI_TIMEOUT_MS);
      await page.goto(`${server.url}/docs`, { waitUntil: 'load' });
      await page.locator('.opblock').first().waitFor({ state: 'visible' });

      await page.locator('.auth-wrapper .btn.authorize').click();
      const modal = page.locator('.modal-ux');
      await modal.locator('input').first().fill(server.adminKey!);
      await modal.locator('.auth-btn-wrapper .btn.modal-btn.auth.authorize').click();
      await modal.locator('.auth-btn-wrapper .btn-done').click();
      await modal.waitFor({ state: 'hidden' });

      const results: Record<string, { prefilledIsExample: boolean; status: string }> = {};
      for (const path of OPERATIONS) {
        const op = page.locator('.opblock.opblock-post', { has: page.locator(`.opblock-summary-path[data-path="${path}"]`) });
        await op.locator('.opblock-summary').first().click();
        await op.locator('.try-out__btn').click();
        const prefilled = await op.locator('textarea.body-param__text').inputValue();
        const example = doc.paths[path].post.requestBody.content['application/json'].schema.example;
        await op.locator('.btn.execute').click();
        const live = op.locator('.live-responses-table .response');
        await live.first().waitFor({ state: 'visible' });
        results[path] = { prefilledIsExample: JSON.stringify(JSON.parse(prefilled)) === JSON.stringify(example), status: (await live.first().locator('.response-col_status').innerText()).trim() };
        await op.locator('.opblock-summary').first().click();
      }
      await context.close();
      for (const path of OPERATIONS) {
        expect({ path, ...results[path]!, status: results[path]!.status.slice(0, 1) }).toEqual({ path, prefilledIsExample: true, status: '2' });
      }
    },
    90_000,
  );
});
