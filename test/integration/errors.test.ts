/**
 * DESIGN.md's error table: every failure a GraphQL error with a code, at its field, siblings
 * resolved. Malformed HTTP requests and hostile input are bad-input.test.ts's table; the cases
 * here are the argument errors it does not send, each checked at its field.
 */
import { startStack, type Stack } from '../helpers/stack';

let stack: Stack;
let a: string;
let b: string;
let cursorOfA: string;

beforeAll(async () => {
  stack = await startStack({ env: { UPSTREAM_TIMEOUT_MS: '400', UPSTREAM_RETRIES: '2', MAX_PAGE_SIZE: '500' } });
  [a, b] = stack.sim.store.list().map((i) => i.id) as [string, string];
  cursorOfA = (await stack.gql(`query($id: ID!) { backups(instanceId: $id, first: 1) { pageInfo { endCursor } } }`, { id: a })).body.data.backups.pageInfo.endCursor;
});
afterAll(() => stack.close());
beforeEach(async () => { await stack.setFaults([]); await stack.resetCalls(); });

const codes = (body: any): string[] => (body.errors ?? []).map((e: any) => e.extensions?.code);

describe('bad input is BAD_USER_INPUT before any upstream call', () => {
  const cases: Array<[string, () => [string, Record<string, unknown>]]> = [
    ['a negative first', () => ['query($id: ID!) { backups(instanceId: $id, first: -1) { totalCount } }', { id: a }]],
    ['a cursor that does not decode', () => ['query($id: ID!) { backups(instanceId: $id, after: "not a cursor!") { totalCount } }', { id: a }]],
    ['a base64 cursor of another format', () => ['query($id: ID!, $c: String) { backups(instanceId: $id, after: $c) { totalCount } }', { id: a, c: Buffer.from('offset:5').toString('base64url') }]],
    ['a cursor of another version', () => ['query($id: ID!, $c: String) { backups(instanceId: $id, after: $c) { totalCount } }', { id: a, c: Buffer.from(`v9:${Buffer.from(cursorOfA, 'base64url').toString().split(':')[1]}:1`).toString('base64url') }]],
    ['a cursor of another instance', () => ['query($id: ID!, $c: String) { backups(instanceId: $id, before: $c) { totalCount } }', { id: b, c: cursorOfA }]],
    ['a forged offset', () => ['query($id: ID!, $c: String) { backups(instanceId: $id, after: $c) { totalCount } }', { id: a, c: Buffer.from(`v1:${Buffer.from(cursorOfA, 'base64url').toString().split(':')[1]}:-4`).toString('base64url') }]],
    ['beginTime without endTime', () => ['query($id: ID!) { backups(instanceId: $id, filter: { beginTime: "2026-10-01T00:00:00Z" }) { totalCount } }', { id: a }]],
    ['endTime without beginTime', () => ['query($id: ID!) { backups(instanceId: $id, filter: { endTime: "2026-10-01T00:00:00Z" }) { totalCount } }', { id: a }]],
    ['a range shorter than a second', () => ['query($id: ID!) { backups(instanceId: $id, filter: { beginTime: "2026-10-01T00:00:00.100Z", endTime: "2026-10-01T00:00:00.900Z" }) { totalCount } }', { id: a }]],
    ['an instance id with a slash', () => ['query { backups(instanceId: "../admin") { totalCount } }', {}]],
    ['an instance id that is too long', () => ['query($id: ID!) { backups(instanceId: $id) { totalCount } }', { id: 'x'.repeat(65) }]],
    ['a backup id with a query string', () => ['query($id: ID!) { backup(instanceId: $id, id: "x&limit=1") { id } }', { id: a }]],
    ['a filter backup id with spaces', () => ['query($id: ID!) { backups(instanceId: $id, filter: { backupId: "a b" }) { totalCount } }', { id: a }]],
    ['an empty instance id', () => ['query { backups(instanceId: "") { totalCount } }', {}]],
  ];
  it.each(cases)('%s', async (_name, make) => {
    const [query, variables] = make();
    const res = await stack.gql(query, variables);
    expect(res.status).toBe(200);
    expect(codes(res.body)).toEqual(['BAD_USER_INPUT']);
    expect(res.body.errors[0].path).toBeDefined();
    expect((await stack.calls()).count).toBe(0);
  });

  it('refuses an invalid X-Project-Id', async () => {
    const res = await stack.gql('query($id: ID!) { backups(instanceId: $id) { totalCount } }', { id: a }, { 'X-Project-Id': 'proj/../x' });
    expect(codes(res.body)).toEqual(['BAD_USER_INPUT']);
    expect((await stack.calls()).count).toBe(0);
  });
});

describe('upstream faults', () => {
  const TWO = `query($a: ID!, $b: ID!) {
    a: backups(instanceId: $a, first: 1) { totalCount nodes { id } }
    b: backups(instanceId: $b, first: 1) { totalCount nodes { id } }
  }`;

  async function faultOnA(rule: Record<string, unknown>) {
    await stack.setFaults([{ ...rule, instanceId: a }]);
    const res = await stack.gql(TWO, { a, b });
    expect(res.status).toBe(200);
    expect(res.body.data.a).toBeNull();
    expect(res.body.data.b.totalCount).toBe(stack.sim.store.get(b)!.backups.length); // the sibling still resolved
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0].path).toEqual(['a']);
    return { error: res.body.errors[0], calls: (await stack.calls(a)).count };
  }

  it.each([
    [503, 'UPSTREAM_UNAVAILABLE', 'DBS.108005'],
    [500, 'UPSTREAM_UNAVAILABLE', 'DBS.108000'],
    [409, 'UPSTREAM_UNAVAILABLE', 'DBS.200011'],
  ])('%s after bounded retries is %s', async (status, code, errorCode) => {
    const { error, calls } = await faultOnA({ kind: 'error', status });
    expect(error.extensions).toMatchObject({ code, upstream: { status, errorCode, requestId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
    expect(calls).toBe(3); // 1 + UPSTREAM_RETRIES
  });

  it('403 is FORBIDDEN and is not retried', async () => {
    const { error, calls } = await faultOnA({ kind: 'error', status: 403, errorCode: 'DBS.200010' });
    expect(error.extensions).toMatchObject({ code: 'FORBIDDEN', upstream: { status: 403, errorCode: 'DBS.200010' } });
    expect(calls).toBe(1);
  });

  it('429 with a long Retry-After is RATE_LIMITED at once, with retryAfterSeconds', async () => {
    const { error, calls } = await faultOnA({ kind: 'throttle', retryAfterSeconds: 30 });
    expect(error.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 30, upstream: { status: 429, errorCode: 'APIGW.0308' } });
    expect(calls).toBe(1); // not retried: the wait is longer than the gateway waits
  });

  it('429 with a short Retry-After is retried after waiting it', async () => {
    await stack.setFaults([{ kind: 'throttle', retryAfterSeconds: 1, times: 1, instanceId: a }]);
    const t = performance.now();
    const res = await stack.gql(TWO, { a, b });
    expect(res.body.errors).toBeUndefined();
    expect(performance.now() - t).toBeGreaterThanOrEqual(950);
    expect((await stack.calls(a)).count).toBe(2);
  });

  it('a hanging upstream is UPSTREAM_UNAVAILABLE after each attempt timed out', async () => {
    const { error, calls } = await faultOnA({ kind: 'hang' });
    expect(error.extensions.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(calls).toBe(3); // each attempt cut by UPSTREAM_TIMEOUT_MS, then no more
  });

  it.each(['malformed', 'wrong-shape'])('a %s body is UPSTREAM_BAD_RESPONSE, not retried', async (kind) => {
    const { error, calls } = await faultOnA({ kind });
    expect(error.extensions).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', upstream: { status: 200, requestId: expect.any(String) } });
    expect(error.message).not.toMatch(/4a1b|not-a-list|many/); // never the body itself
    expect(calls).toBe(1);
  });

  it('a transient 5xx is retried and the answer is served', async () => {
    await stack.setFaults([{ kind: 'error', status: 502, times: 1, instanceId: a }]);
    const res = await stack.gql(TWO, { a, b });
    expect(res.body.errors).toBeUndefined();
    expect((await stack.calls(a)).count).toBe(2);
  });

  it('an unknown instance is NOT_FOUND; a missing backup is null', async () => {
    const res = await stack.gql(`query($id: ID!, $a: ID!) {
      gone: backups(instanceId: "ffffffffffffffffffffffffffffffffin01") { totalCount }
      goneBackup: backup(instanceId: "ffffffffffffffffffffffffffffffffin01", id: $id) { id }
      missing: backup(instanceId: $a, id: "ffffffffffffffffffffffffffffffffbr01") { id }
    }`, { id: 'ffffffffffffffffffffffffffffffffbr01', a });
    expect(res.body.data).toEqual({ gone: null, goneBackup: null, missing: null });
    expect(res.body.errors.map((e: any) => [e.path[0], e.extensions.code]).sort()).toEqual([['gone', 'NOT_FOUND'], ['goneBackup', 'NOT_FOUND']]);
    expect(res.body.errors[0].extensions.upstream).toMatchObject({ status: 404, errorCode: 'DBS.200045' });
  });

  it('an unreachable upstream is UPSTREAM_UNAVAILABLE', async () => {
    const { startGateway } = await import('../../src/server');
    const { loadConfig } = await import('../../src/config');
    const { createLogger } = await import('../../src/logger');
    const { createUpstreamClient } = await import('../../src/upstream/client');
    const { createMetrics } = await import('../../src/observability/metrics');
    const { createReadiness } = await import('../../src/observability/readiness');
    const endpoint = 'http://127.0.0.1:9'; // discard port: nothing listens
    const config = loadConfig({ PORT: '0', RDS_ENDPOINT: endpoint, HUAWEICLOUD_SDK_PROJECT_ID: 'p1', UPSTREAM_RETRIES: '1' });
    const client = createUpstreamClient({ endpoint, timeoutMs: 500, retries: 1, backoffBaseMs: 5 });
    const gw = await startGateway({ config, logger: createLogger('silent'), client, endpoint, defaultProjectId: 'p1', metrics: createMetrics(), readiness: createReadiness({ probe: async () => false, store: () => ({ backend: 'memory', healthy: true }) }) });
    try {
      const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ backups(instanceId: "${a}") { totalCount } }` }) });
      const body = await res.json() as any;
      expect(codes(body)).toEqual(['UPSTREAM_UNAVAILABLE']);
      expect(JSON.stringify(body)).not.toContain('127.0.0.1'); // never the upstream's address
    } finally {
      await gw.close();
      client.close();
    }
  });
});

describe('responses never carry secrets or internals', () => {
  it('does not echo the token, the upstream body or a stack trace', async () => {
    await stack.setFaults([{ kind: 'error', status: 500, instanceId: a }]);
    const token = 'secret-token-value-1234567890';
    const res = await stack.gql(`query($a: ID!) { backups(instanceId: $a) { totalCount } }`, { a }, { 'X-Auth-Token': token });
    const text = JSON.stringify(res.body);
    expect(text).not.toContain(token);
    expect(text).not.toContain('Injected fault'); // the upstream's error_msg
    expect(text).not.toContain(stack.sim.url);
    expect(text).not.toMatch(/stacktrace|\bat .*\.ts:\d+/);
  });
});
