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

describe('RedisStore.readBudget()', () => {
  it('reads the shared window without spending it', async () => {
    const [one, two] = [await replica(), await replica()];
    expect(await one.readBudget('alice', 3, t0)).toEqual({ remaining: 3, resetSeconds: 0 });
    await one.takeBudget('alice', 3, t0);
    await two.takeBudget('alice', 3, t0 + 10_000);
    expect(await two.readBudget('alice', 3, t0 + 15_000)).toEqual({ remaining: 1, resetSeconds: 45 });
    expect(await one.readBudget('alice', 3, t0 + 15_000)).toEqual({ remaining: 1, resetSeconds: 45 }); // spent nothing
    expect(await one.readBudget('bob', 3, t0 + 15_000)).toEqual({ remaining: 3, resetSeconds: 0 });
    expect(await one.readBudget('alice', 3, t0 + 60_000)).toEqual({ remaining: 2, resetSeconds: 10 }); // the first call left the window
    await one.takeBudget('alice', 3, t0 + 60_000);
    await one.takeBudget('alice', 3, t0 + 60_000);
    expect(await two.readBudget('alice', 3, t0 + 60_000)).toEqual({ remaining: 0, resetSeconds: 10 }); // = takeBudget's retryAfterSeconds
    expect(await two.takeBudget('alice', 3, t0 + 60_000)).toEqual({ ok: false, retryAfterSeconds: 10 });
  });

  it('is one command, and writes nothing', async () => {
    const store = await replica();
    await store.takeBudget('alice', 3, t0);
    await store.readBudget('alice', 3, t0); // loads the script on this connection (EVALSHA, then EVAL once)
    const monitor = await raw.monitor();
    const seen: Array<{ command: string; source: string }> = [];
    const ended = new Promise<void>((resolve) => monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (String(args[0]).toLowerCase() === 'echo') resolve();
      else seen.push({ command: String(args[0]).toLowerCase(), source });
    }));
    expect(await store.readBudget('alice', 3, t0 + 1000)).toEqual({ remaining: 2, resetSeconds: 59 });
    await raw.echo('end');
    await ended;
    monitor.disconnect();
    expect(seen.filter((c) => c.source !== 'lua').map((c) => c.command)).toEqual(['evalsha']);
    expect(seen.filter((c) => c.source === 'lua').map((c) => c.command)).toEqual(['zcount', 'zrangebyscore']);
  });

  it('reads this replica\'s own budget while Redis is down, within the command timeout', async () => {
    const store = await replica({ commandTimeoutMs: 100 });
    server.pause(); // a hung Redis: the read gives up after the timeout and answers from memory
    expect(await store.takeBudget('alice', 3, t0)).toEqual({ ok: true, remaining: 2 });
    expect(await store.readBudget('alice', 3, t0 + 1000)).toEqual({ remaining: 2, resetSeconds: 59 });
    expect(store.status().healthy).toBe(false);
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
