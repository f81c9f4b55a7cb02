/**
 * Respecting the upstream's 60 calls a minute: coalescing, the shared cache and the budget,
 * against the simulator with its throttling on (60/min per caller).
 */
import type { ChildProcess } from 'node:child_process';

import { rawRequest } from '../helpers/http';
import { startGatewayProcess } from '../helpers/process';
import { startRedis, type RedisServer } from '../helpers/redis';
import { PROJECT, withSimulator } from '../helpers/simulator';
import { startStack, type Stack } from '../helpers/stack';

const PAGE = 'query($id: ID!) { backups(instanceId: $id, first: 20) { totalCount nodes { id } } }';
const codes = (body: any): string[] => (body.errors ?? []).map((e: any) => e.extensions.code);
const logLines = (stack: Stack, msg: string): any[] => stack.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === msg);

/** Resolves once the gateway has logged `msg` (checked as lines arrive; a generous bound only for a hang). */
async function logLine(stack: Stack, msg: string): Promise<void> {
  for (const giveUp = Date.now() + 10_000; logLines(stack, msg).length === 0;) {
    if (Date.now() > giveUp) throw new Error(`no log line '${msg}'`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('one gateway', () => {
  let clock = Date.UTC(2026, 10, 26, 12, 0, 0);
  const now = (): number => clock;
  let stack: Stack;
  let instance: string;

  beforeEach(async () => {
    clock += 10 * 60_000; // a fresh minute for every test
    stack = await startStack({
      env: { UPSTREAM_CACHE_TTL_MS: '5000', UPSTREAM_CACHE_STALE_MS: '5000', UPSTREAM_BUDGET_PER_MINUTE: '60' },
      simulator: { rateLimitPerMinute: 60, now, auth: { tokens: ['alice', 'bob'] } },
      now,
    });
    instance = stack.sim.store.list()[1]!.id;
  });
  afterEach(() => stack.close());

  const alice = { 'X-Auth-Token': 'alice' };

  it('sends 200 concurrent identical queries upstream once', async () => {
    // Slow enough that all 200 have joined before the upstream answers, even on a loaded machine.
    await stack.setFaults([{ kind: 'latency', latencyMs: 1500 }]);
    const answers = await Promise.all(Array.from({ length: 200 }, () => stack.gql(PAGE, { id: instance }, alice)));
    expect(answers.every((a) => a.body.data?.backups.totalCount === 240)).toBe(true);
    expect((await stack.calls()).count).toBe(1);
  });

  it('serves 50 clients polling every second for a minute within the budget, never RATE_LIMITED', async () => {
    let answered = 0;
    for (let second = 0; second < 60; second++) {
      clock += 1000;
      const round = await Promise.all(Array.from({ length: 50 }, () => stack.gql(PAGE, { id: instance }, alice)));
      for (const r of round) {
        expect(codes(r.body)).toEqual([]);
        expect(r.body.data.backups.totalCount).toBe(240);
      }
      answered += round.length;
    }
    const log = await stack.calls();
    expect(answered).toBe(3000);
    expect(log.count).toBeLessThanOrEqual(60);
    expect(log.count).toBeLessThanOrEqual(13); // one refresh per TTL: 60 s / 5 s, plus the first
    expect(log.calls.filter((c: any) => c.status === 429)).toEqual([]);
  });

  it('says in each operation\'s log line whether its upstream call was its own or shared with another request', async () => {
    await stack.setFaults([{ kind: 'latency', latencyMs: 1500 }]); // all five join before it answers
    stack.logs.length = 0;
    const answers = await Promise.all(Array.from({ length: 5 }, () => stack.gql(PAGE, { id: instance }, alice)));
    expect(answers.map((a) => a.body.data.backups.totalCount)).toEqual(Array(5).fill(240));
    expect((await stack.calls()).count).toBe(1);
    const counted = logLines(stack, 'graphql operation').map((l) => [l.upstreamCalls, l.upstreamShared]).sort();
    expect(counted).toEqual([[0, 1], [0, 1], [0, 1], [0, 1], [1, 0]]);
  });

  it('never shares cached pages between identities', async () => {
    const a = await stack.gql(PAGE, { id: instance }, alice);
    const b = await stack.gql(PAGE, { id: instance }, { 'X-Auth-Token': 'bob' });
    const m = await stack.gql(PAGE, { id: instance }, { 'X-Auth-Token': 'mallory' });
    expect(a.body.data.backups.totalCount).toBe(240);
    expect(b.body.data.backups.totalCount).toBe(240);
    expect(m.body.data.backups).toBeNull();
    expect(codes(m.body)).toEqual(['UNAUTHENTICATED']);
    const log = await stack.calls();
    expect(log.calls.map((c: any) => c.status)).toEqual([200, 200, 401]);
    expect(new Set(log.calls.map((c: any) => c.caller).filter(Boolean)).size).toBe(2); // the refused call has no caller
  });

  it('answers a burst past the budget with RATE_LIMITED and retryAfterSeconds; the upstream never says 429', async () => {
    const backups = stack.sim.store.get(stack.sim.store.list()[0]!.id)!.backups;
    const lookup = (k: number) => stack.gql('query($i: ID!, $b: ID!) { backup(instanceId: $i, id: $b) { id } }', { i: stack.sim.store.list()[0]!.id, b: backups[k]!.id }, alice);
    const cachedBefore = await stack.gql(PAGE, { id: instance }, alice); // one call, cached
    expect(codes(cachedBefore.body)).toEqual([]);
    for (let k = 0; k < 59; k++) {
      clock += 100;
      expect(codes((await lookup(k)).body)).toEqual([]);
    }
    clock += 100;
    const refused = await lookup(100);
    expect(codes(refused.body)).toEqual(['RATE_LIMITED']);
    // The first call was at +0 s, the clock is at +6 s: the window frees a call in 54 s.
    expect(refused.body.errors[0].extensions.retryAfterSeconds).toBe(54);
    // A page cached while the budget lasted is still served.
    expect(codes((await stack.gql(PAGE, { id: instance }, alice)).body)).toEqual([]);
    // Another identity has its own budget.
    expect(codes((await stack.gql(PAGE, { id: instance }, { 'X-Auth-Token': 'bob' })).body)).toEqual([]);
    clock += 54_000;
    expect(codes((await lookup(101)).body)).toEqual([]);
    const log = await stack.calls();
    expect(log.calls.filter((c: any) => c.status === 429)).toEqual([]);
    expect(log.count).toBe(62);
  });

  it('serves a stale page at once while one refresh runs, then the fresh one', async () => {
    await stack.gql(PAGE, { id: instance }, alice);
    await rawRequest(stack.sim.url, `/__admin/instances/${instance}/backups`, { method: 'POST', body: JSON.stringify({ count: 1 }) });
    clock += 7000; // past the 5 s TTL, within the 5 s of staleness
    const stale = await stack.gql(PAGE, { id: instance }, alice);
    expect(stale.body.data.backups.totalCount).toBe(240);
    await logLine(stack, 'background refresh stored');
    const fresh = await stack.gql(PAGE, { id: instance }, alice);
    expect(fresh.body.data.backups.totalCount).toBe(241);
    expect((await stack.calls()).count).toBe(2);
  });
});

describe('two gateway processes sharing one Redis', () => {
  let redis: RedisServer;
  let sim: Awaited<ReturnType<typeof withSimulator>>;
  const gateways: Array<{ child: ChildProcess; url: string }> = [];

  async function startGateway(): Promise<{ child: ChildProcess; url: string }> {
    const gateway = await startGatewayProcess({
      RDS_ENDPOINT: sim.url, HUAWEICLOUD_SDK_PROJECT_ID: PROJECT, REDIS_URL: redis.url,
      UPSTREAM_CACHE_TTL_MS: '0', UPSTREAM_BUDGET_PER_MINUTE: '60', LOG_LEVEL: 'warn', NODE_ENV: 'production',
      REDIS_COMMAND_TIMEOUT_MS: '2000', // a loaded machine must not make the replicas fall back to their own budgets
    });
    gateways.push(gateway);
    return gateway;
  }

  beforeAll(async () => {
    redis = await startRedis();
    sim = await withSimulator({ rateLimitPerMinute: 0 });
  });
  afterAll(async () => {
    for (const g of gateways) g.child.kill('SIGKILL');
    await sim?.close();
    await redis?.stop();
  });

  it('stay together within one identity\'s budget, and lose no request when Redis stops', async () => {
    const [one, two] = [await startGateway(), await startGateway()];
    const instance = sim.store.list()[0]!;
    const ask = (url: string, k: number) => fetch(url, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query($i: ID!, $b: ID!) { backup(instanceId: $i, id: $b) { id } }', variables: { i: instance.id, b: instance.backups[k]!.id } }),
    }).then(async (r) => ({ status: r.status, body: await r.json() as any }));

    // 80 distinct lookups on each replica: 160 calls wanted, one budget of 60 for both.
    const answers = await Promise.all(Array.from({ length: 160 }, (_, k) => ask(k % 2 ? one!.url : two!.url, k)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const served = answers.filter((a) => codes(a.body).length === 0).length;
    const limited = answers.filter((a) => codes(a.body)[0] === 'RATE_LIMITED').length;
    expect(served + limited).toBe(160);
    expect(sim.calls.records.length).toBeLessThanOrEqual(60);
    expect(served).toBe(sim.calls.records.length);

    await redis.stop();
    const during = await Promise.all(Array.from({ length: 40 }, (_, k) => ask(k % 2 ? one!.url : two!.url, 200 + k)));
    expect(during.every((a) => a.status === 200)).toBe(true);
    expect(during.every((a) => codes(a.body).every((c) => c === 'RATE_LIMITED') && (codes(a.body).length > 0 || a.body.data.backup.id))).toBe(true);
  });
});
