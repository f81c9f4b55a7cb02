/**
 * acceptsJson() against what Apollo Server answers for the same Accept header (POST: 200 or
 * 406), asked of a real Apollo Server for every row, so the gateway refuses exactly what Apollo
 * would refuse, only before executing.
 */
import { ApolloServer, HeaderMap } from '@apollo/server';

import { acceptsJson } from '../../src/http/accept';

const APOLLO_ANSWERS: Array<[string | undefined, boolean]> = [
  [undefined, true],
  ['', true],
  ['*/*', true],
  ['application/json', true],
  ['APPLICATION/JSON', true],
  ['application/json ; q=1', true],
  ['application/json; charset=utf-8', true],
  ['application/json;charset=utf-8, */*;q=0.1', true],
  ['application/graphql-response+json; charset=utf-8', true],
  ['application/*', true],
  ['application/*;q=0, application/json', true],
  ['application/json;q=0.0001', true],
  ['application/json; q="0.5"', true],
  ['application/json;callbackSpec=1.0', true],
  ['application/json;foo', true],
  ['"a,b"/c, application/json', true],
  ['text/event-stream, application/json;q=0.9', true],
  ['text/event-stream', false],
  ['text/html', false],
  ['application/xml', false],
  [';;;', false],
  [',,,', false],
  ['application/json;q=0', false],
  ['application/json;q=x', false],
  ['text/html;q=abc', false],
  ['application/json; charset=latin1', false],
  ['*/*, application/json;q=0, application/graphql-response+json;q=0', false],
];

describe('acceptsJson()', () => {
  const apollo = new ApolloServer({ typeDefs: 'type Query { ok: Boolean }', csrfPrevention: false, logger: { debug() {}, info() {}, warn() {}, error() {} } });
  beforeAll(() => apollo.start());
  afterAll(() => apollo.stop());

  /** Whether Apollo answers a POST with this Accept (200) or refuses it (406). */
  async function apolloAccepts(accept: string | undefined): Promise<boolean> {
    const headers = new HeaderMap([['content-type', 'application/json']]);
    if (accept !== undefined) headers.set('accept', accept);
    const { status } = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: { method: 'POST', headers, search: '', body: { query: '{ ok }' } }, context: async () => ({}) });
    return (status ?? 200) === 200;
  }

  it.each(APOLLO_ANSWERS)('Accept: %j → %s, as Apollo answers', async (accept, expected) => {
    expect(await apolloAccepts(accept)).toBe(expected);
    expect(acceptsJson(accept)).toBe(expected);
  });
});
