/**
 * The Redis store against a real redis-server: what two replicas share, what stays apart, and
 * how health follows what Redis does now (down, slow, back).
 */
import { Writable } from 'node:stream';

import Redis from 'ioredis';

import { createLogger } from '../../src/logger';
import { RedisStore } from '../../src/shared-upstream/redis-store';
import type { CachedPage } from '../../src/shared-upstream/store';
import { startRedis, type RedisServer } from '../helpers/redis';

const page = (name: string): CachedPage => ({ body: { backups: [], total_count: name.length }, requestId: name, fetchedAt: 1 });
const t0 = Date.UTC(2026, 0, 1);

let server: RedisServer;
let raw: Redis;
const stores: RedisStore[] = [];

/** A replica's store; its log lines, as messages, land in `log`. */
async function replica(options: ConstructorParameters<typeof RedisStore>[2] = {}, log: string[] = []): Promise<RedisStore> {
  const destination = new Writable({ write(chunk, _enc, done) { log.push(JSON.parse(String(chunk)).msg); done(); } });
  const store = new RedisStore(server.url, createLogger('info', destination), options);
  stores.push(store);
  expect(await store.ready(10_000)).toBe(true);
  return store;
}

beforeEach(async () => {
  server = await startRedis();
  raw = new Redis(server.url);
});
afterEach(async () => {
  server.resume();
  for (const store of stores.splice(0)) await store.close();
  raw.disconnect();
  await server.stop();
});

describe('RedisStore pages', () => {
  it('keeps a page in Redis for keepMs, where another replica reads it', async () => {
    const [one, two] = [await replica(), await replica()];
    await one.setPage('k', page('k'), 5000);
    expect(await two.getPage('k')).toEqual(page('k'));
    expect(await two.getPage('other')).toBeUndefined();
    const [key, ...more] = await raw.keys('rbg:page:*');
    expect(more).toEqual([]);
    const ttl = await raw.pttl(key!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5000);
  });

  it('treats a page it cannot read as a miss, and Redis as healthy still', async () => {
    const store = await replica();
    await store.setPage('k', page('k'), 5000);
    const [key] = await raw.keys('rbg:page:*');
    await raw.set(key!, '{"body": not json');
    const other = await replica(); // no local copy: what it reads comes from Redis
    expect(await other.getPage('k')).toBeUndefined();
    expect(other.status()).toEqual({ backend: 'redis', healthy: true });
  });

  it('keeps each prefix to itself', async () => {
    const [a, b] = [await replica({ prefix: 'a:' }), await replica({ prefix: 'b:' })];
    await a.setPage('k', page('a'), 5000);
    expect(await b.getPage('k')).toBeUndefined();
    expect(await a.takeBudget('alice', 1, t0)).toEqual({ ok: true, remaining: 0 });
    expect(await b.takeBudget('alice', 1, t0)).toEqual({ ok: true, remaining: 0 });
    expect(await a.takeBudget('alice', 1, t0)).toEqual({ ok: false, retryAfterSeconds: 60 });
    expect((await raw.keys('*')).sort()).toEqual(['a:budget:alice', expect.stringMatching(/^a:page:/), 'b:budget:alice']);
  });
});

describe('RedisStore.takeBudget()', () => {
  it('shares one sliding 60 s window between two replicas', async () => {
    const [one, two] = [await replica(), await replica()];
    expect(await one.takeBudget('alice', 3, t0)).toEqual({ ok: true, remaining: 2 });
    expect(await two.takeBudget('alice', 3, t0 + 10_000)).toEqual({ ok: true, remaining: 1 });
    expect(await one.takeBudget('alice', 3, t0 + 20_000)).toEqual({ ok: true, remaining: 0 });
    expect(await two.takeBudget('alice', 3, t0 + 25_000)).toEqual({ ok: false, retryAfterSeconds: 35 });
    expect(await two.takeBudget('bob', 3, t0 + 25_000)).toEqual({ ok: true, remaining: 2 }); // identities are apart
    expect(await two.takeBudget('alice', 3, t0 + 60_000)).toEqual({ ok: true, remaining: 0 }); // the first call left the window
    expect(await one.takeBudget('alice', 3, t0 + 60_001)).toEqual({ ok: false, retryAfterSeconds: 10 });
  });
});

describe('RedisStore health', () => {
  it('serves from memory while Redis is down, and from Redis again when it returns, logging each change once', async () => {
    const log: string[] = [];
    const store = await replica({}, log);
    await store.setPage('k', page('k'), 60_000);
    await server.stop();
    expect(await store.getPage('k')).toEqual(page('k')); // this replica's own copy
    expect(await store.takeBudget('alice', 1, t0)).toEqual({ ok: true, remaining: 0 });
    expect(await store.takeBudget('alice', 1, t0)).toEqual({ ok: false, retryAfterSeconds: 60 }); // its own budget, kept
    expect(store.status()).toEqual({ backend: 'redis', healthy: false });

    await server.restart(); // empty: what the store reads now comes from Redis
    expect(await store.ready(10_000)).toBe(true);
    expect(await store.getPage('k')).toBeUndefined();
    expect(await store.takeBudget('alice', 1, t0)).toEqual({ ok: true, remaining: 0 });
    expect(store.status()).toEqual({ backend: 'redis', healthy: true });
    expect(log.filter((m) => /^redis/.test(m)).map((m) => m.split(':')[0])).toEqual(['redis reachable', 'redis unreachable', 'redis reachable']);
  });

  it('is shared again on the first command after a slow one, once the back-off has passed', async () => {
    let clock = t0;
    const log: string[] = [];
    const store = await replica({ retryAfterMs: 1000, clock: () => clock }, log);
    const other = await replica();

    server.pause();
    expect(await store.getPage('k')).toBeUndefined(); // timed out: answered from memory
    expect(store.status().healthy).toBe(false);
    server.resume(); // the connection never dropped: no 'ready' event comes

    await other.setPage('k', page('in redis'), 60_000);
    clock += 999;
    expect(await store.getPage('k')).toBeUndefined(); // within the back-off: memory, Redis left alone
    expect(store.status().healthy).toBe(false);
    clock += 1;
    expect(await store.getPage('k')).toEqual(page('in redis'));
    expect(store.status().healthy).toBe(true);
    expect(await store.takeBudget('alice', 2, t0)).toEqual({ ok: true, remaining: 1 });
    expect(await other.takeBudget('alice', 2, t0)).toEqual({ ok: true, remaining: 0 }); // one budget again
    expect(log.filter((m) => /^redis/.test(m)).map((m) => m.split(':')[0])).toEqual(['redis reachable', 'redis unreachable', 'redis reachable']);
  });

  it('probe() judges Redis afresh: unhealthy while it does not answer, healthy as soon as it does', async () => {
    const store = await replica({ commandTimeoutMs: 100 });
    server.pause();
    expect(await store.probe()).toEqual({ backend: 'redis', healthy: false });
    expect(store.status().healthy).toBe(false);
    server.resume();
    expect(await store.probe()).toEqual({ backend: 'redis', healthy: true });
    expect(store.status().healthy).toBe(true);
  });
});
