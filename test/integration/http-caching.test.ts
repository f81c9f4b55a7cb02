/**
 * HTTP caching over real HTTP (DESIGN.md, "Browser frontends"): a GET answer's ETag and its
 * `Cache-Control` from the freshness left of the cached upstream pages it used (the cache's clock
 * is a fake one the tests move), `Vary`, 304 on `If-None-Match`, and `no-store` for POST answers
 * and answers with errors.
 */
import { rawRequest } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

/** Apollo refuses a GET without a header a browser sends only after a preflight (CSRF). */
const PREFLIGHT = { 'apollo-require-preflight': 'true' };
const ETAG = /^"[\w-]{22}"$/;

function get(stack: Stack, query: string, headers: Record<string, string> = {}) {
  return rawRequest(stack.gateway.url, `/graphql?query=${encodeURIComponent(query)}`, { headers: { ...PREFLIGHT, ...headers } });
}

const varyOf = (headers: Record<string, unknown>): string[] => String(headers.vary ?? '').split(',').map((n) => n.trim().toLowerCase()).filter(Boolean);

describe('HTTP caching with the upstream cache on (60 s fresh, then 30 s stale)', () => {
  let clock = Date.UTC(2026, 10, 26, 12, 0, 0);
  let stack: Stack;
  let instance: string;
  let page: string;

  beforeAll(async () => {
    stack = await startStack({ env: { UPSTREAM_CACHE_TTL_MS: '60000', UPSTREAM_CACHE_STALE_MS: '30000' }, now: () => clock });
    instance = stack.sim.store.list()[1]!.id;
    page = `{ backups(instanceId: "${instance}", first: 3) { totalCount nodes { id } } }`;
  });
  beforeEach(() => { clock += 10 * 60_000; }); // every cached page is past its stale time: each test starts uncached
  afterAll(() => stack.close());

  it('gives a GET answer a strong ETag and max-age of the freshness left of its pages, which goes down as the cache\'s clock moves', async () => {
    const first = await get(stack, page);
    expect(first.status).toBe(200);
    expect(first.json().data.backups.totalCount).toBeGreaterThan(0);
    expect(first.headers.etag).toMatch(ETAG);
    expect(first.headers['cache-control']).toBe('private, max-age=60'); // fetched just now: the whole TTL

    clock += 15_500;
    const later = await get(stack, page);
    expect(later.headers.etag).toBe(first.headers.etag);
    expect(later.headers['cache-control']).toBe('private, max-age=44'); // 44.5 s left, rounded down

    clock += 44_000;
    expect((await get(stack, page)).headers['cache-control']).toBe('private, no-cache'); // 0.5 s left: no whole second
    clock += 1000;
    const stale = await get(stack, page); // served stale while it is refreshed: no freshness left
    expect(stale.json()).toEqual(first.json());
    expect(stale.headers['cache-control']).toBe('private, no-cache');
  });

  it('takes the least freshness of the pages an answer used', async () => {
    const other = stack.sim.store.list()[2]!.id;
    await get(stack, page);
    clock += 20_000;
    const both = await get(stack, `{ a: backups(instanceId: "${instance}", first: 3) { totalCount } b: backups(instanceId: "${other}", first: 3) { totalCount } }`);
    expect(both.json().errors).toBeUndefined();
    expect(both.headers['cache-control']).toBe('private, max-age=40'); // a's page is 20 s old, b's new
  });

  it('answers If-None-Match with that ETag 304 and no body, and calls no upstream while the pages are cached', async () => {
    const first = await get(stack, page);
    const etag = String(first.headers.etag);
    await stack.resetCalls();
    clock += 5000;
    const revalidated = await get(stack, page, { 'if-none-match': etag });
    expect(revalidated.status).toBe(304);
    expect(revalidated.text).toBe('');
    expect(revalidated.headers.etag).toBe(etag);
    expect(revalidated.headers['cache-control']).toBe('private, max-age=55');
    expect(revalidated.headers.vary).toBe(first.headers.vary);
    expect(revalidated.headers['content-type']).toBeUndefined();
    // A list of tags, a weak form of it, and `*` match too (If-None-Match compares weakly).
    for (const tags of [`"someothertagsomeothert", ${etag}`, `W/${etag}`, '*']) expect((await get(stack, page, { 'if-none-match': tags })).status).toBe(304);
    expect((await get(stack, page, { 'if-none-match': '"someothertagsomeothert"' })).status).toBe(200);
    expect((await stack.calls(instance)).count).toBe(0);
  });

  it('gives a changed answer a new ETag, and answers If-None-Match with the old one in full', async () => {
    const first = await get(stack, page);
    stack.sim.store.insert(instance, 1);
    clock += 91_000; // past the page's stale time: fetched anew
    const changed = await get(stack, page, { 'if-none-match': String(first.headers.etag) });
    expect(changed.status).toBe(200);
    expect(changed.json().data.backups.totalCount).toBe(first.json().data.backups.totalCount + 1);
    expect(changed.headers.etag).toMatch(ETAG);
    expect(changed.headers.etag).not.toBe(first.headers.etag);
  });

  it('names in Vary the request headers the answer depends on: Accept, the credentials, the project', async () => {
    const res = await get(stack, page);
    // Origin: the CORS filter's (an allowed origin gets its own Access-Control-Allow-Origin).
    expect(varyOf(res.headers)).toEqual(['accept', 'authorization', 'x-auth-token', 'x-project-id', 'origin']);
    // The same body as another content type (by Accept) is another representation: another ETag.
    const graphqlJson = await get(stack, page, { accept: 'application/graphql-response+json' });
    expect(graphqlJson.headers['content-type']).toMatch(/^application\/graphql-response\+json/);
    expect(graphqlJson.text).toBe(res.text);
    expect(graphqlJson.headers.etag).not.toBe(res.headers.etag);
  });

  it('makes an answer that used no upstream page no-cache: no page says how long it holds', async () => {
    const res = await get(stack, '{ __typename }');
    expect(res.headers['cache-control']).toBe('private, no-cache');
    expect(res.headers.etag).toMatch(ETAG);
    expect((await get(stack, '{ __typename }', { 'if-none-match': String(res.headers.etag) })).status).toBe(304);
  });

  it('stores no POST answer, no answer with errors (partial data included) and no refusal, and gives them no ETag', async () => {
    const post = await stack.gql(page);
    expect(post.status).toBe(200);
    expect(post.body.errors).toBeUndefined();
    const failed = await get(stack, '{ backups(instanceId: "no-such-instance", first: 1) { totalCount } }');
    expect(failed.json().errors[0].extensions.code).toBe('NOT_FOUND');
    const partial = await get(stack, `{ ok: backups(instanceId: "${instance}", first: 1) { totalCount } gone: backups(instanceId: "no-such-instance", first: 1) { totalCount } }`);
    expect(partial.json().data.ok.totalCount).toBeGreaterThan(0);
    const refused = await rawRequest(stack.gateway.url, `/graphql?query=${encodeURIComponent(page)}`); // no preflight header: CSRF
    expect(refused.status).toBe(400);
    const wrongMethod = await rawRequest(stack.gateway.url, '/graphql', { method: 'PUT' });
    expect(wrongMethod.status).toBe(405);
    for (const res of [post, failed, partial, refused, wrongMethod]) {
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.etag).toBeUndefined();
    }
  });
});

describe('HTTP caching with the upstream cache off (UPSTREAM_CACHE_TTL_MS=0)', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ env: { UPSTREAM_CACHE_TTL_MS: '0' } }); });
  afterAll(() => stack.close());

  it('makes every GET answer no-cache, with an ETag that revalidates by running the operation anew', async () => {
    const instance = stack.sim.store.list()[1]!.id;
    const page = `{ backups(instanceId: "${instance}", first: 3) { totalCount nodes { id } } }`;
    const first = await get(stack, page);
    expect(first.headers['cache-control']).toBe('private, no-cache');
    expect(first.headers.etag).toMatch(ETAG);
    await stack.resetCalls();
    const revalidated = await get(stack, page, { 'if-none-match': String(first.headers.etag) });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers['cache-control']).toBe('private, no-cache');
    expect((await stack.calls(instance)).count).toBe(1); // nothing cached: the answer is current
  });
});
