/**
 * Issue 19 through a router: Hive Gateway's runtime (@graphql-hive/gateway-runtime, served with
 * node:http and graphql-ws as its docs describe for Node without the CLI) over a supergraph of
 * `/subgraph` and the foreign inventory subgraph. Queries go to `/subgraph` over HTTP,
 * `backupChanges` over graphql-ws, both with the subgraph secret and the caller's credentials
 * (the simulator takes only the caller's token); the client subscribes to the router with the
 * real graphql-ws client, and each event's `instance` is joined from inventory.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { composeServices } from '@apollo/composition';
import { printSubgraphSchema } from '@apollo/subgraph';
import { createGatewayRuntime, getGraphQLWSOptions, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import httpTransport from '@graphql-mesh/transport-http';
import wsTransport from '@graphql-mesh/transport-ws';
import { parse } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import WebSocket, { WebSocketServer } from 'ws';

import { createSubgraphSchema } from '../../src/schema';
import { rawRequest } from '../helpers/http';
import { PROJECT } from '../helpers/simulator';
import { startStack, type Stack } from '../helpers/stack';
import { INVENTORY_SDL, startInventory } from './inventory-subgraph';

const SECRET = 'hive-router-secret-0123456789';
const TOKEN = 'caller-token-through-hive';
/** The caller's credentials: its request headers, or its connection_init payload (keys in lower case, as the router's entry reads them). */
const CALLER = { 'x-auth-token': TOKEN, 'x-project-id': PROJECT };

/**
 * The router's configuration as a platform team writes it (README, "Live changes"): the secret
 * from the environment on every request and on the WebSocket upgrade; the caller's credentials
 * from its headers (queries) or its connection_init payload (subscriptions).
 */
const PROPAGATE_HEADERS = {
  fromClientToSubgraphs: ({ request, subgraphName }: { request: Request; subgraphName: string }) => (subgraphName === 'backups'
    ? { 'x-auth-token': request.headers.get('x-auth-token'), 'x-project-id': request.headers.get('x-project-id') }
    : undefined),
};
const TRANSPORT_ENTRIES = {
  backups: {
    headers: [['x-subgraph-secret', '{env.SUBGRAPH_SECRET}']] as [string, string][],
    options: {
      subscriptions: {
        kind: 'ws',
        headers: [['x-subgraph-secret', '{env.SUBGRAPH_SECRET}']],
        options: {
          connectionParams: { 'x-auth-token': '{context.connectionParams.x-auth-token}', 'x-project-id': '{context.connectionParams.x-project-id}' },
          // Not in the README's snippet: a router keeps an idle subgraph socket 3 s for reuse, on
          // a timer that outlives its dispose(); the test closes it at once so that Jest can exit.
          lazyCloseTimeout: 0,
        },
      },
    },
  },
};

/** The same, but for the secret on the WebSocket: Hive gives a `ws` subscription transport no headers unless told (transport-http). */
const { headers: _wsSecret, ...subscriptionsWithoutSecret } = TRANSPORT_ENTRIES.backups.options.subscriptions;
const WITHOUT_WS_SECRET = { backups: { headers: TRANSPORT_ENTRIES.backups.headers, options: { subscriptions: subscriptionsWithoutSecret } } };

interface Router { base: string; path: string; runtime: GatewayRuntime; client: Client; close(): Promise<void> }

/**
 * Hive Gateway over `supergraph` on a free loopback port, HTTP by the runtime, WebSockets by
 * graphql-ws with the runtime's options; and a graphql-ws client of it.
 */
async function startHiveGateway(supergraph: string, transportEntries: typeof TRANSPORT_ENTRIES | typeof WITHOUT_WS_SECRET): Promise<Router> {
  const runtime = createGatewayRuntime({ supergraph, logging: false, propagateHeaders: PROPAGATE_HEADERS, transports: { http: httpTransport, ws: wsTransport }, transportEntries });
  const server = http.createServer(runtime);
  const wss = new WebSocketServer({ server, path: runtime.graphqlEndpoint });
  const ws = useServer(getGraphQLWSOptions<Record<string, unknown>, Extra>(runtime, (ctx) => ({ req: ctx.extra.request, socket: ctx.extra.socket })), wss);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = createClient({ url: `ws://127.0.0.1:${port}${runtime.graphqlEndpoint}`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: CALLER });
  return {
    base: `http://127.0.0.1:${port}`,
    path: runtime.graphqlEndpoint,
    runtime,
    client,
    async close() {
      await client.dispose();
      await ws.dispose();
      await runtime.dispose();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('through Hive Gateway: queries over HTTP, backupChanges over graphql-ws', () => {
  let stack: Stack;
  let inventory: Awaited<ReturnType<typeof startInventory>>;
  let router: Router;
  let misconfigured: Router;
  let instanceId: string;
  const previousSecret = process.env.SUBGRAPH_SECRET;

  beforeAll(async () => {
    process.env.SUBGRAPH_SECRET = SECRET; // read by the router's transport entries, not by our gateway (startStack passes its env)
    stack = await startStack({ env: { SUBGRAPH_SECRET: SECRET, LIVE_POLL_INTERVAL_MS: '100' }, simulator: { auth: { tokens: [TOKEN] } } });
    instanceId = stack.sim.store.list()[0]!.id;
    inventory = await startInventory({ instances: [{ id: instanceId, name: 'orders-db', region: 'ap-southeast-1' }], pinned: [] });
    const composed = composeServices([
      { name: 'backups', typeDefs: parse(printSubgraphSchema(createSubgraphSchema())), url: `${stack.gateway.url}/subgraph` },
      { name: 'inventory', typeDefs: parse(INVENTORY_SDL), url: inventory.url },
    ]);
    expect(composed.errors ?? []).toEqual([]);
    router = await startHiveGateway(composed.supergraphSdl!, TRANSPORT_ENTRIES);
    misconfigured = await startHiveGateway(composed.supergraphSdl!, WITHOUT_WS_SECRET);
  });
  afterAll(async () => {
    await router?.close();
    await misconfigured?.close();
    await inventory?.stop();
    await stack?.close();
    if (previousSecret === undefined) delete process.env.SUBGRAPH_SECRET;
    else process.env.SUBGRAPH_SECRET = previousSecret;
  });

  async function query(text: string): Promise<{ data?: any; errors?: unknown[] }> {
    const res = await rawRequest(router.base, router.path, { method: 'POST', headers: { 'content-type': 'application/json', ...CALLER }, body: JSON.stringify({ query: text }) });
    expect(res.status).toBe(200);
    return res.json();
  }

  it('answers a query joining the foreign instances with their backups', async () => {
    const result = await query('{ myInstances { name region backups(first: 2) { totalCount nodes { id status } } } }');
    expect(result.errors).toBeUndefined();
    const upstream = stack.sim.store.get(instanceId)!.backups;
    expect(result.data.myInstances).toEqual([{
      name: 'orders-db', region: 'ap-southeast-1',
      backups: { totalCount: upstream.length, nodes: upstream.slice(0, 2).map((b) => ({ id: b.id, status: b.status })) },
    }]);
  });

  it('delivers UPDATED after the simulator changes a backup, with the instance resolved by the inventory subgraph', async () => {
    const events = router.client.iterate({
      query: 'subscription Watch($id: ID!) { backupChanges(instanceId: $id) { kind totalCount backup { id status instance { id name region } } } }',
      variables: { id: instanceId },
    });
    const polled = (await stack.calls(instanceId)).count;
    const next = events.next();
    // The first poll is the baseline: a change is an event only once it has been read.
    while ((await stack.calls(instanceId)).count === polled) await new Promise((resolve) => setImmediate(resolve));
    const newest = (await query(`{ backups(instanceId: "${instanceId}", first: 1) { nodes { id status } } }`)).data.backups.nodes[0];
    const status = newest.status === 'FAILED' ? 'COMPLETED' : 'FAILED';
    const patched = await rawRequest(stack.sim.url, `/__admin/instances/${instanceId}/backups/${newest.id}`, { method: 'PATCH', body: JSON.stringify({ status }) });
    expect(patched.status).toBe(200);
    expect((await next).value).toEqual({
      data: { backupChanges: { kind: 'UPDATED', totalCount: stack.sim.store.get(instanceId)!.backups.length, backup: { id: newest.id, status, instance: { id: instanceId, name: 'orders-db', region: 'ap-southeast-1' } } } },
    });
    await events.return?.();
  });

  // The README's warning: a router whose ws entry lacks the header gets our 401 on the upgrade;
  // its client sees a failed subscription at once (Hive masks the cause), never a silent one.
  it('fails the subscription at once when the router sends no secret on the WebSocket', async () => {
    const events = misconfigured.client.iterate({ query: 'subscription Watch($id: ID!) { backupChanges(instanceId: $id) { kind } }', variables: { id: instanceId } });
    const first = await events.next();
    expect(first.value.data ?? null).toBeNull();
    expect(first.value.errors).toHaveLength(1);
    await events.return?.();
  });
});
