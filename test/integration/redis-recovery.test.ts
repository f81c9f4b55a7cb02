/**
 * One slow Redis command (redis-server stopped for a moment, its connection never dropped) must
 * not leave a replica on its own budget and unready for good: health follows what Redis does now.
 */
import Redis from 'ioredis';

import { rawRequest } from '../helpers/http';
import { startRedis, type RedisServer } from '../helpers/redis';
import { startStack, type Stack } from '../helpers/stack';

const PAGE = 'query($id: ID!) { backups(instanceId: $id, first: 2) { totalCount } }';

/** Polls `check` until it holds; the deadline only ends a test that would otherwise hang. */
async function eventually(check: () => Promise<boolean>, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a gateway after one slow Redis command', () => {
  let redis: RedisServer;
  let raw: Redis;
  let stack: Stack;
  let instance: string;
  const readyz = () => rawRequest(stack.gateway.url, '/readyz');

  beforeEach(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
    // Commands time out at 1 s, not 250 ms: only the pause below, never a loaded machine, is slow.
    stack = await startStack({ env: { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '1000' } });
    instance = stack.sim.store.list()[0]!.id;
    expect((await readyz()).json()).toMatchObject({ status: 'ready', store: 'redis' });

    redis.pause();
    const served = await stack.gql(PAGE, { id: instance }); // its Redis commands time out: memory
    expect(served.body.data.backups.totalCount).toBe(1234);
    expect(stack.app.store.status().healthy).toBe(false);
    redis.resume();
  });
  afterEach(async () => {
    redis.resume();
    await stack.close();
    raw.disconnect();
    await redis.stop();
  });

  it('is ready again at /readyz once Redis answers', async () => {
    await eventually(async () => (await readyz()).status === 200);
    expect((await readyz()).json()).toMatchObject({ status: 'ready', store: 'redis' });
    expect(stack.app.store.status()).toEqual({ backend: 'redis', healthy: true });
  });

  it('shares its budget through Redis again after the next queries, with no /readyz asked', async () => {
    await eventually(async () => {
      await stack.gql(PAGE, { id: instance });
      return stack.app.store.status().healthy;
    });
    // Named, not listed: the query that made the store shared may have taken its budget from
    // memory (its page command succeeded after), so the key may not exist yet.
    const budgetKey = 'rbg:budget:anonymous';
    const before = await raw.zcard(budgetKey);
    expect((await stack.gql(PAGE, { id: instance })).body.data.backups.totalCount).toBe(1234); // one upstream call
    expect(await raw.zcard(budgetKey)).toBe(before + 1);
    expect(await raw.keys('rbg:budget:*')).toEqual([budgetKey]);
    const changes = stack.logs.map((line) => JSON.parse(line).msg as string).filter((m) => /^redis (un)?reachable/.test(m)).map((m) => m.split(':')[0]);
    expect(changes).toEqual(['redis reachable', 'redis unreachable', 'redis reachable']);
    expect((await readyz()).status).toBe(200);
  });
});
