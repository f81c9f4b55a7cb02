/**
 * The upstream-call estimate is an upper bound: for each operation, the calls counted at the
 * simulator never exceed what `upstreamCallsOf` priced it at; operations priced over the limit
 * are refused before any call, on /graphql and on /subgraph.
 */
import { parse } from 'graphql';

import { upstreamCallsOf } from '../../src/limits/upstream-calls';
import { createSubgraphSchema, toPublicSchema } from '../../src/schema';
import { rawRequest } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

const SECRET = 'call-estimate-secret';
const subgraph = createSubgraphSchema();
const schema = toPublicSchema(subgraph);

describe.each([['with prefetch (cache on)', '1'], ['without prefetch (cache off)', '0']])('counted calls never exceed the estimate, %s', (_name, ttl) => {
  let stack: Stack;
  let big: string;
  let small: string;
  beforeAll(async () => {
    stack = await startStack({ env: { UPSTREAM_CACHE_TTL_MS: ttl, MAX_UPSTREAM_CALLS_PER_OPERATION: '100', MAX_ALIASES: '100' } });
    big = stack.sim.store.list().find((i) => i.backups.length >= 1000)!.id;
    small = stack.sim.store.list().find((i) => i.backups.length === 45)!.id;
  });
  afterAll(() => stack.close());
  beforeEach(async () => {
    await rawRequest(stack.sim.url, '/__admin/reset', { method: 'POST' });
    await stack.resetCalls();
  });

  const ids = (instanceId: string): string[] => stack.sim.store.get(instanceId)!.backups.map((b) => b.id);
  const insert = (count: number) => rawRequest(stack.sim.url, `/__admin/instances/${big}/backups`, { method: 'POST', body: JSON.stringify({ count }) });
  const PAGE = 'query($i: ID!, $first: Int, $last: Int, $after: String, $before: String) { backups(instanceId: $i, first: $first, last: $last, after: $after, before: $before) { totalCount edges { cursor node { id } } } }';
  /** A cursor pointing at `offset` of the big list, as the gateway made it. */
  async function cursorAt(offset: number): Promise<string> {
    let reached = -1;
    let cursor: string | undefined;
    while (reached < offset) {
      const first = Math.min(500, offset - reached);
      const res = await stack.gql(PAGE, { i: big, first, after: cursor });
      cursor = res.body.data.backups.edges[first - 1].cursor;
      reached += first;
    }
    return cursor!;
  }

  /** Runs the operation and checks the simulator's count against the estimate. */
  async function expectWithinEstimate(query: string, variables: Record<string, unknown> = {}): Promise<any> {
    const estimate = upstreamCallsOf(schema, parse(query), variables);
    await stack.resetCalls();
    const res = await stack.gql(query, variables);
    expect(res.status).toBe(200);
    expect((await stack.calls()).count).toBeLessThanOrEqual(estimate);
    return res.body;
  }

  it.each([
    ['after, not moved', 99, 0, 20], ['after, moved by 7', 99, 7, 20], ['after, moved by 100', 150, 100, 20],
    ['after, moved by 101 (CURSOR_STALE)', 150, 101, 20], ['after at a chunk edge, moved', 199, 30, 100], ['after, a page of 250, moved', 310, 60, 250],
  ])('a page %s', async (_n, offset, moved, first) => {
    const after = await cursorAt(offset);
    await insert(moved);
    const body = await expectWithinEstimate(PAGE, { i: big, first, after });
    // within 100 rows the page continues right after the cursor's backup; further is CURSOR_STALE
    if (moved > 100) expect(body.errors[0].extensions.code).toBe('CURSOR_STALE');
    else expect(body.data.backups.edges[0].node.id).toBe(ids(big)[offset + moved + 1]);
  });

  it.each([['before, moved by 40', 350, 40, 30], ['before near the top, moved', 120, 90, 100], ['before, not moved', 420, 0, 20]])('a page %s (last)', async (_n, offset, moved, last) => {
    const before = await cursorAt(offset);
    await insert(moved);
    await expectWithinEstimate(PAGE, { i: big, last, before });
  });

  it('first between two cursors far apart, both moved', async () => {
    const after = await cursorAt(3);
    const before = await cursorAt(1100);
    await insert(25);
    // the page and both cursor rows used to be read as one span from cursor to cursor: 11 calls
    const body = await expectWithinEstimate(PAGE, { i: big, first: 1, after, before });
    expect(body.data.backups.edges.map((e: any) => e.node.id)).toEqual([ids(big)[3 + 25 + 1]]);
  });

  it('last after a cursor, moved', async () => {
    const after = await cursorAt(210);
    await insert(12);
    await expectWithinEstimate(PAGE, { i: big, last: 50, after });
  });

  it('lookups and aliases', async () => {
    const all = ids(big);
    const lookups = [150, 600, 1100, 5].map((r, n) => `b${n}: backup(instanceId: "${big}", id: "${all[r]}") { id }`).join(' ');
    await expectWithinEstimate(`{ ${lookups} s: backup(instanceId: "${small}", id: "${ids(small)[3]}") { id } }`);
    await expectWithinEstimate(`{ a: backups(instanceId: "${big}", first: 5) { totalCount } b: backups(instanceId: "${big}", last: 120) { totalCount } ${lookups} }`);
    await expectWithinEstimate(`{ instances(ids: ["${big}", "${small}"]) { backups(first: 2) { nodes { id instance { backup(id: "${all[400]}") { id } } } } } }`);
  });
});

describe('refusals before any call', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ env: { SUBGRAPH_SECRET: SECRET, MAX_UPSTREAM_CALLS_PER_OPERATION: '20' } }); });
  afterAll(() => stack.close());
  beforeEach(() => stack.resetCalls());

  it('prices _entities per representation on /subgraph: 100 Instances and 200 Backups are refused', async () => {
    const big = stack.sim.store.list()[0]!;
    const representations = [
      ...stack.sim.store.list().slice(0, 5).flatMap((i) => Array.from({ length: 20 }, () => ({ __typename: 'Instance', id: i.id }))),
      ...big.backups.slice(0, 200).map((b) => ({ __typename: 'Backup', instanceId: big.id, id: b.id })),
    ];
    const query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Instance { backups(first: 1) { totalCount } } ... on Backup { id } } }';
    const res = await rawRequest(stack.gateway.url, '/subgraph', {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-subgraph-secret': SECRET }, body: JSON.stringify({ query, variables: { r: representations } }),
    });
    expect(res.status).toBe(400);
    // each representation at the larger selection (one call), each Backup one lookup more
    expect(res.json().errors[0].extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', upstreamCalls: 100 + 200 * 2, maxUpstreamCalls: 20 });
    expect((await stack.calls()).count).toBe(0);
  });

  it('answers a 5,000-deep object variable with 400, never 500', async () => {
    // written as text: JSON.stringify itself gives up at this depth
    const deep = `${'{"nested":'.repeat(5000)}{"type":"AUTO"}${'}'.repeat(5000)}`;
    const big = stack.sim.store.list()[0]!.id;
    const query = JSON.stringify(`query($f: BackupFilter, $extra: String) { backups(instanceId: "${big}", first: 1, filter: $f, after: $extra) { totalCount } }`);
    const post = async (variables: string) => {
      const res = await rawRequest(stack.gateway.url, '/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"query":${query},"variables":${variables}}` });
      return { status: res.status, body: res.json() };
    };
    for (const variables of [`{"f":${deep}}`, `{"extra":${deep}}`]) {
      const res = await post(variables);
      expect(res.status).toBe(400);
      expect(res.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    }
    // a variable the operation does not declare is not read at all
    const ignored = await post(`{"f":{"type":"AUTO"},"junk":${deep}}`);
    expect(ignored.status).toBe(200);
    expect(ignored.body.data.backups.totalCount).toBeGreaterThan(0);
  });
});
