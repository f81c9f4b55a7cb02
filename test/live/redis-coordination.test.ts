/**
 * One live poll per key across replicas: two LivePolls ("replicas" A and B), each with its own
 * RedisCoordination (its own connections) to a real redis-server, over one scripted upstream
 * that records which replica made each call, and one shared budget. One manual clock drives
 * both; it also waits for each replica's Redis commands at every instant, so nothing sleeps.
 * Redis expires keys on its own clock, which the test does not move: a dead replica's lock is
 * checked to expire within the TTL, then removed when the manual clock reaches that TTL.
 */
import { Writable } from 'node:stream';

import Redis from 'ioredis';

import { loadConfig } from '../../src/config';
import { createContextFactory, type GatewayContext } from '../../src/context';
import { createLogger } from '../../src/logger';
import { LivePolls, type LiveScheduler } from '../../src/live/polls';
import { RedisCoordination } from '../../src/live/redis-coordination';
import type { BackupChangeEvent } from '../../src/live/source';
import { createSharedUpstream } from '../../src/shared-upstream/client';
import { MemoryStore } from '../../src/shared-upstream/memory-store';
import { UpstreamHttpError } from '../../src/upstream/errors';
import { backupDto as dto, scriptedUpstream } from '../helpers/live';
import { startRedis, type RedisServer } from '../helpers/redis';
import { ManualScheduler, settle } from '../helpers/scheduler';

const INTERVAL = 10_000;

/** A replica's timers: `kill()` and none of them runs again (a replica that died, its lock left behind). */
class KillableScheduler implements LiveScheduler {
  private dead = false;
  constructor(private readonly inner: ManualScheduler) {}
  now(): number { return this.inner.now(); }
  setTimeout(run: () => void, ms: number): unknown { return this.inner.setTimeout(() => { if (!this.dead) run(); }, ms); }
  clearTimeout(handle: unknown): void { this.inner.clearTimeout(handle); }
  kill(): void { this.dead = true; }
}

let server: RedisServer;
let raw: Redis;
let scheduler: ManualScheduler;
let upstream: ReturnType<typeof scriptedUpstream>;
/** Which replica made each upstream call, and when. */
let calls: Array<{ replica: string; at: number }>;
const closing: Array<() => Promise<void>> = [];

/** A replica: its LivePolls over its own RedisCoordination; its log messages land in `log`. */
async function replica(name: string, { budget = new MemoryStore(undefined, { now: () => scheduler.now() }), ready = true } = {}) {
  const log: string[] = [];
  const logger = createLogger('info', new Writable({ write(chunk, _enc, done) { log.push(JSON.parse(String(chunk)).msg); done(); } }));
  const timers = new KillableScheduler(scheduler);
  const coordination = new RedisCoordination(server.url, { intervalMs: INTERVAL, logger, scheduler: timers });
  scheduler.waitFor.push(() => coordination.settled());
  if (ready) expect(await coordination.ready(10_000)).toBe(true);
  const shared = createSharedUpstream({
    client: { listBackups: (params, options) => { calls.push({ replica: name, at: scheduler.now() }); return upstream.client.listBackups(params, options); }, close() {} },
    store: budget, ttlMs: 5000, staleMs: 5000, budgetPerMinute: 60, now: () => scheduler.now(),
  });
  const contexts = createContextFactory({ config: loadConfig({}), client: shared, endpoint: 'http://127.0.0.1:9', defaultProjectId: 'p1', logger: createLogger('silent') });
  const context = (): GatewayContext => contexts({ requestId: 'req', started: 0, header: (header) => (header === 'x-auth-token' ? 'alice' : undefined) });
  const pollers: number[] = [];
  const polls = new LivePolls({ intervalMs: INTERVAL, budgetPerMinute: 60, maxKeys: 1000, scheduler: timers, coordination, onPollers: (active) => pollers.push(active) });
  closing.push(async () => { polls.close(); await coordination.close(); });
  const watch = (count: number): Array<AsyncIterableIterator<BackupChangeEvent>> => Array.from({ length: count }, () => polls.watch(context(), 'i1', {}));
  return { polls, coordination, timers, log, watch, pollers };
}

/** The next event of every watcher (waiting for it: from the other replica it comes through pub/sub), as text. */
const nextOfEach = async (watchers: Array<AsyncIterableIterator<BackupChangeEvent>>): Promise<Set<string>> => new Set(await Promise.all(watchers.map(async (watcher) => {
  const next = await watcher.next();
  return next.done ? 'done' : `${next.value.kind} ${next.value.backup.id} total=${next.value.totalCount}`;
})));

/**
 * The events queued in each watcher now, without waiting: for watchers of the replica that polls
 * (it tells its own at once). A `next()` still unanswered is kept for the following call.
 */
function readers(watchers: Array<AsyncIterableIterator<BackupChangeEvent>>): () => Promise<Set<string>> {
  const waiting = new Map<AsyncIterableIterator<BackupChangeEvent>, Promise<IteratorResult<BackupChangeEvent>>>();
  const queued = async (watcher: AsyncIterableIterator<BackupChangeEvent>): Promise<string> => {
    const seen: string[] = [];
    for (;;) {
      const next = waiting.get(watcher) ?? watcher.next();
      waiting.set(watcher, next);
      const result = await Promise.race([next, settle().then(() => null)]);
      if (result === null) return seen.join(', ');
      waiting.delete(watcher);
      seen.push(result.done ? 'done' : `${result.value.kind} ${result.value.backup.id} total=${result.value.totalCount}`);
    }
  };
  return async () => new Set(await Promise.all(watchers.map(queued)));
}

const rows = (...ns: number[]) => ns.map((n) => dto('i1', n));
const lockKeys = async (): Promise<string[]> => raw.keys('rbg:live:*:lock');

beforeEach(async () => {
  server = await startRedis();
  raw = new Redis(server.url);
  scheduler = new ManualScheduler();
  upstream = scriptedUpstream();
  calls = [];
});
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
  raw.disconnect();
  await server.stop();
});

/** A and B with 50 watchers each of one key, A polling (it joined first), after the baseline. */
async function twoReplicas() {
  const budget = new MemoryStore(undefined, { now: () => scheduler.now() }); // the identity's one budget, as Redis shares it
  const [a, b] = [await replica('A', { budget }), await replica('B', { budget })];
  upstream.rows.set('i1', rows(2, 1));
  const watchersA = a.watch(50);
  await scheduler.advance(0);
  const watchersB = b.watch(50);
  await scheduler.advance(0);
  return { a, b, watchersA, watchersB, all: [...watchersA, ...watchersB] };
}

describe('RedisCoordination: one poll per key across replicas', () => {
  it('makes one upstream call per interval for 100 watchers on two replicas, and tells all of them each change', async () => {
    const { a, b, all } = await twoReplicas();
    expect(calls.map((c) => c.replica)).toEqual(['A']);
    upstream.rows.set('i1', [dto('i1', 3), dto('i1', 2, 'FAILED'), dto('i1', 1)]);
    await scheduler.advance(INTERVAL);
    expect(await nextOfEach(all)).toEqual(new Set(['ADDED i1-b3 total=3']));
    expect(await nextOfEach(all)).toEqual(new Set(['UPDATED i1-b2 total=3']));
    upstream.rows.set('i1', rows(3, 1));
    await scheduler.advance(INTERVAL);
    expect(await nextOfEach(all)).toEqual(new Set(['REMOVED i1-b2 total=2']));
    await scheduler.advance(3 * INTERVAL);
    expect(calls.map((c) => c.replica)).toEqual(['A', 'A', 'A', 'A', 'A', 'A']);
    expect(calls.map((c) => c.at - calls[0]!.at)).toEqual([0, 1, 2, 3, 4, 5].map((n) => n * INTERVAL));
    expect([a.polls.activeKeys, b.polls.activeKeys]).toEqual([1, 1]);
    expect([a.pollers, b.pollers]).toEqual([[1], []]); // the metric counts the keys a replica polls, not those it follows
    expect(await lockKeys()).toHaveLength(1);
  });

  it('has another replica take over within two intervals when the polling one dies, with no spurious event and no lost change', async () => {
    const { a, watchersB } = await twoReplicas();
    const [lock] = await lockKeys();
    const ttl = await raw.pttl(lock!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(INTERVAL / 2);
    const lastPoll = calls.at(-1)!.at;
    await scheduler.advance(INTERVAL - 1);
    a.timers.kill(); // just before its next poll: the worst moment; its lock stays behind
    upstream.rows.set('i1', [dto('i1', 3), dto('i1', 2, 'FAILED'), dto('i1', 1)]);
    await scheduler.advance(INTERVAL / 2); // A renewed its lock last at or before its death: it has expired by now...
    await raw.del(lock!); // ...which Redis, on its own clock, would have done
    await scheduler.advance(INTERVAL / 2);
    expect(calls.map((c) => c.replica)).toEqual(['A', 'B']);
    expect(calls[1]!.at - lastPoll).toBeLessThanOrEqual(2 * INTERVAL);
    // B's first poll went on from A's last window: only what changed since, not ADDED for the whole window.
    const queuedB = readers(watchersB);
    expect(await queuedB()).toEqual(new Set(['ADDED i1-b3 total=3, UPDATED i1-b2 total=3']));
    upstream.rows.set('i1', [dto('i1', 4), dto('i1', 3), dto('i1', 2, 'FAILED'), dto('i1', 1)]);
    await scheduler.advance(INTERVAL);
    expect(await queuedB()).toEqual(new Set(['ADDED i1-b4 total=4']));
    expect(calls.map((c) => c.replica)).toEqual(['A', 'B', 'B']);
    expect(await raw.pttl(lock!)).toBeGreaterThan(0);
  });

  it('hands the poll over when the polling replica\'s watchers leave, and stops it and releases the lock when all have left', async () => {
    const { a, b, watchersA, watchersB } = await twoReplicas();
    await Promise.all(watchersA.map((watcher) => watcher.return!()));
    upstream.rows.set('i1', rows(3, 2, 1));
    await scheduler.advance(INTERVAL);
    expect(calls.map((c) => c.replica)).toEqual(['A', 'B']);
    expect(calls[1]!.at - calls[0]!.at).toBeLessThan(INTERVAL); // taken at B's next tick, not at the lock's expiry
    expect(await readers(watchersB)()).toEqual(new Set(['ADDED i1-b3 total=3']));
    await Promise.all(watchersB.map((watcher) => watcher.return!()));
    await scheduler.advance(0);
    expect(await lockKeys()).toEqual([]);
    expect(await raw.pubsub('NUMSUB', 'rbg:live:*')).toEqual(['rbg:live:*', 0]);
    expect(await raw.pubsub('CHANNELS')).toEqual([]);
    await scheduler.advance(5 * INTERVAL);
    expect(calls).toHaveLength(2);
    expect([a.polls.activeKeys, b.polls.activeKeys]).toEqual([0, 0]);
    expect([a.pollers, b.pollers]).toEqual([[1, 0], [1, 0]]);
  });

  it('ends the watchers of every replica when the poll ends the watch (NOT_FOUND), and releases the lock', async () => {
    const { all } = await twoReplicas();
    upstream.failures.set('i1', new UpstreamHttpError(404, 'DBS.200823', 'r'));
    await scheduler.advance(INTERVAL);
    const codes = await Promise.all(all.map((watcher) => watcher.next().then(() => 'no error', (error: { extensions: { code: string } }) => error.extensions.code)));
    expect(new Set(codes)).toEqual(new Set(['NOT_FOUND']));
    await scheduler.advance(INTERVAL);
    expect(await lockKeys()).toEqual([]);
    expect(calls).toHaveLength(2);
  });
});

describe('RedisCoordination without Redis', () => {
  it('keeps the poll with its holder through a Redis that stops answering for a moment, and its changes still reach every replica', async () => {
    const { all } = await twoReplicas();
    const start = calls[0]!.at;
    await scheduler.advance(INTERVAL - 2000);
    server.pause(); // the next tick's commands time out: A goes on polling alone, B starts polling alone (a baseline)
    await scheduler.advance(1000);
    server.resume();
    upstream.rows.set('i1', rows(3, 2, 1));
    await scheduler.advance(INTERVAL);
    // A's poll, still alone, finds its lock and publishes; B, alone too, tells its watchers, then follows.
    expect(calls.map((c) => `${c.replica} ${c.at - start}`)).toEqual(['A 0', expect.stringMatching(/^B [89]\d{3}$/), 'A 10000']);
    expect(await nextOfEach(all)).toEqual(new Set(['ADDED i1-b3 total=3']));
    calls.length = 0;
    upstream.rows.set('i1', rows(4, 3, 2, 1));
    await scheduler.advance(3 * INTERVAL);
    expect(calls.map((c) => c.replica)).toEqual(['A', 'A', 'A']);
    expect(await nextOfEach(all)).toEqual(new Set(['ADDED i1-b4 total=4']));
  });

  it('lets each replica poll alone, its watchers still told each change, says so once, and shares the poll again once Redis is back', async () => {
    const [a, b] = [await replica('A'), await replica('B')];
    await server.stop();
    upstream.rows.set('i1', rows(1));
    const [watchersA, watchersB] = [a.watch(3), b.watch(3)];
    await scheduler.advance(0);
    upstream.rows.set('i1', rows(2, 1));
    await scheduler.advance(INTERVAL);
    expect(calls.map((c) => c.replica).sort()).toEqual(['A', 'A', 'B', 'B']);
    expect(await nextOfEach([...watchersA, ...watchersB])).toEqual(new Set(['ADDED i1-b2 total=2']));
    await scheduler.advance(INTERVAL);
    expect(a.log.filter((line) => line.startsWith('redis'))).toEqual(['redis unreachable: live keys polled by this replica alone']);
    await server.restart();
    expect([await a.coordination.ready(10_000), await b.coordination.ready(10_000)]).toEqual([true, true]);
    await scheduler.advance(INTERVAL); // a tick finds Redis: one replica takes the lock, the other follows
    calls.length = 0;
    upstream.rows.set('i1', rows(3, 2, 1));
    await scheduler.advance(INTERVAL);
    expect(calls).toHaveLength(1);
    expect(await nextOfEach([...watchersA, ...watchersB])).toEqual(new Set(['ADDED i1-b3 total=3']));
    expect(a.log.filter((line) => line.startsWith('redis')).at(-1)).toBe('redis reachable: one live poll per key across replicas');
  });
});
