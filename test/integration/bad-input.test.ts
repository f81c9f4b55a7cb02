/**
 * Hostile and malformed requests, each answered with the expected status and code, none of them
 * reaching the upstream, and the gateway answering the next query every time.
 */
import { createHash } from 'node:crypto';

import { filterKey } from '../../src/backups/filter';
import { cursorBinding, toCursor } from '../../src/pagination/cursor';
import { rawRequest } from '../helpers/http';
import { PROJECT } from '../helpers/simulator';
import { startStack, type Stack } from '../helpers/stack';

let stack: Stack;
let a: string; // an instance
let cursorOfA: string;

beforeAll(async () => {
  stack = await startStack();
  a = stack.sim.store.list()[0]!.id;
  cursorOfA = (await stack.gql('query($id: ID!) { backups(instanceId: $id, first: 1) { pageInfo { endCursor } } }', { id: a })).body.data.backups.pageInfo.endCursor;
  await stack.resetCalls();
});
afterAll(() => stack.close());

interface Case {
  method?: string;
  contentType?: string | null;
  body?: string | Buffer | (() => string);
  query?: string;
  variables?: Record<string, unknown>;
  headers?: Record<string, string>;
  path?: string;
  status: number;
  /** The first error's code; undefined when the answer has no GraphQL body (e.g. 431 from Node). */
  code?: string;
}

const json = (value: unknown): string => JSON.stringify(value);
const nest = (depth: number): string => {
  let inner = 'totalCount';
  for (let i = 0; i < depth; i++) inner = `nodes { instance { backups { ${inner} } } }`;
  return `{ backups(instanceId: "${'A'.repeat(8)}") { ${inner} } }`;
};
/** Persisted-query extensions a client may garble, each with the document it is sent with (if any). */
const TYPENAME = '{ __typename }';
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const GARBLED_PERSISTED_QUERIES: Array<[string, { query?: string; extensions: unknown; status: number; code: string }]> = [
  ['a persisted-query hash that does not match the document', { query: TYPENAME, extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } }, status: 400, code: 'BAD_REQUEST' }],
  ['a persisted query of version 2', { query: TYPENAME, extensions: { persistedQuery: { version: 2, sha256Hash: sha256(TYPENAME) } }, status: 400, code: 'BAD_REQUEST' }],
  ['a persisted query that is a string', { query: TYPENAME, extensions: { persistedQuery: 'x' }, status: 400, code: 'BAD_REQUEST' }],
  ['a numeric persisted-query hash', { query: TYPENAME, extensions: { persistedQuery: { version: 1, sha256Hash: 5 } }, status: 400, code: 'BAD_REQUEST' }],
  ['a numeric persisted-query hash without a document', { extensions: { persistedQuery: { version: 1, sha256Hash: 5 } }, status: 200, code: 'PERSISTED_QUERY_NOT_FOUND' }],
];
/** The same request as a POST and as a GET (with the preflight header CSRF prevention asks for). */
const persistedQueryCases = (prefix = '/graphql', headers: Record<string, string> = {}): Array<[string, Case]> => GARBLED_PERSISTED_QUERIES.flatMap(([name, c]): Array<[string, Case]> => {
  const params = new URLSearchParams({ ...(c.query === undefined ? {} : { query: c.query }), extensions: JSON.stringify(c.extensions) });
  return [
    [name, { body: json({ query: c.query, extensions: c.extensions }), headers, path: prefix, status: c.status, code: c.code }],
    [`${name}, by GET`, { method: 'GET', path: `${prefix}?${params}`, contentType: null, headers: { 'apollo-require-preflight': 'true', ...headers }, status: c.status, code: c.code }],
  ];
});
const PAGE = 'query($id: ID!, $first: Int, $last: Int, $after: String, $before: String, $filter: BackupFilter) { backups(instanceId: $id, first: $first, last: $last, after: $after, before: $before, filter: $filter) { totalCount } }';
/** A cursor minted as a client can: its binding is a hash of public values (instance, project, filter). */
const mintCursor = (instanceId: string, offset: number): string => toCursor(cursorBinding([instanceId, PROJECT, filterKey({})]), { offset, time: 0, id: 'x' });

const CASES: Array<[string, Case]> = [
  ['malformed JSON', { body: '{"query": ', status: 400, code: 'BAD_REQUEST' }],
  ['a JSON array (batching is off)', { body: json([{ query: '{ __typename }' }]), status: 400, code: 'BAD_REQUEST' }],
  ['JSON null', { body: 'null', status: 400, code: 'BAD_REQUEST' }],
  ['a JSON string', { body: '"{ __typename }"', status: 400, code: 'BAD_REQUEST' }],
  ['an empty body', { body: '', status: 400, code: 'BAD_REQUEST' }],
  // Issue 18: what a page on another site can post with no preflight is a CSRF refusal (400), as for a GET.
  ['text/plain (CSRF prevention)', { contentType: 'text/plain', body: json({ query: '{ __typename }' }), status: 400, code: 'BAD_REQUEST' }],
  ['a form post (CSRF prevention)', { contentType: 'application/x-www-form-urlencoded', body: 'query=%7B__typename%7D', status: 400, code: 'BAD_REQUEST' }],
  ['multipart/form-data', { contentType: 'multipart/form-data; boundary=x', body: '--x\r\n\r\n{}\r\n--x--', status: 400, code: 'BAD_REQUEST' }],
  ['no content type', { contentType: null, body: json({ query: '{ __typename }' }), status: 400, code: 'BAD_REQUEST' }],
  ['text/plain with a preflight header (not JSON)', { contentType: 'text/plain', headers: { 'X-Project-Id': PROJECT }, body: json({ query: '{ __typename }' }), status: 415, code: 'BAD_REQUEST' }],
  ['a latin1 charset (issue 16: decoded as UTF-8 anyway)', { contentType: 'application/json; charset=latin1', body: Buffer.from(json({ query: 'query($n: String) { __typename }', variables: { n: 'café' } }), 'latin1'), status: 415, code: 'BAD_REQUEST' }],
  ['an iso-8859-1 charset', { contentType: 'application/json; charset=ISO-8859-1', body: json({ query: '{ __typename }' }), status: 415, code: 'BAD_REQUEST' }],
  ['a utf-16 charset', { contentType: 'application/json; charset=utf-16', body: Buffer.from(json({ query: '{ __typename }' }), 'utf16le'), status: 415, code: 'BAD_REQUEST' }],
  ['an empty charset', { contentType: 'application/json; charset=', body: json({ query: '{ __typename }' }), status: 415, code: 'BAD_REQUEST' }],
  ['two charsets', { contentType: 'application/json; charset=utf-8; charset=latin1', body: json({ query: '{ __typename }' }), status: 415, code: 'BAD_REQUEST' }],
  ['application/json-patch+json (issue 16: taken for JSON)', { contentType: 'application/json-patch+json', body: json({ query: '{ __typename }' }), status: 415, code: 'BAD_REQUEST' }],
  ['a response type as the request type', { contentType: 'application/graphql-response+json', body: json({ query: '{ __typename }' }), status: 415, code: 'BAD_REQUEST' }],
  ['two content types', { contentType: 'application/json, text/plain', body: json({ query: '{ __typename }' }), status: 415, code: 'BAD_REQUEST' }],
  ['a query that is not a string', { body: json({ query: 5 }), status: 400, code: 'BAD_REQUEST' }],
  ['variables that are not an object', { body: json({ query: '{ __typename }', variables: 'x' }), status: 400, code: 'BAD_REQUEST' }],
  ['no query at all', { body: '{}', status: 400, code: 'BAD_REQUEST' }],
  ['a body over MAX_BODY_BYTES', { body: () => json({ query: '{ __typename }', pad: 'x'.repeat(1_100_000) }), status: 413, code: 'PAYLOAD_TOO_LARGE' }],
  ['invalid UTF-8 in the document', { body: Buffer.concat([Buffer.from('{"query": "{ __typename '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' }"}')]), status: 400, code: 'GRAPHQL_PARSE_FAILED' }],
  ['a syntax error', { query: '{ backups(instanceId: ) }', status: 400, code: 'GRAPHQL_PARSE_FAILED' }],
  ['a 900 KB id', { query: PAGE, variables: { id: 'x'.repeat(900_000) }, status: 200, code: 'BAD_USER_INPUT' }],
  ['deep nesting', { query: nest(12), status: 400, code: 'GRAPHQL_VALIDATION_FAILED' }],
  ['an alias flood', { query: `{ ${Array.from({ length: 100 }, (_, i) => `a${i}: instance(id: "x") { id }`).join(' ')} }`, status: 400, code: 'GRAPHQL_VALIDATION_FAILED' }],
  ['a token flood', { query: `{ ${'__typename '.repeat(3000)}}`, status: 400, code: 'GRAPHQL_PARSE_FAILED' }],
  ['a directive flood', { query: `{ __typename ${'@include(if: true) '.repeat(40)}}`, status: 400, code: 'GRAPHQL_VALIDATION_FAILED' }],
  ['more instances than MAX_UPSTREAM_CALLS_PER_OPERATION', { query: `{ instances(ids: [${Array.from({ length: 25 }, (_, i) => `"i${i}"`).join(',')}]) { backups(first: 1) { totalCount } } }`, status: 400, code: 'GRAPHQL_VALIDATION_FAILED' }],
  ['a connection nested in every row of another', { query: `{ backups(instanceId: "i1", first: 20) { nodes { instance { backups(first: 1) { totalCount } } } } }`, status: 400, code: 'GRAPHQL_VALIDATION_FAILED' }],
  ['first above MAX_PAGE_SIZE', { query: PAGE, variables: { id: 'i1', first: 501 }, status: 200, code: 'BAD_USER_INPUT' }],
  ['a negative last', { query: PAGE, variables: { id: 'i1', last: -1 }, status: 200, code: 'BAD_USER_INPUT' }],
  ['first and last together', { query: PAGE, variables: { id: 'i1', first: 1, last: 1 }, status: 200, code: 'BAD_USER_INPUT' }],
  ['first beyond a 32-bit Int', { query: PAGE, variables: { id: 'i1', first: 2 ** 31 }, status: 400, code: 'BAD_USER_INPUT' }],
  ['first as a string', { query: PAGE, variables: { id: 'i1', first: 'ten' }, status: 400, code: 'BAD_USER_INPUT' }],
  ['SQL in an instance id', { query: PAGE, variables: { id: "' OR 1=1 --" }, status: 200, code: 'BAD_USER_INPUT' }],
  ['a path in an instance id', { query: PAGE, variables: { id: '../../v3/other/backups' }, status: 200, code: 'BAD_USER_INPUT' }],
  ['CRLF in an instance id', { query: PAGE, variables: { id: 'a\r\nX-Injected: 1' }, status: 200, code: 'BAD_USER_INPUT' }],
  ['query parameters in an instance id', { query: PAGE, variables: { id: 'a&limit=100&offset=-1' }, status: 200, code: 'BAD_USER_INPUT' }],
  ['percent-encoding in an instance id', { query: PAGE, variables: { id: '%2e%2e%2f' }, status: 200, code: 'BAD_USER_INPUT' }],
  ['markup in a backup id', { query: 'query($id: ID!) { backup(instanceId: "i1", id: $id) { id } }', variables: { id: '<script>alert(1)</script>' }, status: 200, code: 'BAD_USER_INPUT' }],
  ['an operator in filter.backupId', { query: PAGE, variables: { id: 'i1', filter: { backupId: '$where' } }, status: 200, code: 'BAD_USER_INPUT' }],
  ['a space in instance(id)', { query: '{ instance(id: "a b") { id } }', status: 200, code: 'BAD_USER_INPUT' }],
  ['one bad id in instances(ids)', { query: '{ instances(ids: ["ok", "b@d"]) { id } }', status: 200, code: 'BAD_USER_INPUT' }],
  ['JSON in node(id)', { query: '{ node(id: "{}") { id } }', status: 200, code: 'BAD_USER_INPUT' }],
  ['a path in X-Project-Id', { query: PAGE, variables: { id: 'i1' }, headers: { 'X-Project-Id': '../x' }, status: 200, code: 'BAD_USER_INPUT' }],
  ['a 65-character X-Project-Id', { query: PAGE, variables: { id: 'i1' }, headers: { 'X-Project-Id': 'p'.repeat(65) }, status: 200, code: 'BAD_USER_INPUT' }],
  ['percent-encoding in X-Project-Id', { query: PAGE, variables: { id: 'i1' }, headers: { 'X-Project-Id': 'proj%2Fx' }, status: 200, code: 'BAD_USER_INPUT' }],
  ['headers over 64 KB', { query: '{ __typename }', headers: { 'X-Auth-Token': 't'.repeat(70_000) }, status: 431 }],
  ['a forged cursor', { query: PAGE, variables: { id: 'i1', after: Buffer.from('v2:AAAAAAAAAAAA:0:0:x').toString('base64url') }, status: 200, code: 'BAD_USER_INPUT' }],
  ['a forged cursor at offset 2^31-1, first: 500', { query: PAGE, variables: () => ({ id: a, first: 500, after: mintCursor(a, 2 ** 31 - 1) }), status: 200, code: 'BAD_USER_INPUT' } as never],
  ['a forged cursor at offset 2^31-1, last: 500 before it', { query: PAGE, variables: () => ({ id: a, last: 500, before: mintCursor(a, 2 ** 31 - 1) }), status: 200, code: 'BAD_USER_INPUT' } as never],
  ['a cursor of another filter', { query: PAGE, variables: () => ({ id: a, after: cursorOfA, filter: { type: 'AUTO' } }), status: 200, code: 'BAD_USER_INPUT' } as never],
  ['a cursor of another instance', { query: PAGE, variables: () => ({ id: 'other', after: cursorOfA }), status: 200, code: 'BAD_USER_INPUT' } as never],
  ['a 300-character cursor', { query: PAGE, variables: { id: 'i1', after: 'A'.repeat(300) }, status: 200, code: 'BAD_USER_INPUT' }],
  ['half a time range', { query: PAGE, variables: { id: 'i1', filter: { beginTime: '2026-10-01T00:00:00Z' } }, status: 200, code: 'BAD_USER_INPUT' }],
  ['an inverted time range', { query: PAGE, variables: { id: 'i1', filter: { beginTime: '2026-10-02T00:00:00Z', endTime: '2026-10-01T00:00:00Z' } }, status: 200, code: 'BAD_USER_INPUT' }],
  ['a time that is not RFC 3339', { query: PAGE, variables: { id: 'i1', filter: { beginTime: 'yesterday', endTime: 'today' } }, status: 400, code: 'BAD_USER_INPUT' }],
  ['a status the upstream cannot filter', { query: PAGE, variables: { id: 'i1', filter: { status: 'DELETING' } }, status: 200, code: 'BAD_USER_INPUT' }],
  ['an enum value that does not exist', { query: PAGE, variables: { id: 'i1', filter: { type: 'SNAPSHOT' } }, status: 400, code: 'BAD_USER_INPUT' }],
  ['a field that does not exist', { query: '{ backups(instanceId: "i1") { secret } }', status: 400, code: 'GRAPHQL_VALIDATION_FAILED' }],
  ['a mutation (there are none)', { query: 'mutation { deleteBackup(id: "x") }', status: 400, code: 'GRAPHQL_VALIDATION_FAILED' }],
  ['a subscription (there are none)', { query: 'subscription { backups }', status: 400, code: 'GRAPHQL_VALIDATION_FAILED' }],
  ['an operation name that is not in the document', { body: json({ query: 'query A { __typename }', operationName: 'B' }), status: 400, code: 'OPERATION_RESOLUTION_FAILURE' }],
  ['two operations and no name', { query: 'query A { __typename } query B { __typename }', status: 400, code: 'OPERATION_RESOLUTION_FAILURE' }],
  ['PUT', { method: 'PUT', body: json({ query: '{ __typename }' }), status: 405, code: 'METHOD_NOT_ALLOWED' }],
  ['a GET without a preflight header (CSRF prevention)', { method: 'GET', path: '/graphql?query=%7B__typename%7D', contentType: null, status: 400, code: 'BAD_REQUEST' }],
  ...persistedQueryCases(),
];

/** Sends a case of the table to a gateway and checks its status and code. */
async function expectAnswer(url: string, c: Case): Promise<void> {
  const variables = typeof c.variables === 'function' ? (c.variables as () => Record<string, unknown>)() : c.variables;
  const body = typeof c.body === 'function' ? c.body() : c.body ?? (c.method === 'GET' ? undefined : json({ query: c.query, variables }));
  const headers: Record<string, string> = { ...(c.contentType === null ? {} : { 'content-type': c.contentType ?? 'application/json' }), ...c.headers };
  const res = await rawRequest(url, c.path ?? '/graphql', { method: c.method ?? 'POST', headers, body });
  expect(res.status).toBe(c.status);
  if (c.code !== undefined) expect(res.json().errors[0].extensions.code).toBe(c.code);
  if (res.text.includes('"errors"')) expect(res.text).not.toMatch(/stacktrace|at Object\.|node_modules/);
}

const errorLevelLines = (logs: string[]): string[] => logs.map((line) => JSON.parse(line)).filter((entry) => entry.level >= 50).map((entry) => entry.msg);

describe('bad input', () => {

  it.each(CASES)('%s', async (_name, c) => {
    await expectAnswer(stack.gateway.url, c);
    // The gateway still answers the next query.
    expect((await stack.gql('{ __typename }')).body).toEqual({ data: { __typename: 'Query' } });
  });

  it('sent none of them upstream, and still serves real queries', async () => {
    expect((await stack.calls()).count).toBe(0);
    expect((await stack.gql(PAGE, { id: a, first: 1 })).body.data.backups.totalCount).toBe(1234);
  });

  it('logged nothing at error level for any of them', () => {
    expect(errorLevelLines(stack.logs)).toEqual([]);
  });
});

/** Garbled persisted-query extensions are the client's error on every endpoint, in production too, and never an error-level log line. */
describe('garbled persisted queries on /subgraph and in production', () => {
  const SECRET = 'subgraph-secret-for-persisted-queries';
  let production: Stack;
  beforeAll(async () => {
    production = await startStack({ env: { NODE_ENV: 'production', SUBGRAPH_SECRET: SECRET } });
  });
  afterAll(() => production.close());

  const ENDPOINTS: Array<[string, Case[]]> = [
    ['/graphql', persistedQueryCases().map(([, c]) => c)],
    ['/subgraph', persistedQueryCases('/subgraph', { 'x-subgraph-secret': SECRET }).map(([, c]) => c)],
  ];
  it.each(persistedQueryCases().map(([name], i) => [name, i] as const))('%s, in production, on /graphql and /subgraph', async (_name, i) => {
    for (const [, cases] of ENDPOINTS) await expectAnswer(production.gateway.url, cases[i]!);
  });

  it('logged nothing at error level', () => {
    expect(errorLevelLines(production.logs)).toEqual([]);
  });
});

/**
 * DESIGN.md: any path, method or asset name is a 404 or 405 with a JSON error body; no URL,
 * header or body ever produces a 500. Each request of the sweep goes to a gateway with GraphiQL
 * on and to one with it off (and with a subgraph secret, so /subgraph exists there).
 */
describe('requests outside the API', () => {
  const SECRET = 'subgraph-secret-for-the-sweep';
  const QUERY = json({ query: '{ __typename }' });
  const ROUTES = ['/graphql', '/subgraph', '/graphiql/app.js', '/graphiql/app.css', '/healthz', '/readyz', '/metrics', '/nowhere'];
  const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
  const PROTOTYPE_KEYS = ['toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'];
  const ODD_PATHS = [
    ...PROTOTYPE_KEYS.map((key) => `/graphiql/${key}`), ...PROTOTYPE_KEYS.map((key) => `/${key}`),
    '/graphiql', '/graphiql/', '/graphiql/app.js/', '/graphiql/APP.JS', '/graphiql/app.js%00', '/graphiql/../package.json', '/graphiql/%2e%2e/package.json',
    '/graphql/', '//graphql', '/graphql//', '/GRAPHQL', '/graphql%20', '/graphql;x', '/%2e%2e/', '/%2e%2e/%2e%2e/etc/passwd', '/%', '/%zz', '/', '*',
    '/graphql?query=%zz', '/graphql?query=%', '/graphql?query=%7B__typename%7D&query=%7B__typename%7D', '/graphql?variables=%zz&query=%7B__typename%7D',
    '/graphql?extensions=%7B&query=%7B__typename%7D', `/graphql?${'&'.repeat(20_000)}`, '/graphql?query=%7B__typename%7D#fragment', '/healthz?%zz', '/metrics/',
    `/${'a'.repeat(60_000)}`, `/graphiql/${'a'.repeat(60_000)}`,
  ];
  const ODD_ACCEPT = ['text/event-stream', 'text/html', 'application/xml', '*/*', ';;;', ',,,', 'application/json;q=0', 'text/html;q=abc',
    'application/json; charset=utf-8', 'application/graphql-response+json', 'multipart/mixed', 'x'.repeat(10_000)];
  const ODD_CONTENT_TYPES = [';;;', 'application/json; charset=utf-16', 'application/json; charset="', 'application/graphql', 'text/plain', '*/*',
    'multipart/form-data', 'application/x-www-form-urlencoded', 'application/json, text/plain', 'application/graphql-response+json'];
  const ODD_BODIES: Array<string | Buffer> = ['not json', '\u0000', Buffer.from([0xff, 0xfe, 0x00, 0x81]), '{"query":', '[]', 'true', '1e999999',
    json({ query: '{ __typename }', variables: '%zz' }), json({ query: '{ __typename }', extensions: [] }), json({ query: ['{ __typename }'] }), json({ __proto__: { query: 1 } })];

  interface Probe { method: string; path: string; headers?: Record<string, string>; body?: string | Buffer }
  const PROBES: Probe[] = [
    ...ROUTES.flatMap((path) => METHODS.map((method) => ({ method, path }))),
    ...ROUTES.flatMap((path) => METHODS.filter((m) => m !== 'GET' && m !== 'HEAD').map((method) => ({ method, path, headers: { 'content-type': 'application/json' }, body: QUERY }))),
    ...ODD_PATHS.flatMap((path) => [{ method: 'GET', path }, { method: 'HEAD', path }, { method: 'GET', path, headers: { accept: 'text/html' } }]),
    ...ODD_ACCEPT.flatMap((accept) => [
      { method: 'POST', path: '/graphql', headers: { accept, 'content-type': 'application/json' }, body: QUERY },
      { method: 'GET', path: '/graphql?query=%7B__typename%7D', headers: { accept, 'apollo-require-preflight': 'true' } },
      { method: 'GET', path: '/graphql', headers: { accept } },
      { method: 'GET', path: '/graphiql/app.js', headers: { accept } },
    ]),
    ...ODD_CONTENT_TYPES.flatMap((type) => [
      { method: 'POST', path: '/graphql', headers: { 'content-type': type }, body: QUERY },
      { method: 'GET', path: '/graphql?query=%7B__typename%7D', headers: { 'content-type': type, 'apollo-require-preflight': 'true' } },
      { method: 'POST', path: '/healthz', headers: { 'content-type': type }, body: QUERY },
    ]),
    ...ODD_BODIES.flatMap((body) => ['/graphql', '/subgraph', '/graphiql/app.js', '/nowhere'].map((path) => ({ method: 'POST', path, headers: { 'content-type': 'application/json', 'x-subgraph-secret': SECRET }, body }))),
    { method: 'GET', path: '/graphiql/app.js', headers: { 'accept-encoding': 'br;q=abc, gzip;q=-1, *', 'if-none-match': '*' } },
    { method: 'GET', path: '/graphql', headers: { accept: 'text/html', 'if-none-match': '"x", W/"y", *' } },
    { method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', 'x-request-id': '../\u00ff', 'accept-language': ';;;,q=', 'x-project-id': '\u00ff' }, body: QUERY },
    { method: 'GET', path: '/subgraph?query=%7B_service%7Bsdl%7D%7D', headers: { 'x-subgraph-secret': SECRET, 'apollo-require-preflight': 'true', accept: 'text/event-stream' } },
    { method: 'OPTIONS', path: '*' },
    { method: 'FOO', path: '/graphql' },
    { method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'content-length': '5' }, body: '5\r\nhello\r\n0\r\n\r\n' },
    { method: 'GET', path: `/${'a'.repeat(70_000)}` },
  ];

  const gateways: Array<[string, () => Stack]> = [['with GraphiQL', () => stack], ['without GraphiQL', () => off]];
  let off: Stack;
  let logsBefore = 0;
  beforeAll(async () => {
    off = await startStack({ env: { GRAPHIQL: 'false', SUBGRAPH_SECRET: SECRET } });
    logsBefore = stack.logs.length;
  });
  afterAll(() => off.close());

  const describeProbe = (p: Probe): string =>
    `${p.method} ${p.path.length > 60 ? `${p.path.slice(0, 40)}… (${p.path.length} characters)` : p.path}${p.headers ? ` ${JSON.stringify(p.headers).slice(0, 120)}` : ''}${p.body === undefined ? '' : ' with a body'}`;
  const CASES = gateways.flatMap(([where, gateway]) => PROBES.map((p) => [`${where}: ${describeProbe(p)}`, gateway, p] as const));

  /** Sends a probe, its body framed by a Content-Length (Node sends a DELETE's or OPTIONS' body unframed) unless it sets its own framing. */
  const send = (url: string, p: Probe) => {
    const framed = p.body === undefined || p.headers?.['transfer-encoding'] !== undefined ? p.headers : { 'content-length': String(Buffer.byteLength(p.body)), ...p.headers };
    return rawRequest(url, p.path, { method: p.method, headers: framed, body: p.body });
  };

  it.each(CASES)('%s: no 5xx, and a JSON body for every refusal', async (_name, gateway, p) => {
    const res = await send(gateway().gateway.url, p);
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(res.status).toBeLessThan(500);
    if (res.status === 405) expect(res.headers.allow).toMatch(/^[A-Z]+(, [A-Z]+)*$/);
    if (p.method === 'HEAD' || res.status === 304) {
      expect(res.text).toBe('');
    } else if (res.status >= 400) {
      expect(res.headers['content-type']).toMatch(/^application\/(graphql-response\+)?json\b/);
      expect(() => res.json()).not.toThrow();
      expect(res.text).not.toMatch(/stacktrace|at Object\.|node_modules/);
    } else {
      expect(res.headers['content-type']).toMatch(/^(application\/(graphql-response\+)?json|text\/html|text\/javascript|text\/css|text\/plain; version=|text\/event-stream)/);
    }
  });

  const EXPECTED: Array<[string, Probe, { on: number; off: number; allow?: string }]> = [
    ...PROTOTYPE_KEYS.map((key): [string, Probe, { on: number; off: number }] => [`an asset named ${key}`, { method: 'GET', path: `/graphiql/${key}` }, { on: 404, off: 404 }]),
    ['an asset that does not exist', { method: 'GET', path: '/graphiql/secret.js' }, { on: 404, off: 404 }],
    ['an asset, posted to', { method: 'POST', path: '/graphiql/app.js' }, { on: 405, off: 404, allow: 'GET, HEAD' }],
    ['an asset, HEAD', { method: 'HEAD', path: '/graphiql/app.css' }, { on: 200, off: 404 }],
    ['a path that is not a route', { method: 'GET', path: '/graphql/' }, { on: 404, off: 404 }],
    ['a dot-dot path', { method: 'GET', path: '/%2e%2e/' }, { on: 404, off: 404 }],
    ['PUT /graphql', { method: 'PUT', path: '/graphql' }, { on: 405, off: 405, allow: 'GET, POST' }],
    ['OPTIONS /graphql (no CORS yet)', { method: 'OPTIONS', path: '/graphql' }, { on: 405, off: 405, allow: 'GET, POST' }],
    ['DELETE /healthz', { method: 'DELETE', path: '/healthz' }, { on: 405, off: 405, allow: 'GET, HEAD' }],
    ['POST /readyz', { method: 'POST', path: '/readyz' }, { on: 405, off: 405, allow: 'GET, HEAD' }],
    ['PATCH /metrics', { method: 'PATCH', path: '/metrics' }, { on: 405, off: 405, allow: 'GET, HEAD' }],
    ['HEAD /healthz', { method: 'HEAD', path: '/healthz' }, { on: 200, off: 200 }],
    ['an unknown method', { method: 'FOO', path: '/graphql' }, { on: 400, off: 400 }],
    ['a 60 KB path', { method: 'GET', path: `/${'a'.repeat(60_000)}` }, { on: 404, off: 404 }],
    ['a 70 KB path (over the header limit)', { method: 'GET', path: `/${'a'.repeat(70_000)}` }, { on: 431, off: 431 }],
  ];

  it.each(EXPECTED)('%s', async (_name, p, expected) => {
    for (const [gateway, status] of [[stack, expected.on], [off, expected.off]] as const) {
      const res = await send(gateway.gateway.url, p);
      expect(res.status).toBe(status);
      if (status === 405) expect(res.headers.allow).toBe(expected.allow);
      if (status >= 400 && p.method !== 'HEAD') expect(res.json()).toEqual(expect.any(Object));
    }
  });

  it('logged nothing at error level, and both gateways still answer queries', async () => {
    const errors = [...stack.logs.slice(logsBefore), ...off.logs].map((line) => JSON.parse(line)).filter((entry) => entry.level >= 50);
    expect(errors.map((e) => e.msg)).toEqual([]);
    for (const gateway of [stack, off]) expect((await gateway.gql('{ __typename }')).body).toEqual({ data: { __typename: 'Query' } });
  });
});
