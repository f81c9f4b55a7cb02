/// <reference lib="dom" />
/**
 * GraphiQL in a real browser (Debian's Chromium driven by playwright-core), on the gateway as
 * `npm start` runs it (embedded simulator). Every request to another origin is blocked and
 * recorded: the page must not need one. Writes a screenshot to a temporary folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { chromium, type Browser } from 'playwright-core';

import { startApp, type App } from '../../src/app';
import { loadConfig } from '../../src/config';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// The flags this machine needs: no sandbox as root, and no background calls to Google's hosts.
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const OUT = path.join(os.tmpdir(), 'rds-backup-graph-e2e');

let app: App;
let browser: Browser;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  app = await startApp(loadConfig({ PORT: '0', LOG_LEVEL: 'silent' }));
  await app.gateway.warmUp(); // as npm start does
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  fs.mkdirSync(OUT, { recursive: true });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

it('renders GraphiQL from the gateway alone, runs the example query, and documents Backup', async () => {
  const origin = app.gateway.url;
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const elsewhere: string[] = [];
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.origin === origin || url.protocol === 'data:' || url.protocol === 'blob:') return route.continue();
    elsewhere.push(url.href);
    return route.abort('blockedbyclient');
  });
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin !== origin && url.protocol !== 'data:' && url.protocol !== 'blob:' && !elsewhere.includes(url.href)) elsewhere.push(url.href);
  });
  const page = await context.newPage();

  const started = Date.now();
  await page.goto(`${origin}/graphql`);
  await page.waitForSelector('.graphiql-execute-button', { state: 'visible' });
  await page.waitForFunction(() => (document.querySelector('.graphiql-query-editor')?.textContent ?? '').includes('query Backups'));
  const interactiveMs = Date.now() - started;

  // The example query, with the example variables (a simulator instance), against the simulator.
  const firstInstance = app.simulator!.store.list()[0]!;
  await page.click('.graphiql-execute-button');
  await page.waitForFunction((id) => document.querySelector('.graphiql-response')?.textContent?.includes(id), firstInstance.backups[0]!.id, { timeout: 15_000 });
  // The editor renders only the lines in view: the top of the answer.
  const response = await page.innerText('.graphiql-response');
  expect(response).toContain(`"totalCount": ${firstInstance.backups.length}`);
  expect(response).toContain(`"name": "${firstInstance.backups[0]!.name}"`);
  const screenshot = path.join(OUT, 'graphiql-after-query.png');
  await page.screenshot({ path: screenshot });

  // The history remembers the operation that ran.
  await page.click('button[aria-label="Show History"]');
  await page.waitForSelector('.graphiql-history-item');
  expect(await page.innerText('.graphiql-history')).toContain('Backups');

  // The documentation explorer, down to Backup's field descriptions.
  await page.click('button[aria-label="Show Documentation Explorer"]');
  await page.click('.graphiql-doc-explorer-content a:text-is("Backup")');
  await page.waitForFunction(() => document.querySelector('.graphiql-doc-explorer-title')?.textContent === 'Backup');
  const docs = await page.innerText('.graphiql-doc-explorer');
  expect(docs).toContain('sizeKb');
  expect(docs).toContain('Size of the backup in KB');
  expect(docs).toContain('Null while the backup is BUILDING');
  await page.screenshot({ path: path.join(OUT, 'graphiql-docs-backup.png') });

  expect(elsewhere).toEqual([]);
  fs.writeFileSync(path.join(OUT, 'timing.json'), JSON.stringify({ interactiveMs }, null, 2));
  console.log(`GraphiQL interactive after ${interactiveMs} ms; screenshots in ${OUT}`);
  await context.close();
}, 90_000);
