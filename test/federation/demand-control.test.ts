/**
 * Demand control in a supergraph (DESIGN.md): Hive Gateway's own demand control
 * (@graphql-hive/gateway-runtime's `demandControl`, the IBM cost spec over `@cost`/`@listSize`)
 * runs over the supergraph composed from this subgraph and the foreign inventory one, with
 * `maxCost` at ROUTER_COST_PER_CALL x 20. Each operation goes through it over HTTP; its estimate
 * is read from the response's `extensions.cost`, next to what the gateway's own check says
 * (upstreamCallsOf(), the function behind MAX_UPSTREAM_CALLS_PER_OPERATION=20).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { composeServices } from '@apollo/composition';
import { printSubgraphSchema } from '@apollo/subgraph';
import { createGatewayRuntime, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import httpTransport from '@graphql-mesh/transport-http';
import { parse } from 'graphql';

import { ROUTER_COST_PER_CALL } from '../../src/backups/cost';
import { upstreamCallsOf } from '../../src/limits/upstream-calls';
import { createSubgraphSchema, toPublicSchema } from '../../src/schema';
import { rawRequest } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';
import { INVENTORY_SDL, startInventory } from './inventory-subgraph';

const SECRET = 'demand-control-secret-0123456789';
const MAX_CALLS = 20;
const MAX_COST = ROUTER_COST_PER_CALL * MAX_CALLS;
const ROW = 'id name type status sizeKb beginTime';
/** The example console's query (web/console/InstanceCard.tsx): `$after` is unset on the first page. */
const CONSOLE_PAGE = `query($id: ID!, $first: Int!, $after: String) { instance(id: $id) { id backups(first: $first, after: $after) {
  totalCount edges { cursor node { ${ROW} } } pageInfo { hasNextPage endCursor } } } }`;

interface Priced { cost: number; refusedByRouter: boolean; calls: number; errors: string[] }

/** `n` aliased copies of `field`. */
const aliased = (n: number, field: string) => Array.from({ length: n }, (_, k) => `a${k}: ${field}`).join(' ');

describe('Hive Gateway demand control over the composed supergraph', () => {
  let stack: Stack;
  let inventory: Awaited<ReturnType<typeof startInventory>>;
  let runtime: GatewayRuntime;
  let server: http.Server;
  let base: string;
  let I: string;
  let ids: string[];
  let cursor: string;
  const publicSchema = toPublicSchema(createSubgraphSchema());
  const previousSecret = process.env.SUBGRAPH_SECRET;

  beforeAll(async () => {
    process.env.SUBGRAPH_SECRET = SECRET; // read by the router's transport entry
    stack = await startStack({ env: { SUBGRAPH_SECRET: SECRET } });
    ids = stack.sim.store.list().map((i) => i.id);
    I = ids[0]!;
    inventory = await startInventory({ instances: ids.slice(0, 3).map((id, k) => ({ id, name: `db-${k}`, region: 'ap-southeast-1' })), pinned: [] });
    const composed = composeServices([
      { name: 'backups', typeDefs: parse(printSubgraphSchema(createSubgraphSchema())), url: `${stack.gateway.url}/subgraph` },
      { name: 'inventory', typeDefs: parse(INVENTORY_SDL), url: inventory.url },
    ]);
    expect(composed.errors ?? []).toEqual([]);
    runtime = createGatewayRuntime({
      supergraph: composed.supergraphSdl!,
      logging: false,
      transports: { http: httpTransport },
      transportEntries: { backups: { headers: [['x-subgraph-secret', '{env.SUBGRAPH_SECRET}']] } },
      // The README's configuration: the max that MAX_UPSTREAM_CALLS_PER_OPERATION=20 corresponds to.
      demandControl: { maxCost: MAX_COST, includeExtensionMetadata: true },
    });
    server = http.createServer(runtime);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    cursor = (await stack.gql(`{ backups(instanceId: "${I}", first: 1) { edges { cursor } } }`)).body.data.backups.edges[0].cursor;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await runtime?.dispose();
    await inventory?.stop();
    await stack?.close();
    if (previousSecret === undefined) delete process.env.SUBGRAPH_SECRET;
    else process.env.SUBGRAPH_SECRET = previousSecret;
  });

  /** The router's estimate and verdict for `query`, and the gateway's own estimate of it. */
  async function price(query: string, variables?: Record<string, unknown>): Promise<Priced> {
    const res = await rawRequest(base, '/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    const body = res.json();
    const errors: string[] = (body.errors ?? []).map((e: any) => e.extensions?.code ?? e.message);
    const refusal = body.errors?.find((e: any) => e.extensions?.code === 'COST_ESTIMATED_TOO_EXPENSIVE');
    const cost: number = refusal?.extensions.cost.estimated ?? body.extensions?.cost?.estimated;
    expect(typeof cost).toBe('number');
    return { cost, refusedByRouter: refusal !== undefined, calls: upstreamCallsOf(publicSchema, parse(query), variables), errors };
  }

  /** Realistic operations, each with the gateway's estimate (upstream calls) and Hive's (cost units) that the test pins. */
  const operations = (): Record<string, [string, Record<string, unknown>?]> => ({
    'a page of the default size': [`{ backups(instanceId: "${I}") { nodes { ${ROW} } } }`],
    'first: 1': [`{ backups(instanceId: "${I}", first: 1) { nodes { id } } }`],
    'first: 0, totalCount only': [`{ backups(instanceId: "${I}", first: 0) { totalCount } }`],
    'first: 20 with edges, pageInfo and totalCount': [`{ backups(instanceId: "${I}", first: 20) { totalCount edges { cursor node { ${ROW} } } pageInfo { hasNextPage endCursor } } }`],
    'first: 20 with a filter and nested objects': [`{ backups(instanceId: "${I}", first: 20, filter: { type: AUTO }) { nodes { id datastore { type version } databases { name } instance { id } } } }`],
    'a page of 100': [`{ instance(id: "${I}") { backups(first: 100) { totalCount edges { cursor node { ${ROW} } } pageInfo { hasNextPage endCursor } } } }`],
    'the console\'s next page (first: 100 after a cursor)': [CONSOLE_PAGE, { id: I, first: 100, after: cursor }],
    'first: 250': [`{ backups(instanceId: "${I}", first: 250) { nodes { id } } }`],
    'first: 500': [`{ backups(instanceId: "${I}", first: 500) { edges { node { id } } } }`],
    'first: 20 after a cursor': [`{ backups(instanceId: "${I}", first: 20, after: "${cursor}") { nodes { id } } }`],
    'last: 20': [`{ backups(instanceId: "${I}", last: 20) { nodes { id } } }`],
    'last: 20 before a cursor': [`{ backups(instanceId: "${I}", last: 20, before: "${cursor}") { nodes { id } } }`],
    'last: 20 after a cursor': [`{ backups(instanceId: "${I}", last: 20, after: "${cursor}") { nodes { id } } }`],
    'a lookup': [`{ backup(instanceId: "${I}", id: "x") { ${ROW} instance { id } } }`],
    'two aliased pages of 20': [`{ ${aliased(2, `backups(instanceId: "${I}", first: 20) { nodes { id } }`)} }`],
    'a page of 20 in each of 5 rows': [`{ backups(instanceId: "${I}", first: 5) { nodes { instance { backups(first: 20) { nodes { id } } } } } }`],
    'instances (10 ids), a page of 20 each': [`query($ids: [ID!]!) { instances(ids: $ids) { id backups(first: 20) { totalCount nodes { ${ROW} } } } }`, { ids: Array.from({ length: 10 }, (_, k) => ids[k % ids.length]) }],
    '20 aliased lookups': [`{ ${aliased(20, `backup(instanceId: "${I}", id: "x") { id }`)} }`],
    '21 aliased lookups': [`{ ${aliased(21, `backup(instanceId: "${I}", id: "x") { id }`)} }`],
    '20 aliased pages of 20': [`{ ${aliased(20, `instance(id: "${I}") { backups(first: 20) { nodes { id } } }`)} }`],
    '21 aliased pages of 20': [`{ ${aliased(21, `instance(id: "${I}") { backups(first: 20) { nodes { id } } }`)} }`],
    '4 pages of 500': [`{ ${aliased(4, `backups(instanceId: "${I}", first: 500) { nodes { id } }`)} }`],
    '5 pages of 500': [`{ ${aliased(5, `backups(instanceId: "${I}", first: 500) { nodes { id } }`)} }`],
    'a lookup in each of 19 rows': [`{ instance(id: "${I}") { backups(first: 19) { nodes { instance { backup(id: "x") { id } } } } } }`],
    'a lookup in each of 20 rows': [`{ instance(id: "${I}") { backups(first: 20) { nodes { instance { backup(id: "x") { id } } } } } }`],
    'a Relay refetch': [`{ node(id: "${I}") { id } }`],
  });

  /** [gateway's upstream calls, Hive's estimated cost] for each operation above. */
  const EXPECTED: Record<string, [number, number]> = {
    'a page of the default size': [1, 101],
    'first: 1': [1, 101],
    'first: 0, totalCount only': [1, 100],
    'first: 20 with edges, pageInfo and totalCount': [1, 120],
    'first: 20 with a filter and nested objects': [1, 120],
    'a page of 100': [1, 200],
    'the console\'s next page (first: 100 after a cursor)': [4, 560],
    'first: 250': [3, 350],
    'first: 500': [5, 600],
    'first: 20 after a cursor': [4, 480],
    'last: 20': [3, 360],
    'last: 20 before a cursor': [4, 480],
    'last: 20 after a cursor': [6, 720],
    'a lookup': [1, 120],
    'two aliased pages of 20': [2, 240],
    'a page of 20 in each of 5 rows': [6, 705],
    'instances (10 ids), a page of 20 each': [10, 1200],
    '20 aliased lookups': [20, 2400],
    '21 aliased lookups': [21, 2520],
    '20 aliased pages of 20': [20, 2400],
    '21 aliased pages of 20': [21, 2520],
    '4 pages of 500': [20, 2400],
    '5 pages of 500': [25, 3000],
    'a lookup in each of 19 rows': [20, 2399],
    'a lookup in each of 20 rows': [21, 2520],
    'a Relay refetch': [0, 1],
  };

  let priced: Record<string, Priced>;
  beforeAll(async () => {
    priced = {};
    for (const [name, [query, variables]] of Object.entries(operations())) priced[name] = await price(query, variables);
  });

  it('estimates each operation as the table says', () => {
    expect(Object.fromEntries(Object.entries(priced).map(([name, p]) => [name, [p.calls, p.cost]]))).toEqual(EXPECTED);
  });

  it('orders the operations as the gateway\'s upstream-call estimate does', () => {
    const disordered: string[] = [];
    for (const [a, pa] of Object.entries(priced)) {
      for (const [b, pb] of Object.entries(priced)) {
        if (pa.calls < pb.calls && !(pa.cost < pb.cost)) disordered.push(`${a} (${pa.calls} calls, cost ${pa.cost}) vs ${b} (${pb.calls} calls, cost ${pb.cost})`);
      }
    }
    expect(disordered).toEqual([]);
  });

  it(`refuses at maxCost ${MAX_COST} exactly the operations the gateway refuses at ${MAX_CALLS} calls`, () => {
    const verdicts = Object.fromEntries(Object.entries(priced).map(([name, p]) => [name, p.refusedByRouter]));
    expect(verdicts).toEqual(Object.fromEntries(Object.entries(priced).map(([name, p]) => [name, p.calls > MAX_CALLS])));
    expect(Object.values(verdicts).filter(Boolean)).toHaveLength(4);
  });

  it('sends an operation it refuses nowhere: the subgraph never sees it', async () => {
    const seen = (name: string) => stack.logs.filter((line) => line.includes('"graphql operation"') && line.includes(`"operation":"${name}"`)).length;
    const refused = await price(`query FivePages { ${aliased(5, `backups(instanceId: "${I}", first: 500) { nodes { id } }`)} }`);
    const admitted = await price(`query FourPages { ${aliased(4, `backups(instanceId: "${I}", first: 500) { nodes { id } }`)} }`);
    expect([refused.refusedByRouter, admitted.refusedByRouter]).toEqual([true, false]);
    expect([seen('FivePages'), seen('FourPages')]).toEqual([0, 1]);
  });

  // What the directives cannot say. Each case pins the divergence so that a change in it is seen.
  describe('where a router cannot follow the gateway', () => {
    it('prices instances(ids:) as 10 instances, however many ids; the gateway refuses 30 itself', async () => {
      const query = `query($ids: [ID!]!) { instances(ids: $ids) { backups(first: 20) { nodes { id } } } }`;
      const three = await price(query, { ids: ids.slice(0, 3) });
      const thirty = await price(query, { ids: Array.from({ length: 30 }, (_, k) => ids[k % ids.length]) });
      expect([three.calls, three.cost]).toEqual([3, 1200]);
      expect([thirty.calls, thirty.cost, thirty.refusedByRouter]).toEqual([30, 1200, false]);
      expect(thirty.errors).toContain('GRAPHQL_VALIDATION_FAILED'); // the subgraph's own refusal, through the router
    });

    it('prices a connection without edges or nodes as one row-less page, whatever its size', async () => {
      const totalOnly = await price(`{ backups(instanceId: "${I}", first: 500) { totalCount } }`);
      expect([totalOnly.calls, totalOnly.cost]).toEqual([5, 100]);
    });

    it('prices `before` beside `first` as beside `last` (two calls under)', async () => {
      const odd = await price(`{ backups(instanceId: "${I}", first: 20, before: "${cursor}") { nodes { id } } }`);
      expect([odd.calls, odd.cost]).toEqual([4, 240]);
    });

    // Apollo Router scores a variable by its value (unset or null: no cost); Hive Gateway 2.12 adds
    // an argument's weight whenever the argument is in the subgraph request, whatever its value.
    it('Hive prices a cursor variable that is unset or null (the gateway: no cursor)', async () => {
      const firstPage = await price(CONSOLE_PAGE, { id: I, first: 100 });
      expect([firstPage.calls, firstPage.cost]).toEqual([1, 560]);
      expect((await price(CONSOLE_PAGE, { id: I, first: 100, after: null })).cost).toBe(560);
    });

    it('prices an entity fetch once, however many representations the router sends', async () => {
      const join = await price(`{ myInstances { name backups(first: 20) { nodes { id } } } }`);
      expect(join.errors).toEqual([]);
      // What the router sends the subgraph for the 3 instances inventory lists, as the gateway prices it.
      const fetch = parse('query($r: [_Any!]!) { _entities(representations: $r) { ... on Instance { backups(first: 20) { nodes { id } } } } }');
      const representations = ids.slice(0, 3).map((id) => ({ __typename: 'Instance', id }));
      expect(upstreamCallsOf(createSubgraphSchema(), fetch, { r: representations })).toBe(3);
      expect(join.cost).toBe(121); // one page of 20, and 1 for the _Entity (Hive's listSize option, default 0, would size the list)
    });
  });
});
