/** Credentials per request: tokens forwarded, never shared, never echoed; no call without credentials. */
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createMetrics } from '../../src/observability/metrics';
import { createReadiness } from '../../src/observability/readiness';
import { startGateway } from '../../src/server';
import { startStack, type Stack } from '../helpers/stack';

let stack: Stack;
let instance: string;

beforeAll(async () => {
  stack = await startStack({ simulator: { auth: { tokens: ['token-alice', 'token-bob'] } } });
  instance = stack.sim.store.list()[1]!.id;
});
afterAll(() => stack.close());
beforeEach(() => stack.resetCalls());

const QUERY = `query($id: ID!) { backups(instanceId: $id, first: 5) { totalCount nodes { id } } }`;

describe('per-request credentials', () => {
  it('forwards X-Auth-Token and Authorization: Bearer as X-Auth-Token', async () => {
    const a = await stack.gql(QUERY, { id: instance }, { 'X-Auth-Token': 'token-alice' });
    const b = await stack.gql(QUERY, { id: instance }, { Authorization: 'Bearer token-bob' });
    expect(a.body.data.backups.totalCount).toBe(240);
    expect(b.body.data.backups.totalCount).toBe(240);
    const callers = (await stack.calls()).calls.map((c: any) => c.caller);
    expect(new Set(callers).size).toBe(2);
  });

  it('keeps concurrent requests apart: neither sees the other\'s loader, rows or token', async () => {
    await stack.setFaults([{ kind: 'latency', latencyMs: 200 }]);
    try {
      const [good, bad, other] = await Promise.all([
        stack.gql(QUERY, { id: instance }, { 'X-Auth-Token': 'token-alice' }),
        stack.gql(QUERY, { id: instance }, { 'X-Auth-Token': 'token-mallory' }),
        stack.gql(QUERY, { id: instance }, { 'X-Auth-Token': 'token-bob' }),
      ]);
      expect(good.body.data.backups.totalCount).toBe(240);
      expect(other.body.data.backups.totalCount).toBe(240);
      // The refused caller got nothing of what the others fetched at the same moment.
      expect(bad.body.data.backups).toBeNull();
      expect(bad.body.errors[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', upstream: { status: 401, errorCode: 'APIG.0301' } });
      for (const res of [good, bad, other]) expect(JSON.stringify(res.body)).not.toMatch(/token-/);
      const log = await stack.calls();
      expect(log.count).toBe(3); // one call each, a 401 never retried
      expect(log.calls.filter((c: any) => c.status === 401)).toHaveLength(1);
    } finally {
      await stack.setFaults([]);
    }
  });

  it('never serves one token\'s cached page to another: each sees what the upstream said to it', async () => {
    // A long cache, so that a page cached for one caller would be there to leak to the next.
    const cached = await startStack({ simulator: { auth: { tokens: ['token-alice', 'token-bob'] } }, env: { UPSTREAM_CACHE_TTL_MS: '60000' } });
    try {
      const id = cached.sim.store.list()[1]!.id;
      const total = (token: string): Promise<number> => cached.gql(QUERY, { id }, { 'X-Auth-Token': token }).then((r) => r.body.data.backups.totalCount);
      expect(await total('token-alice')).toBe(240);
      cached.sim.store.insert(id, 1); // the upstream changes after Alice's page was cached
      expect(await total('token-bob')).toBe(241); // Bob's own call, not Alice's page
      expect(await total('token-alice')).toBe(240); // Alice's page is still cached: the cache was on
      const bad = await cached.gql(QUERY, { id }, { 'X-Auth-Token': 'token-mallory' });
      expect(bad.body.data.backups).toBeNull();
      expect(bad.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    } finally {
      await cached.close();
    }
  });

  it('makes no call and answers UNAUTHENTICATED without credentials for a non-loopback upstream', async () => {
    const endpoint = 'https://rds.ap-southeast-1.myhuaweicloud.com';
    const config = loadConfig({ PORT: '0', RDS_ENDPOINT: endpoint, HUAWEICLOUD_SDK_PROJECT_ID: 'p1' });
    let calls = 0;
    const client = { listBackups: async () => { calls += 1; throw new Error('must not be called'); }, close: () => undefined };
    const gw = await startGateway({ config, logger: createLogger('silent'), client, endpoint, defaultProjectId: 'p1', metrics: createMetrics(), readiness: createReadiness({ probe: async () => false, store: () => ({ backend: 'memory', healthy: true }) }) });
    try {
      const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ a: backups(instanceId: "i1") { totalCount } b: backup(instanceId: "i1", id: "b1") { id } }` }) });
      const body = await res.json() as any;
      expect(body.errors.map((e: any) => e.extensions.code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
      expect(calls).toBe(0);
    } finally {
      await gw.close();
    }
  });
});
