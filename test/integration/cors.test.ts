/**
 * Issue 18, CORS (DESIGN.md, "Browser frontends"), over real HTTP: allowed origins get their
 * preflight and the headers a page needs; any other origin is refused before anything runs, with
 * no upstream call; requests without Origin and same-origin ones are never refused; /subgraph
 * never answers CORS; CORS_ORIGINS unset in production allows none, and `*` allows all.
 */
import { rawRequest, type RawResponse } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

const SECRET = 'router-secret-for-the-cors-tests';
const PAGE = 'query($id: ID!) { backups(instanceId: $id, first: 2) { totalCount nodes { id } } }';
const DESIGN_REQUEST_HEADERS = ['content-type', 'authorization', 'x-auth-token', 'x-project-id', 'x-request-id', 'accept-language', 'apollo-require-preflight', 'traceparent'];

const list = (value: unknown): string[] => String(value ?? '').split(',').map((v) => v.trim().toLowerCase()).filter(Boolean);
const corsHeaders = (res: RawResponse): string[] => Object.keys(res.headers).filter((name) => name.startsWith('access-control-'));

function post(stack: Stack, path: string, headers: Record<string, string>, query = PAGE): Promise<RawResponse> {
  const id = stack.sim.store.list()[0]!.id;
  return rawRequest(stack.gateway.url, path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables: { id } }) });
}

function preflight(stack: Stack, origin: string, path = '/graphql'): Promise<RawResponse> {
  return rawRequest(stack.gateway.url, path, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-project-id, traceparent' },
  });
}

/** A refusal: 403 FORBIDDEN naming CORS_ORIGINS, no Access-Control-* header, and nothing sent upstream. */
async function expectRefused(stack: Stack, res: RawResponse): Promise<void> {
  expect(res.status).toBe(403);
  expect(res.json()).toEqual({ errors: [{ message: expect.stringContaining('CORS_ORIGINS'), extensions: { code: 'FORBIDDEN' } }] });
  expect(corsHeaders(res)).toEqual([]);
  expect(list(res.headers.vary)).toContain('origin');
  expect((await stack.calls()).count).toBe(0);
}

describe('CORS in development (CORS_ORIGINS unset: loopback origins)', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ env: { SUBGRAPH_SECRET: SECRET } }); });
  afterAll(() => stack.close());
  beforeEach(() => stack.resetCalls());

  it.each(['http://localhost:5173', 'http://127.0.0.1:8080', 'http://[::1]:3000', 'http://localhost'])('answers %s with its origin and the exposed headers', async (origin) => {
    const res = await post(stack, '/graphql', { origin });
    expect(res.status).toBe(200);
    expect(res.json().data.backups.totalCount).toBeGreaterThan(0);
    expect(res.headers['access-control-allow-origin']).toBe(origin);
    expect(list(res.headers.vary)).toContain('origin');
    expect(list(res.headers['access-control-expose-headers'])).toEqual(expect.arrayContaining(['x-request-id', 'etag', 'ratelimit', 'ratelimit-policy']));
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('answers a preflight from an allowed origin with 204 and exactly the CORS headers DESIGN.md lists, with no upstream call', async () => {
    const res = await preflight(stack, 'http://localhost:5173');
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(res.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(list(res.headers['access-control-allow-methods'])).toEqual(['get', 'post']);
    expect(list(res.headers['access-control-allow-headers'])).toEqual(expect.arrayContaining([...DESIGN_REQUEST_HEADERS, 'x-apollo-operation-name']));
    expect(Number(res.headers['access-control-max-age'])).toBeGreaterThanOrEqual(600);
    expect(list(res.headers.vary)).toEqual(['origin']);
    expect(corsHeaders(res).sort()).toEqual(['access-control-allow-headers', 'access-control-allow-methods', 'access-control-allow-origin', 'access-control-max-age']);
    expect((await stack.calls()).count).toBe(0);
  });

  it.each([
    ['another site', 'https://evil.example'],
    ['a loopback-looking host', 'http://localhost.evil.example:5173'],
    ['a sandboxed page', 'null'],
  ])('refuses %s before anything runs: 403, no CORS header, no upstream call', async (_name, origin) => {
    await expectRefused(stack, await post(stack, '/graphql', { origin }));
    await expectRefused(stack, await rawRequest(stack.gateway.url, '/graphql?query=%7B__typename%7D', { headers: { origin, 'x-project-id': 'p' } }));
    await expectRefused(stack, await preflight(stack, origin));
  });

  it('refuses a disallowed origin on the other routes too, in their own JSON shape', async () => {
    const res = await rawRequest(stack.gateway.url, '/readyz', { headers: { origin: 'https://evil.example' } });
    expect(res.status).toBe(403);
    expect(res.json()).toEqual({ error: expect.stringContaining('CORS_ORIGINS') });
    expect(corsHeaders(res)).toEqual([]);
  });

  it('never refuses a request without Origin (curl, servers), and says the answer varies by it', async () => {
    const res = await post(stack, '/graphql', {});
    expect(res.status).toBe(200);
    expect(corsHeaders(res)).toEqual([]);
    expect(list(res.headers.vary)).toContain('origin');
  });

  it('never answers CORS on /subgraph, while /graphql does for the same origin', async () => {
    const origin = 'http://localhost:5173';
    expect((await post(stack, '/graphql', { origin })).headers['access-control-allow-origin']).toBe(origin);
    const answer = await post(stack, '/subgraph', { origin, 'x-subgraph-secret': SECRET });
    expect(answer.status).toBe(200);
    expect(corsHeaders(answer)).toEqual([]);
    expect(list(answer.headers.vary)).not.toContain('origin');
    const pre = await preflight(stack, origin, '/subgraph');
    expect(pre.status).not.toBe(204);
    expect(corsHeaders(pre)).toEqual([]);
  });
});

describe('CORS in production with CORS_ORIGINS unset: no origin but the gateway\'s own', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ env: { NODE_ENV: 'production' } }); });
  afterAll(() => stack.close());
  beforeEach(() => stack.resetCalls());

  it('refuses a loopback dev server, and takes same-origin requests (a page served by the gateway) and requests without Origin', async () => {
    await expectRefused(stack, await post(stack, '/graphql', { origin: 'http://localhost:5173' }));
    await expectRefused(stack, await preflight(stack, 'http://localhost:5173'));

    const own = new URL(stack.gateway.url).origin; // rawRequest sends Host: 127.0.0.1:<port>
    const same = await post(stack, '/graphql', { origin: own });
    expect(same.status).toBe(200);
    expect(same.json().data.backups.totalCount).toBeGreaterThan(0);
    expect(corsHeaders(same)).toEqual([]);
    expect((await post(stack, '/graphql', {})).status).toBe(200);
  });
});

describe('CORS_ORIGINS as a list of exact origins', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ env: { NODE_ENV: 'production', CORS_ORIGINS: 'https://console.example.com, http://localhost:5173' } }); });
  afterAll(() => stack.close());
  beforeEach(() => stack.resetCalls());

  it('allows exactly the origins listed, and no other port or scheme of them', async () => {
    for (const origin of ['https://console.example.com', 'http://localhost:5173']) {
      const res = await post(stack, '/graphql', { origin });
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(origin);
      expect((await preflight(stack, origin)).status).toBe(204);
    }
    await stack.resetCalls();
    for (const origin of ['http://console.example.com', 'https://console.example.com:8443', 'http://localhost:5174', 'https://console.example.com.evil.example']) {
      await expectRefused(stack, await post(stack, '/graphql', { origin }));
    }
  });
});

describe('CORS_ORIGINS=*', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ env: { CORS_ORIGINS: '*' } }); });
  afterAll(() => stack.close());

  it('allows every origin, answering * (never with credentials)', async () => {
    const res = await post(stack, '/graphql', { origin: 'https://anywhere.example' });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(list(res.headers['access-control-expose-headers'])).toEqual(expect.arrayContaining(['x-request-id', 'etag', 'ratelimit', 'ratelimit-policy']));
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    const pre = await preflight(stack, 'https://anywhere.example');
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
  });
});
