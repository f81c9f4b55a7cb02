/**
 * The fast path (src/execution/fast-path.ts) must be invisible: every request gets the same
 * status, content type and body, byte for byte, as Apollo's pipeline gives it. Two gateways, one
 * with GRAPHQL_FAST_PATH=false, each over its own simulator with the same seed, get the same
 * requests; the first sending of each operation text registers it, the repeat is compared.
 */
import { rawRequest } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

interface Case {
  name: string;
  query: string;
  /** Variables of the first sending (which registers the operation); default: those of the repeat. */
  warmVariables?: Record<string, unknown>;
  variables?: Record<string, unknown>;
  operationName?: string;
  headers?: Record<string, string>;
  extensions?: Record<string, unknown>;
  /** Whether the repeat is answered by the fast path (else by Apollo, through the fallback). */
  fast: boolean;
}

const PAGE = 'query Page($id: ID!, $first: Int, $after: String) { backups(instanceId: $id, first: $first, after: $after) { totalCount edges { cursor node { id name type sizeKb status beginTime endTime datastore { type version } instanceId } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }';

function send(stack: Stack, c: Case, variables: Record<string, unknown> | undefined) {
  const body: Record<string, unknown> = { query: c.query, variables };
  if (c.operationName) body.operationName = c.operationName;
  if (c.extensions) body.extensions = c.extensions;
  return rawRequest(stack.gateway.url, '/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...c.headers }, body: JSON.stringify(body) });
}

async function fastCount(stack: Stack): Promise<number> {
  const text = (await rawRequest(stack.gateway.url, '/metrics')).text;
  return Number(/^graphql_fast_path_operations_total (\d+)/m.exec(text)?.[1] ?? NaN);
}

/** The simulator's request ids are random: the only part two identical answers may differ in. */
const sameIds = (text: string): string => text.replace(/"requestId":"[0-9a-f]{32}"/g, '"requestId":"<upstream>"');

const operationLines = (stack: Stack) => stack.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'graphql operation');

describe('fast path', () => {
  let fast: Stack;
  let apollo: Stack;
  let big: string;
  beforeAll(async () => {
    const env = { MAX_UPSTREAM_CALLS_PER_OPERATION: '4' };
    [fast, apollo] = await Promise.all([startStack({ env }), startStack({ env: { ...env, GRAPHQL_FAST_PATH: 'false' } })]);
    big = fast.sim.store.list()[0]!.id;
  });
  afterAll(async () => {
    await Promise.all([fast?.close(), apollo?.close()]);
  });

  const cases = (): Case[] => [
    { name: 'a page with cursors', query: PAGE, variables: { id: big, first: 20 }, fast: true },
    { name: 'a page after a cursor', query: PAGE, warmVariables: { id: big, first: 3 }, variables: { id: big, first: 5, after: 'djI6' }, fast: true },
    { name: 'an unknown instance (data null, NOT_FOUND)', query: PAGE, variables: { id: 'no-such-instance', first: 2 }, fast: true },
    { name: 'partial data (one alias fails)', query: `query Two($a: ID!) { ok: backups(instanceId: $a, first: 1) { totalCount } gone: backups(instanceId: "missing-one", first: 1) { totalCount } }`, variables: { a: big }, fast: true },
    { name: 'a lookup that finds nothing', query: 'query One($i: ID!, $b: ID!) { backup(instanceId: $i, id: $b) { id name } }', variables: { i: big, b: 'nope' }, fast: true },
    { name: 'a resolver refusing an argument', query: PAGE, warmVariables: { id: big, first: 1 }, variables: { id: big, first: -1 }, fast: true },
    { name: 'variables that do not coerce', query: PAGE, warmVariables: { id: big, first: 1 }, variables: { id: big, first: 'ten' }, fast: false },
    { name: 'a missing required variable', query: PAGE, warmVariables: { id: big, first: 1 }, variables: { first: 1 }, fast: false },
    { name: 'over the upstream-call limit', query: PAGE, warmVariables: { id: big, first: 1 }, variables: { id: big, first: 450 }, fast: false },
    { name: 'an operation chosen by name', query: `query A { __typename } query B($id: ID!) { backups(instanceId: $id, first: 1) { totalCount } }`, operationName: 'B', variables: { id: big }, fast: true },
    { name: 'graphql-response+json accepted', query: '{ __typename }', headers: { accept: 'application/graphql-response+json' }, fast: true },
    { name: 'another Accept', query: '{ __typename }', headers: { accept: 'application/json, text/plain;q=0.5' }, fast: false },
    { name: 'extensions in the body', query: '{ __typename }', extensions: { something: true }, fast: false },
  ];

  it.each(cases().map((c) => [c.name, c.fast] as const))('%s: same answer as Apollo (fast path: %s)', async (name) => {
    const c = cases().find((x) => x.name === name)!;
    const [warmFast, warmApollo] = await Promise.all([send(fast, c, c.warmVariables ?? c.variables), send(apollo, c, c.warmVariables ?? c.variables)]);
    expect(sameIds(warmFast.text)).toBe(sameIds(warmApollo.text));
    // A real cursor for the "after" case: the one the warm-up page ended with.
    const variables = { ...c.variables };
    if (variables.after === 'djI6') variables.after = JSON.parse(warmFast.text).data.backups.pageInfo.endCursor;
    const before = await fastCount(fast);
    const linesBefore = operationLines(fast).length;
    const [a, b] = await Promise.all([send(fast, c, variables), send(apollo, c, variables)]);
    expect(await fastCount(fast)).toBe(before + (c.fast ? 1 : 0));
    expect({ status: a.status, type: a.headers['content-type'], text: sameIds(a.text) }).toEqual({ status: b.status, type: b.headers['content-type'], text: sameIds(b.text) });
    expect(a.text.endsWith('\n')).toBe(true);
    // One log line for the operation, whichever pipeline answered it, saying what Apollo's would.
    const line = operationLines(fast).slice(linesBefore);
    const other = operationLines(apollo).at(-1);
    expect(line).toHaveLength(1);
    const { requestId: _r1, durationMs: _d1, time: _t1, ...mine } = line[0];
    const { requestId: _r2, durationMs: _d2, time: _t2, ...theirs } = other;
    expect(mine).toEqual(theirs);
  });

  it('sends nothing through the fast path when it is turned off', async () => {
    expect(await fastCount(apollo)).toBe(0);
  });

  it('answers a repeat through the fast path with the caller\'s credentials and project, not the first caller\'s', async () => {
    const query = 'query Who($id: ID!) { backups(instanceId: $id, first: 1) { totalCount } }';
    await fast.gql(query, { id: big }, { 'x-project-id': 'p-first' });
    await fast.resetCalls();
    const before = await fastCount(fast);
    await fast.gql(query, { id: big }, { 'x-project-id': 'p-second', 'x-auth-token': 'second-token' });
    expect(await fastCount(fast)).toBe(before + 1);
    const { calls } = await fast.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0].path).toContain('/v3/p-second/');
    expect(calls[0].headers.xAuthToken).toBe(true);
  });
});
