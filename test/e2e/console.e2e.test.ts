/// <reference lib="dom" />
/**
 * The example console (web/console/) in a real browser (Debian's Chromium driven by
 * playwright-core): the console's own server on one loopback port, the gateway on the embedded
 * simulator on another, so every GraphQL request is cross-origin. Every request that is not to
 * loopback is aborted and recorded. Subscriptions go over a WebSocket to the same gateway.
 * Screenshots go to test-results/console/.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

import { startApp, type App } from '../../src/app';
import { loadConfig } from '../../src/config';
import type { SimBackup, SimInstance } from '../../src/simulator/data';
import { startConsoleServer, type ConsoleServer } from '../../src/tools/console-server';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// The flags this machine needs: no sandbox as root, and no background calls to Google's hosts.
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ROOT = path.join(__dirname, '..', '..');
const OUT = path.join(ROOT, 'test-results', 'console');
/** The browser's zone: the simulator's times are +0800, so the table shows them as the console of that region would. */
const ZONE_OFFSET_MS = 8 * 3_600_000;
const UNKNOWN_INSTANCE = 'ffffffffffffffffffffffffffffffffin01';
/** Not the gateway's default project: a poll made for it shows the WebSocket carried the console's X-Project-Id. */
const LIVE_PROJECT = 'console0live0project';

interface Stack {
  app: App;
  web: ConsoleServer;
  instances: SimInstance[];
}

/** The gateway as `npm run console` starts it (with `env` on top), and the console's server for it (sending `headers`). */
async function startStack(env: Record<string, string> = {}, headers?: Record<string, string>): Promise<Stack> {
  const app = await startApp(loadConfig({ PORT: '0', LOG_LEVEL: 'silent', ...env }));
  const instances = app.simulator!.store.list();
  const web = await startConsoleServer({
    root: path.join(ROOT, 'dist', 'console'),
    settings: { graphqlUrl: `${app.gateway.url}/graphql`, headers, instances: instances.map(({ id, name }) => ({ id, name })) },
    port: 0,
  });
  return { app, web, instances };
}

/** What went wrong in the page: console errors and warnings, uncaught exceptions, failed or refused requests, requests off loopback. */
interface Trouble {
  consoleMessages: string[];
  failedRequests: string[];
  elsewhere: string[];
}

async function openConsole(browser: Browser, web: ConsoleServer): Promise<{ context: BrowserContext; page: Page; trouble: Trouble }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, timezoneId: 'Asia/Shanghai', locale: 'en-GB' });
  const trouble: Trouble = { consoleMessages: [], failedRequests: [], elsewhere: [] };
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || url.protocol === 'data:' || url.protocol === 'blob:') return route.continue();
    trouble.elsewhere.push(url.href);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('console', (message) => { if (message.type() === 'error' || message.type() === 'warning') trouble.consoleMessages.push(`${message.type()}: ${message.text()}`); });
  page.on('pageerror', (error) => trouble.consoleMessages.push(`uncaught: ${error.message}`));
  page.on('requestfailed', (request) => trouble.failedRequests.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`));
  page.on('response', (response) => { if (response.status() >= 400) trouble.failedRequests.push(`${response.request().method()} ${response.url()}: ${response.status()}`); });
  await page.goto(`${web.url}/`);
  return { context, page, trouble };
}

/** A datetime-local input's value for an instant, in the browser's zone (minutes, as the input shows them). */
function localInput(ms: number): string {
  return new Date(ms + ZONE_OFFSET_MS).toISOString().slice(0, 16);
}

function rowsOf(page: Page, instanceId: string): Promise<{ type: string; begin: string; name: string; size: string }[]> {
  return page.$$eval(`section[data-instance="${instanceId}"] tbody tr`, (rows) =>
    rows.map((row) => {
      const cells = Array.from(row.querySelectorAll('td'), (td) => td.textContent ?? '');
      return { type: cells[1]!, begin: row.querySelector('time')!.getAttribute('datetime')!, size: cells[3]!, name: cells[4]! };
    }),
  );
}

/** Waits until an instance's card has settled (no load in flight) with `count` of `total` backups. */
async function waitForRows(page: Page, instanceId: string, count: number, total: number): Promise<void> {
  const footer = `section[data-instance="${instanceId}"] footer`;
  const text = `${count} of ${total} backups`;
  const settled = ([selector, want]: readonly [string, string]) => {
    const element = document.querySelector(selector);
    return element?.querySelector('.count')?.textContent === want && !element.textContent!.includes('Loading');
  };
  try {
    await page.waitForFunction(settled, [footer, text] as const, { timeout: 15_000 });
  } catch (error) {
    const shown = await page.locator(footer).textContent().catch(() => null);
    throw new Error(`${instanceId}: waited for "${text}", the card shows ${JSON.stringify(shown)} (${String(error)})`);
  }
}

const inRange = (b: SimBackup, from: number, to: number) => b.beginTime >= from && b.beginTime <= to;

let browser: Browser;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-console.mjs')], { stdio: 'inherit' });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  fs.mkdirSync(OUT, { recursive: true });
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

describe('the example console', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack(); }, 30_000);
  afterAll(async () => {
    await stack?.web.close();
    await stack?.app.close();
  });

  it('pages through 1,234 backups, filters by type and time, and shows an unknown instance\'s NOT_FOUND beside working ones', async () => {
    const { page, context, trouble } = await openConsole(browser, stack.web);
    const large = stack.instances.find((i) => i.backups.length === 1234)!;
    const neighbour = stack.instances.at(-1)!;
    await waitForRows(page, large.id, 100, 1234);
    for (const instance of stack.instances) await waitForRows(page, instance.id, Math.min(100, instance.backups.length), instance.backups.length);
    await page.screenshot({ path: path.join(OUT, '1-first-pages.png') });

    // Newest first, with the type and status, a human size and a local time.
    const first = (await rowsOf(page, large.id))[0]!;
    expect(Date.parse(first.begin)).toBe(large.backups[0]!.beginTime);
    expect(first.size).toMatch(/^[\d.]+ (KB|MB|GB|TB)$/);
    expect(await page.locator(`section[data-instance="${large.id}"] tbody tr`).first().locator('td').first().innerText()).toContain('2026');

    // Load more, by cursor, to the end.
    const card = page.locator(`section[data-instance="${large.id}"]`);
    for (let shown = 100; shown < 1234;) {
      await card.getByRole('button', { name: 'Load more' }).click();
      shown = Math.min(shown + 100, 1234);
      await waitForRows(page, large.id, shown, 1234);
    }
    const all = await rowsOf(page, large.id);
    expect(all).toHaveLength(1234);
    expect(all.map((r) => Date.parse(r.begin))).toEqual(large.backups.map((b) => b.beginTime));
    expect(all.at(-1)!.name).toBe(large.backups.at(-1)!.name.trim());
    expect(await card.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    await card.locator('.rows').evaluate((rows) => { rows.scrollTop = rows.scrollHeight; });
    await card.screenshot({ path: path.join(OUT, '2-large-instance-at-the-end.png') });

    // An unknown instance: its error, with its code, on its own card; the others keep their rows.
    await page.fill('input[name="id"]', UNKNOWN_INSTANCE);
    await page.getByRole('button', { name: 'Add' }).click();
    const unknown = page.locator(`section[data-instance="${UNKNOWN_INSTANCE}"] .error`);
    await unknown.waitFor();
    expect(await unknown.innerText()).toMatch(/^NOT_FOUND /);
    // Its subscription ended with NOT_FOUND too: the card says it is not live (and nothing is logged).
    await page.locator(`section[data-instance="${UNKNOWN_INSTANCE}"] .live`, { hasText: 'not live' }).waitFor();
    await waitForRows(page, neighbour.id, neighbour.backups.length, neighbour.backups.length);
    await waitForRows(page, large.id, 1234, 1234);
    await page.locator(`section[data-instance="${UNKNOWN_INSTANCE}"]`).scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(OUT, '3-unknown-instance-not-found.png') });

    // Type filter: every card asks again, for AUTO backups only.
    await page.selectOption('select', 'AUTO');
    const autos = large.backups.filter((b) => b.type === 'auto');
    await waitForRows(page, large.id, Math.min(100, autos.length), autos.length);
    const autoRows = await rowsOf(page, large.id);
    expect(new Set(autoRows.map((r) => r.type))).toEqual(new Set(['AUTO']));
    expect(autoRows.map((r) => Date.parse(r.begin))).toEqual(autos.slice(0, 100).map((b) => b.beginTime));

    // And a time range (both ends; half a range is not sent).
    const from = large.backups[300]!.beginTime - 60_000;
    const to = large.backups[20]!.beginTime;
    await page.fill('input[name="from"]', localInput(from));
    expect(await page.locator('.hint').innerText()).toBe('Give both ends of the range.');
    await page.fill('input[name="to"]', localInput(to));
    // The inputs hold minutes: the range sent is [from, to] floored to the minute, both ends included.
    const expected = autos.filter((b) => inRange(b, Math.floor(from / 60_000) * 60_000, Math.floor(to / 60_000) * 60_000));
    expect(expected.length).toBeGreaterThan(5);
    await waitForRows(page, large.id, expected.length, expected.length);
    const ranged = await rowsOf(page, large.id);
    expect(new Set(ranged.map((r) => r.type))).toEqual(new Set(['AUTO']));
    expect(ranged.map((r) => Date.parse(r.begin))).toEqual(expected.map((b) => b.beginTime));
    expect(await page.locator(`section[data-instance="${UNKNOWN_INSTANCE}"] .error`).innerText()).toMatch(/^NOT_FOUND /);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(OUT, '4-filtered-auto-in-range.png') });

    // The budget, from the RateLimit header of the latest answer.
    expect(await page.locator('.budget').innerText()).toMatch(/^Upstream budget: \d+ of 60 calls left, full again in \d+ s$/);

    expect(trouble).toEqual({ consoleMessages: [], failedRequests: [], elsewhere: [] });
    await context.close();
  }, 120_000);
});

describe('the example console when the budget is spent', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ UPSTREAM_BUDGET_PER_MINUTE: '3' }); }, 30_000);
  afterAll(async () => {
    await stack?.web.close();
    await stack?.app.close();
  });

  it('shows RATE_LIMITED with a countdown on the cards it refused, and the rows of the others', async () => {
    const { page, context, trouble } = await openConsole(browser, stack.web);
    const limited = page.locator('section .error', { hasText: 'RATE_LIMITED' });
    // Every card answered: with its rows' count, or with its error.
    const answered = (cards: number) => document.querySelectorAll('section .error').length + document.querySelectorAll('section footer .count').length >= cards;
    await page.waitForFunction(answered, stack.instances.length, { timeout: 15_000 });
    expect(await limited.count()).toBe(stack.instances.length - 3);
    expect(await limited.first().innerText()).toMatch(/^RATE_LIMITED .* Retrying in \d+ s\.$/);
    expect(await page.locator('section footer .count').count()).toBe(3);
    // The latest answer read the budget after every card had spent its call or been refused.
    await page.locator('.budget', { hasText: /^Upstream budget: 0 of 3 calls left, full again in \d+ s$/ }).waitFor({ timeout: 5_000 });
    await page.screenshot({ path: path.join(OUT, '5-rate-limited-countdown.png') });
    expect(trouble).toEqual({ consoleMessages: [], failedRequests: [], elsewhere: [] });
    await context.close();
  }, 60_000);
});

describe('the example console with live changes', () => {
  let stack: Stack;
  // Polls take at most half the caller's budget, so with the default 60 calls a minute the five
  // cards' polls would stretch to one every 10 s each: a budget that pays for a poll every 200 ms.
  beforeAll(async () => { stack = await startStack({ LIVE_POLL_INTERVAL_MS: '200', UPSTREAM_BUDGET_PER_MINUTE: '6000' }, { 'X-Project-Id': LIVE_PROJECT }); }, 30_000);
  afterAll(async () => {
    await stack?.web.close();
    await stack?.app.close();
  });

  /** Waits for a poll of `instanceId` received after call `since` to have been answered: its rows are the subscription's baseline, or later. */
  async function polled(instanceId: string, since: number) {
    const answered = () => stack.app.simulator!.calls.summary(instanceId, since).calls.find((call) => call.endedAt !== undefined);
    while (!answered()) await new Promise((resolve) => setImmediate(resolve));
    return answered()!;
  }

  it('turns a BUILDING backup COMPLETED, adds a new one at the top and drops a removed one, with no reload', async () => {
    const { store, calls } = stack.app.simulator!;
    const instance = stack.instances.find((i) => i.backups.length > 0 && i.backups.length < 99)!;
    const [building] = store.insert(instance.id, 1, { status: 'BUILDING', name: 'live-demo-building' })!;
    const total = instance.backups.length;
    const { page, context, trouble } = await openConsole(browser, stack.web);
    const card = page.locator(`section[data-instance="${instance.id}"]`);
    const row = (name: string) => card.locator('tbody tr', { hasText: name });
    await row('live-demo-building').locator('.status', { hasText: 'BUILDING' }).waitFor();
    await waitForRows(page, instance.id, total, total);
    await card.locator('.live', { hasText: /^live$/ }).waitFor();
    // Set in this document: a reload or a navigation would lose it.
    await page.evaluate(() => { (window as unknown as { sameDocument: boolean }).sameDocument = true; });

    // The subscription polls with the project the console sends in its connection_init payload.
    expect((await polled(instance.id, calls.seq)).projectId).toBe(LIVE_PROJECT);
    store.setStatus(instance.id, building!.id, 'COMPLETED', { sizeKb: 2_097_152 });
    await row('live-demo-building').locator('.status', { hasText: 'COMPLETED' }).waitFor();
    expect(await row('live-demo-building').locator('td.size').innerText()).toBe('2 GB');

    // A new backup: ADDED, at the top, and the count follows the event's totalCount.
    store.insert(instance.id, 1, { status: 'BUILDING', name: 'live-demo-added' });
    await card.locator('tbody tr:first-child', { hasText: 'live-demo-added' }).waitFor();
    await waitForRows(page, instance.id, total + 1, total + 1);
    expect((await rowsOf(page, instance.id)).map((r) => r.name).slice(0, 2)).toEqual(['live-demo-added', 'live-demo-building']);
    await card.screenshot({ path: path.join(OUT, '6-live-completed-and-added.png') });

    // And REMOVED: the row goes.
    store.remove(instance.id, instance.backups[0]!.id);
    await waitForRows(page, instance.id, total, total);
    expect(await row('live-demo-added').count()).toBe(0);

    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    expect(trouble).toEqual({ consoleMessages: [], failedRequests: [], elsewhere: [] });
    await context.close();
  }, 60_000);
});
