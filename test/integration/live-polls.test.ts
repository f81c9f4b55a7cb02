/**
 * LivePolls against the simulator over real HTTP: a real gateway context (createContextFactory
 * over the shared upstream and the upstream client), changes made through the simulator's admin
 * routes, polls driven by a manual scheduler. The test waits for events or for a poll's outcome,
 * never for time.
 */
import { loadConfig } from '../../src/config';
import { createContextFactory, type GatewayContext } from '../../src/context';
import { createLogger } from '../../src/logger';
import { LivePolls, type LivePollOutcome } from '../../src/live/polls';
import type { BackupChangeEvent } from '../../src/live/source';
import { createSharedUpstream } from '../../src/shared-upstream/client';
import { MemoryStore } from '../../src/shared-upstream/memory-store';
import { createUpstreamClient, type UpstreamClient } from '../../src/upstream/client';
import type { Simulator } from '../../src/simulator/server';
import { rawRequest } from '../helpers/http';
import { ManualScheduler } from '../helpers/scheduler';
import { PROJECT, adminInstances, withSimulator } from '../helpers/simulator';

const INTERVAL = 10_000;

describe('LivePolls over the simulator', () => {
  let sim: Simulator;
  let client: UpstreamClient;
  let scheduler: ManualScheduler;
  let polls: LivePolls;
  let context: () => GatewayContext;
  let instanceId: string;
  const outcomes: LivePollOutcome[] = [];
  const outcomeWaiters: Array<() => void> = [];

  /** Resolves once `n` polls have had an outcome. */
  const polled = async (n: number): Promise<void> => {
    while (outcomes.length < n) await new Promise<void>((wake) => outcomeWaiters.push(wake));
  };
  const admin = async (path: string, method: string, body?: unknown) => {
    const res = await rawRequest(sim.url, `/__admin/${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    return res.json();
  };
  const upstreamCalls = async (instance: string): Promise<number> => (await admin(`calls?instanceId=${instance}`, 'GET')).count;

  beforeEach(async () => {
    sim = await withSimulator();
    instanceId = (await adminInstances(sim))[0]!.id;
    // A cache that would answer every query for a minute: the polls must read past it.
    client = createSharedUpstream({
      client: createUpstreamClient({ endpoint: sim.url, timeoutMs: 5000, retries: 0 }), store: new MemoryStore(), ttlMs: 60_000, staleMs: 0, budgetPerMinute: 1000,
    });
    const config = loadConfig({ RDS_ENDPOINT: sim.url, HUAWEICLOUD_SDK_PROJECT_ID: PROJECT, UPSTREAM_CACHE_TTL_MS: '60000', UPSTREAM_BUDGET_PER_MINUTE: '1000' });
    const contexts = createContextFactory({ config, client, endpoint: sim.url, defaultProjectId: PROJECT, logger: createLogger('silent') });
    context = () => contexts({ requestId: 'live', started: 0, header: () => undefined });
    scheduler = new ManualScheduler();
    outcomes.length = 0;
    polls = new LivePolls({
      intervalMs: INTERVAL, budgetPerMinute: 1000, maxKeys: 10, scheduler,
      onPoll: (outcome) => { outcomes.push(outcome); outcomeWaiters.splice(0).forEach((wake) => wake()); },
    });
  });

  afterEach(async () => {
    polls.close();
    client.close();
    await sim.close();
  });

  /** Starts watching and lets the baseline poll finish. */
  async function watching(count = 1): Promise<Array<AsyncIterableIterator<BackupChangeEvent>>> {
    const watchers = Array.from({ length: count }, () => polls.watch(context(), instanceId, {}));
    await scheduler.advance(0);
    await polled(1);
    return watchers;
  }

  /** Runs the next poll and waits for its outcome. */
  async function nextPoll(): Promise<void> {
    const before = outcomes.length;
    await scheduler.advance(INTERVAL);
    await polled(before + 1);
  }

  it('tells every watcher UPDATED after the simulator changes a backup\'s status, for one upstream call per poll', async () => {
    const watchers = await watching(3);
    const newest = (await context().backups.connection(instanceId, { first: 1 })).nodes[0]!;
    const status = newest.status === 'FAILED' ? 'COMPLETED' : 'FAILED';
    await admin(`instances/${instanceId}/backups/${newest.id}`, 'PATCH', { status });
    await nextPoll();
    for (const watcher of watchers) {
      const { value } = await watcher.next();
      expect(value).toMatchObject({ kind: 'UPDATED', backup: { id: newest.id, status } });
      expect(value!.totalCount).toBeGreaterThan(0);
    }
    expect(await upstreamCalls(instanceId)).toBe(2); // the baseline and this poll: one each, for three watchers (the query was a cache hit)
    expect(outcomes).toEqual(['ok', 'ok']);
  });

  it('tells ADDED after the simulator adds a backup, newest first, with the total of that poll', async () => {
    const [watcher] = await watching();
    const before = (await context().backups.connection(instanceId, { first: 1 })).totalCount;
    const created: Array<{ id: string }> = await admin(`instances/${instanceId}/backups`, 'POST', { count: 2, status: 'BUILDING' });
    await nextPoll();
    const first = (await watcher!.next()).value!;
    const second = (await watcher!.next()).value!;
    expect([first.kind, first.backup.id, first.backup.status, first.totalCount]).toEqual(['ADDED', created[1]!.id, 'BUILDING', before + 2]);
    expect([second.kind, second.backup.id]).toEqual(['ADDED', created[0]!.id]);
  });

  it('refreshes the page cache that queries read', async () => {
    await watching();
    const newest = (await context().backups.connection(instanceId, { first: 1 })).nodes[0]!;
    const status = newest.status === 'FAILED' ? 'COMPLETED' : 'FAILED';
    await admin(`instances/${instanceId}/backups/${newest.id}`, 'PATCH', { status });
    expect((await context().backups.connection(instanceId, { first: 1 })).nodes[0]!.status).toBe(newest.status); // cached for a minute
    await nextPoll();
    expect((await context().backups.connection(instanceId, { first: 1 })).nodes[0]!.status).toBe(status);
  });

  it('ends the watch with NOT_FOUND for an instance that does not exist, and polls it no more', async () => {
    const watcher = polls.watch(context(), 'nosuchinstance', {});
    await scheduler.advance(0);
    await polled(1);
    await expect(watcher.next()).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND', upstream: { status: 404 } } });
    await scheduler.advance(3 * INTERVAL);
    expect(await upstreamCalls('nosuchinstance')).toBe(1);
    expect(outcomes).toEqual(['ended']);
  });

  it('stops calling once every watcher has left', async () => {
    const watchers = await watching(2);
    await Promise.all(watchers.map((w) => w.return!()));
    expect(polls.activeKeys).toBe(0);
    await scheduler.advance(5 * INTERVAL);
    expect(await upstreamCalls(instanceId)).toBe(1);
    expect(outcomes).toEqual(['ok']);
  });
});
