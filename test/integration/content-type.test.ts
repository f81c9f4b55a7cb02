/**
 * Issue 16, finding 13: a POST body is read as UTF-8 JSON, so only `application/json` with no
 * charset or `charset=utf-8` (in any case) is taken; anything else is 415 BAD_REQUEST before the
 * body is parsed, on Apollo's path and on the fast path alike (bad-input.test.ts has the refusals).
 */
import { rawRequest } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

const SECRET = 'router-only-secret-for-content-types';
// The variable carries a non-ASCII character, so a body in another encoding would not be the same text.
const QUERY = 'query Named($n: String!) { __typename __type(name: $n) { name } }';

let stack: Stack;
beforeAll(async () => { stack = await startStack({ env: { SUBGRAPH_SECRET: SECRET } }); });
afterAll(() => stack.close());

const post = (path: string, contentType: string, body: string | Buffer = JSON.stringify({ query: QUERY, variables: { n: 'café' } })) =>
  rawRequest(stack.gateway.url, path, { method: 'POST', headers: { 'content-type': contentType, 'x-subgraph-secret': SECRET }, body });

async function fastPathAnswers(): Promise<number> {
  const text = (await rawRequest(stack.gateway.url, '/metrics')).text;
  return Number(/^graphql_fast_path_operations_total (\d+)/m.exec(text)?.[1] ?? NaN);
}

describe('request content types', () => {
  it.each(['application/json', 'APPLICATION/JSON', 'application/json; charset=utf-8', 'application/json;charset=UTF-8', 'application/json; charset="utf-8"', 'application/json ; charset=Utf-8 ;'])(
    'takes %s, on /graphql and /subgraph', async (contentType) => {
      for (const path of ['/graphql', '/subgraph']) {
        const res = await post(path, contentType);
        expect(res.status).toBe(200);
        expect(res.json()).toEqual({ data: { __typename: 'Query', __type: null } });
      }
    },
  );

  it.each(['application/json; charset=latin1', 'application/json-patch+json', 'application/json; charset=utf-16'])(
    'refuses %s with 415 on /subgraph too', async (contentType) => {
      const res = await post('/subgraph', contentType);
      expect(res.status).toBe(415);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.json().errors[0].extensions.code).toBe('BAD_REQUEST');
    },
  );

  it('refuses a latin1 body on the fast path (an operation Apollo already validated)', async () => {
    const utf8 = JSON.stringify({ query: QUERY, variables: { n: 'café' } });
    expect((await post('/graphql', 'application/json', utf8)).status).toBe(200);
    const before = await fastPathAnswers();
    expect((await post('/graphql', 'application/json', utf8)).status).toBe(200);
    expect(await fastPathAnswers()).toBe(before + 1);

    const latin1 = await post('/graphql', 'application/json; charset=latin1', Buffer.from(utf8, 'latin1'));
    expect(latin1.status).toBe(415);
    expect(latin1.json().errors[0].extensions.code).toBe('BAD_REQUEST');
    const patch = await post('/graphql', 'application/json-patch+json', utf8);
    expect(patch.status).toBe(415);
    expect(await fastPathAnswers()).toBe(before + 1);
  });

  it.each([['text/plain', 400], ['application/xml', 415]])('keeps the connection usable after refusing %s (%d)', async (contentType, status) => {
    const res = await post('/graphql', contentType, 'x'.repeat(100_000));
    expect(res.status).toBe(status);
    expect((await stack.gql('{ __typename }')).body).toEqual({ data: { __typename: 'Query' } });
  });
});
