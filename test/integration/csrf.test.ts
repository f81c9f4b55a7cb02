/**
 * Issue 18, CSRF rules that fit real clients (DESIGN.md, "Browser frontends"), over real HTTP:
 * what a browser can only send after a preflight (a JSON body, or one of the frontend's headers)
 * is taken, so urql's default GET with `X-Project-Id` works, run here with urql itself; a bare
 * GET and a form post are refused with 400 naming the headers, before anything runs.
 */
import { cacheExchange, Client, fetchExchange, gql } from '@urql/core';

import { rawRequest } from '../helpers/http';
import { PROJECT } from '../helpers/simulator';
import { startStack, type Stack } from '../helpers/stack';

const CSRF_HEADERS = ['x-auth-token', 'authorization', 'x-project-id', 'apollo-require-preflight', 'x-apollo-operation-name'];
const TOKEN = 'a-frontend-users-iam-token';
const [AK, SK] = ['CSRFTESTAK0001', 'csrf-test-sk'];
const PAGE = 'query Page($id: ID!) { backups(instanceId: $id, first: 3) { totalCount nodes { id type } } }';

let stack: Stack;
let instanceId: string;
beforeAll(async () => {
  // A user's token, and the service's AK/SK for requests without one.
  stack = await startStack({ env: { HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SK: SK }, simulator: { auth: { tokens: [TOKEN], keys: [{ ak: AK, sk: SK }] } } });
  instanceId = stack.sim.store.list()[0]!.id;
});
afterAll(() => stack.close());
beforeEach(() => stack.resetCalls());

const getPath = (query = PAGE): string => `/graphql?${new URLSearchParams({ query, variables: JSON.stringify({ id: instanceId }) })}`;

/** A 400 BAD_REQUEST whose message names every header that would have made the request acceptable. */
function expectCsrfRefusal(res: { status: number; json(): any }): void {
  expect(res.status).toBe(400);
  const [error, ...more] = res.json().errors;
  expect(more).toEqual([]);
  expect(error.extensions.code).toBe('BAD_REQUEST');
  expect(error.message).toMatch(/Cross-Site Request Forgery/);
  for (const header of CSRF_HEADERS) expect(error.message).toContain(header);
}

describe('CSRF prevention', () => {
  it('refuses a bare GET with 400, naming the headers a frontend may send, with no upstream call', async () => {
    expectCsrfRefusal(await rawRequest(stack.gateway.url, getPath()));
    expect((await stack.calls()).count).toBe(0);
  });

  it.each([
    ['a form', 'application/x-www-form-urlencoded', `query=${encodeURIComponent(PAGE)}`],
    ['a file-upload form', 'multipart/form-data; boundary=b', `--b\r\nContent-Disposition: form-data; name="query"\r\n\r\n${PAGE}\r\n--b--\r\n`],
    ['a plain fetch', 'text/plain;charset=UTF-8', JSON.stringify({ query: PAGE, variables: { id: 'x' } })],
  ])('refuses a POST from %s with the same 400, before its body is read, with no upstream call', async (_name, contentType, body) => {
    expectCsrfRefusal(await rawRequest(stack.gateway.url, '/graphql', { method: 'POST', headers: { 'content-type': contentType }, body }));
    expect((await stack.calls()).count).toBe(0);
  });

  it('decides before the body is read: a form post over MAX_BODY_BYTES is that 400, not 413', async () => {
    const body = `query=${encodeURIComponent(PAGE)}&pad=${'x'.repeat(1_100_000)}`;
    expectCsrfRefusal(await rawRequest(stack.gateway.url, '/graphql', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }));
  });

  // Apollo's own two (apollo-require-preflight, x-apollo-operation-name) were taken before issue 18.
  it.each(['x-auth-token', 'authorization', 'x-project-id'])('takes a GET that carries %s', async (header) => {
    const value = { authorization: `Bearer ${TOKEN}`, 'x-auth-token': TOKEN, 'x-project-id': PROJECT }[header] ?? 'yes';
    const res = await rawRequest(stack.gateway.url, getPath(), { headers: { [header]: value } });
    expect(res.status).toBe(200);
    expect(res.json().data.backups.totalCount).toBeGreaterThan(0);
  });

  it('serves urql with its default configuration (queries by GET) and the frontend\'s X-Project-Id, cross-origin', async () => {
    const seen: Array<{ method: string; status: number; allowOrigin: string | null }> = [];
    const realFetch = globalThis.fetch;
    // Watches what urql sends and gets, changing nothing: urql calls the global fetch.
    globalThis.fetch = async (input, init) => {
      const res = await realFetch(input, init);
      seen.push({ method: init?.method ?? 'GET', status: res.status, allowOrigin: res.headers.get('access-control-allow-origin') });
      return res;
    };
    try {
      const client = new Client({
        url: `${stack.gateway.url}/graphql`,
        exchanges: [cacheExchange, fetchExchange],
        // A page on a dev server: its browser would add Origin itself.
        fetchOptions: { headers: { 'X-Project-Id': PROJECT, Origin: 'http://localhost:5173' } },
      });
      const result = await client.query(gql(PAGE), { id: instanceId }).toPromise();
      expect(result.error).toBeUndefined();
      expect(result.data.backups.totalCount).toBeGreaterThan(0);
      expect(result.data.backups.nodes).toHaveLength(3);
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(seen).toEqual([{ method: 'GET', status: 200, allowOrigin: 'http://localhost:5173' }]);
  });
});
