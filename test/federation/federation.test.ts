/** Federation 2: composition with a foreign subgraph, and Apollo's own gateway over HTTP to both. */
import { composeServices } from '@apollo/composition';
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { printSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

import { createSubgraphSchema } from '../../src/schema';
import { rawRequest } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';
import { INVENTORY_SDL, startInventory } from './inventory-subgraph';

const SECRET = 'router-only-secret-0123456789';

describe('composition', () => {
  it('composes with a foreign subgraph that owns Instance and its own PageInfo, without errors or hints', () => {
    const result = composeServices([
      { name: 'backups', typeDefs: parse(printSubgraphSchema(createSubgraphSchema())), url: 'http://backups/subgraph' },
      { name: 'inventory', typeDefs: parse(INVENTORY_SDL), url: 'http://inventory/graphql' },
    ]);
    expect(result.errors ?? []).toEqual([]);
    expect((result.hints ?? []).map((h) => `${h.definition.code}: ${h.message}`)).toEqual([]);
    const supergraph = result.supergraphSdl ?? '';
    expect(supergraph).toContain('type Instance');
    expect(supergraph).toMatch(/region: String!/);
  });
});

describe('through @apollo/gateway over HTTP', () => {
  let stack: Stack;
  let inventory: Awaited<ReturnType<typeof startInventory>>;
  let router: ApolloServer;
  let instances: string[];

  beforeAll(async () => {
    stack = await startStack({ env: { SUBGRAPH_SECRET: SECRET } });
    const all = stack.sim.store.list();
    instances = [all[1]!.id, all[2]!.id, all[3]!.id];
    const pinned = instances.flatMap((instanceId, k) => stack.sim.store.get(instanceId)!.backups
      .filter((_, i) => i % (k + 2) === 0).slice(0, [7, 7, 6][k]).map((b) => ({ instanceId, id: b.id })));
    inventory = await startInventory({
      instances: instances.map((id, i) => ({ id, name: `db-${i}`, region: 'ap-southeast-1' })),
      pinned,
    });
    const gateway = new ApolloGateway({
      supergraphSdl: new IntrospectAndCompose({ subgraphs: [{ name: 'backups', url: `${stack.gateway.url}/subgraph` }, { name: 'inventory', url: inventory.url }] }),
      buildService: ({ url }) => new RemoteGraphQLDataSource({
        url,
        willSendRequest({ request }) {
          if (url?.endsWith('/subgraph')) request.http?.headers.set('x-subgraph-secret', SECRET);
        },
      }),
    });
    router = new ApolloServer({ gateway: gateway as never });
    await router.start();
  });
  afterAll(async () => {
    await router?.stop();
    await inventory?.stop();
    await stack?.close();
  });
  beforeEach(() => stack.resetCalls());

  async function run(query: string) {
    const res = await router.executeOperation({ query });
    if (res.body.kind !== 'single') throw new Error('expected a single result');
    return res.body.singleResult as { data?: any; errors?: any[] };
  }

  it('joins backups onto the foreign instances with one upstream call per instance', async () => {
    const result = await run(`{ myInstances { name region backups(first: 3) { totalCount nodes { id type sizeKb } pageInfo { hasNextPage endCursor } } } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data.myInstances).toHaveLength(3);
    result.data.myInstances.forEach((instance: any, i: number) => {
      const upstream = stack.sim.store.get(instances[i]!)!.backups;
      expect(instance.name).toBe(`db-${i}`);
      expect(instance.backups.totalCount).toBe(upstream.length);
      expect(instance.backups.nodes).toEqual(upstream.slice(0, 3).map((b) => ({ id: b.id, type: b.type.toUpperCase(), sizeKb: b.sizeKb })));
      expect(instance.backups.pageInfo.hasNextPage).toBe(true);
    });
    const log = await stack.calls();
    expect(log.perInstance).toEqual(Object.fromEntries(instances.map((id) => [id, 1])));
  });

  it('resolves 20 Backup entities of three instances in batches per instance', async () => {
    const result = await run(`{ pinnedBackups { instanceId id name status instance { id name } } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data.pinnedBackups).toHaveLength(20);
    for (const b of result.data.pinnedBackups) {
      const upstream = stack.sim.store.get(b.instanceId)!.backups.find((x) => x.id === b.id)!;
      expect(b).toMatchObject({ name: upstream.name, status: upstream.status });
      expect(b.instance.name).toMatch(/^db-\d$/);
    }
    const log = await stack.calls();
    const perInstance = instances.map((id) => log.perInstance[id] ?? 0);
    // At most one call per entity: nothing else in the operation reads these instances' lists (backups/lookups.ts).
    const bound = [7, 7, 6];
    perInstance.forEach((calls, k) => expect(calls).toBeLessThanOrEqual(bound[k]!));
  });
});

describe('the subgraph endpoint', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ env: { SUBGRAPH_SECRET: SECRET } }); });
  afterAll(() => stack.close());

  const post = (path: string, headers: Record<string, string> = {}) => rawRequest(stack.gateway.url, path, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: '{ _service { sdl } }' }),
  });

  it('answers the router, with the subgraph SDL', async () => {
    const res = await post('/subgraph', { 'x-subgraph-secret': SECRET });
    expect(res.status).toBe(200);
    expect(res.json().data._service.sdl).toContain('@key(fields: "instanceId id")');
  });

  it.each([['no secret', {}], ['a wrong secret', { 'x-subgraph-secret': 'guess' }], ['a secret with a suffix', { 'x-subgraph-secret': `${SECRET}x` }]])(
    'refuses %s with 401', async (_n, headers) => {
      const res = await post('/subgraph', headers);
      expect(res.status).toBe(401);
      expect(res.text).not.toContain('sdl');
    },
  );

  it('does not exist without SUBGRAPH_SECRET', async () => {
    const plain = await startStack();
    try {
      expect((await rawRequest(plain.gateway.url, '/subgraph', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
    } finally {
      await plain.close();
    }
  });

  it('keeps _entities and _service off the public /graphql', async () => {
    const res = await post('/graphql', { 'x-subgraph-secret': SECRET });
    expect(res.status).toBe(400);
    expect(res.json().errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const entities = await rawRequest(stack.gateway.url, '/graphql', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ _entities(representations: [{ __typename: "Instance", id: "x" }]) { __typename } }' }),
    });
    expect(entities.status).toBe(400);
  });
});
