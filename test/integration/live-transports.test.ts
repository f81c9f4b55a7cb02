/**
 * Issue 19, the live transports (DESIGN.md, "Live changes"), over real HTTP and WebSockets with
 * the real graphql-ws and graphql-sse clients: delivery, credentials from the upgrade headers,
 * the connection_init payload or the request headers reaching the context, a refused origin,
 * MAX_SUBSCRIPTIONS_PER_CONNECTION, 1001 and the end of event streams on shutdown, BAD_REQUEST
 * for a plain POST, and a source's NOT_FOUND delivered with its code. The events come from a
 * stand-in source the tests push to: what is checked here is the transport, not the poll.
 */
import { GraphQLError } from 'graphql';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { createClient as createSseClient, NetworkError } from 'graphql-sse';
import WebSocket from 'ws';

import type { Backup } from '../../src/backups/model';
import type { BackupChangeEvent } from '../../src/live/source';
import { rawRequest } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';
import { StandInLiveSource } from '../helpers/stand-in-live-source';

const SUBSCRIPTION = 'subscription Watch($id: ID!, $filter: BackupFilter) { backupChanges(instanceId: $id, filter: $filter) { kind totalCount backup { id instanceId status sizeKb endTime } } }';
const OTHER_PROJECT = 'fedcba9876543210fedcba9876543210';
const TOKENS = ['token-from-init', 'token-from-upgrade', 'token-over-sse'];

function backupOf(instanceId: string, status: Backup['status']): Backup {
  return {
    id: '43e4feaab48f11e89039fa163ebaa7e4br01', instanceId, name: 'nightly', type: 'AUTO', status, sizeKb: 2 ** 33,
    beginTime: new Date('2026-12-01T00:00:00Z'), endTime: status === 'BUILDING' ? null : new Date('2026-12-01T00:10:00Z'),
    datastore: { type: 'MYSQL', version: '8.0' }, databases: [], associatedWithDdm: false, minDataVolumeCapacityForRestore: null,
  };
}

const wsUrl = (stack: Stack): string => `${stack.gateway.url.replace(/^http/, 'ws')}/graphql`;

function wsClient(stack: Stack, options: { connectionParams?: Record<string, unknown>; headers?: Record<string, string>; onClosed?: (code: number) => void } = {}): WsClient {
  const { headers } = options;
  const webSocketImpl = headers ? class extends WebSocket { constructor(url: string, protocols: string[]) { super(url, protocols, { headers }); } } : WebSocket;
  return createWsClient({
    url: wsUrl(stack), webSocketImpl, retryAttempts: 0, connectionParams: options.connectionParams,
    on: { closed: (event) => options.onClosed?.((event as { code: number }).code) },
  });
}

async function activeSubscriptions(stack: Stack, transport: string): Promise<number> {
  const text = (await rawRequest(stack.gateway.url, '/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`graphql_active_subscriptions{transport="${transport}"}`));
  return Number(line?.split(' ')[1] ?? 0);
}

/** The source ends its watch with NOT_FOUND: the client gets it as a last result, with its code, then the end. */
async function expectNotFoundDelivered(live: StandInLiveSource, events: AsyncIterableIterator<unknown>): Promise<void> {
  const first = events.next();
  await live.untilOpen(1);
  live.fail(new GraphQLError('The instance does not exist.', { extensions: { code: 'NOT_FOUND' } }));
  expect((await first).value).toEqual({ data: null, errors: [{ message: 'The instance does not exist.', extensions: { code: 'NOT_FOUND' } }] });
  expect((await events.next()).done).toBe(true);
}

/** A gateway over the simulator whose LiveSource is the stand-in, fresh for each test. */
function withLiveStack(env: Record<string, string> = {}): { stack: Stack; live: StandInLiveSource; instanceId: string } {
  const state = {} as { stack: Stack; live: StandInLiveSource; instanceId: string };
  beforeEach(async () => {
    state.live = new StandInLiveSource();
    state.stack = await startStack({ live: state.live, env, simulator: { auth: { tokens: TOKENS } } });
    state.instanceId = state.stack.sim.store.list()[0]!.id;
  });
  afterEach(() => state.stack.close());
  return state;
}

describe('graphql-ws on /graphql', () => {
  const on = withLiveStack({ MAX_SUBSCRIPTIONS_PER_CONNECTION: '2' });

  it('delivers each change, with the connection_init credentials (keys in any case) in the context', async () => {
    const { stack, live, instanceId } = on;
    const client = wsClient(stack, { connectionParams: { 'X-Auth-Token': 'token-from-init', 'x-PROJECT-id': OTHER_PROJECT, 'Accept-Language': 'zh-CN' } });
    const events = client.iterate({ query: SUBSCRIPTION, variables: { id: instanceId, filter: { type: 'AUTO' } } });
    const first = events.next();
    const [watch] = await live.untilOpen(1);
    expect(watch!.instanceId).toBe(instanceId);
    expect(watch!.filter).toEqual({ type: 'AUTO' });
    expect(watch!.context.auth).toEqual({ kind: 'token', token: 'token-from-init' });
    // The context's own upstream call carries the project, token and language it was given.
    await watch!.context.backups.connection(instanceId, { first: 1 });
    const [call] = (await stack.calls()).calls;
    expect(call).toMatchObject({ projectId: OTHER_PROJECT, headers: { xAuthToken: true, xLanguage: 'zh-cn' } });

    live.push({ kind: 'ADDED', backup: backupOf(instanceId, 'BUILDING'), totalCount: 7 });
    live.push({ kind: 'UPDATED', backup: backupOf(instanceId, 'COMPLETED'), totalCount: 7 });
    expect((await first).value).toEqual({ data: { backupChanges: { kind: 'ADDED', totalCount: 7, backup: { id: expect.any(String), instanceId, status: 'BUILDING', sizeKb: 2 ** 33, endTime: null } } } });
    expect((await events.next()).value.data.backupChanges).toMatchObject({ kind: 'UPDATED', backup: { status: 'COMPLETED', endTime: '2026-12-01T00:10:00.000Z' } });
    expect(await activeSubscriptions(stack, 'ws')).toBe(1);

    await events.return!();
    await live.untilOpen(0);
    expect(await activeSubscriptions(stack, 'ws')).toBe(0);
    expect(stack.logs.some((l) => l.includes('"graphql subscription started"') && l.includes('"operation":"Watch"'))).toBe(true);
    expect(stack.logs.some((l) => l.includes('"graphql operation"') && l.includes('"operation":"Watch"'))).toBe(true);
    await client.dispose();
  });

  it('takes credentials from the upgrade request headers too', async () => {
    const { stack, live, instanceId } = on;
    const client = wsClient(stack, { headers: { 'x-auth-token': 'token-from-upgrade', 'x-project-id': OTHER_PROJECT } });
    const events = client.iterate({ query: SUBSCRIPTION, variables: { id: instanceId } });
    void events.next();
    const [watch] = await live.untilOpen(1);
    expect(watch!.context.auth).toEqual({ kind: 'token', token: 'token-from-upgrade' });
    await watch!.context.backups.connection(instanceId, { first: 1 });
    expect((await stack.calls()).calls[0]).toMatchObject({ projectId: OTHER_PROJECT, headers: { xAuthToken: true } });
    await client.dispose();
  });

  it('closes a connection whose connection_init payload carries a credential that is not a string (4400)', async () => {
    const { stack, live, instanceId } = on;
    const closed = new Promise<number>((resolve) => {
      const client = wsClient(stack, { connectionParams: { 'X-Auth-Token': 42 }, onClosed: resolve });
      void client.iterate({ query: SUBSCRIPTION, variables: { id: instanceId } }).next().catch(() => undefined);
    });
    expect(await closed).toBe(4400);
    expect(live.watches).toHaveLength(0);
  });

  it('closes a connection that sends a message larger than MAX_BODY_BYTES (1009), before reading it', async () => {
    const { stack, live } = on;
    const socket = new WebSocket(wsUrl(stack), 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(1_048_576) } })); // MAX_BODY_BYTES' default is 1 MiB
    expect(await closed).toBe(1009);
    expect(live.watches).toHaveLength(0);
  });

  it('refuses an upgrade from an origin CORS does not allow with 403, before any upstream call or watch', async () => {
    const { stack, live, instanceId } = on;
    const socket = new WebSocket(wsUrl(stack), 'graphql-transport-ws', { origin: 'https://evil.example' });
    const status = await new Promise<number>((resolve) => socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(403);
    expect(live.watches).toHaveLength(0);
    expect((await stack.calls()).count).toBe(0);
    // A loopback origin (development) is taken.
    const allowed = new WebSocket(wsUrl(stack), 'graphql-transport-ws', { origin: 'http://localhost:5173' });
    await new Promise((resolve, reject) => { allowed.on('open', resolve); allowed.on('error', reject); });
    allowed.close();
  });

  it('refuses a subscription past MAX_SUBSCRIPTIONS_PER_CONNECTION with RATE_LIMITED, and keeps the others', async () => {
    const { stack, live, instanceId } = on;
    const client = wsClient(stack);
    const running = [client.iterate({ query: SUBSCRIPTION, variables: { id: instanceId } }), client.iterate({ query: SUBSCRIPTION, variables: { id: instanceId } })];
    const nexts = running.map((r) => r.next());
    await live.untilOpen(2);
    await expect(client.iterate({ query: SUBSCRIPTION, variables: { id: instanceId } }).next()).rejects.toEqual([
      expect.objectContaining({ message: expect.stringContaining('MAX_SUBSCRIPTIONS_PER_CONNECTION'), extensions: { code: 'RATE_LIMITED' } }),
    ]);
    live.push({ kind: 'REMOVED', backup: backupOf(instanceId, 'COMPLETED'), totalCount: 6 });
    for (const next of nexts) expect((await next).value.data.backupChanges.kind).toBe('REMOVED');
    await client.dispose();
  });

  it('delivers a source error with its code (NOT_FOUND), then completes', async () => {
    const client = wsClient(on.stack);
    await expectNotFoundDelivered(on.live, client.iterate({ query: SUBSCRIPTION, variables: { id: on.instanceId } }));
    await client.dispose();
  });

  it('refuses bad arguments and invalid operations with their codes, before any watch', async () => {
    const { stack, live, instanceId } = on;
    const client = wsClient(stack);
    const bad = await client.iterate({ query: SUBSCRIPTION, variables: { id: 'not/an/id' } }).next();
    expect(bad.value.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    await expect(client.iterate({ query: 'subscription { nope }' }).next()).rejects.toEqual([expect.objectContaining({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })]);
    await expect(client.iterate({ query: '{ instance(id: "a") { id } }' }).next()).rejects.toEqual([expect.objectContaining({ extensions: { code: 'BAD_REQUEST' } })]);
    // No such operation: as over HTTP.
    await expect(client.iterate({ query: SUBSCRIPTION, operationName: 'Other', variables: { id: instanceId } }).next()).rejects.toEqual([expect.objectContaining({ message: 'Unknown operation named "Other".', extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })]);
    // Variables that do not coerce: the caller's mistake, as over HTTP, not a masked internal error.
    for (const variables of [{}, { id: null }, { id: { a: 1 } }, { id: instanceId, filter: { type: 'NOPE' } }]) {
      await expect(client.iterate({ query: SUBSCRIPTION, variables }).next()).rejects.toEqual([expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } })]);
    }
    expect(stack.logs.filter((l) => JSON.parse(l).level >= 50)).toEqual([]);
    expect(live.watches).toHaveLength(0);
    await client.dispose();
  });

  it('closes WebSockets with 1001 on shutdown, and their watches are left', async () => {
    const { stack, live, instanceId } = on;
    const closed = new Promise<number>((resolve) => {
      const client = wsClient(stack, { onClosed: resolve });
      void client.iterate({ query: SUBSCRIPTION, variables: { id: instanceId } }).next().catch(() => undefined);
    });
    await live.untilOpen(1);
    await stack.gateway.close();
    expect(await closed).toBe(1001);
    await live.untilOpen(0);
  });
});

describe('graphql-ws when WebSockets fill half of MAX_CONNECTIONS', () => {
  const on = withLiveStack({ MAX_CONNECTIONS: '6' });

  it('refuses one more upgrade with 503, and HTTP still answers', async () => {
    const { stack } = on;
    const sockets = Array.from({ length: 3 }, () => new WebSocket(wsUrl(stack), 'graphql-transport-ws'));
    await Promise.all(sockets.map((socket) => new Promise((resolve) => socket.once('open', resolve))));
    const extra = new WebSocket(wsUrl(stack), 'graphql-transport-ws');
    const status = await new Promise<number>((resolve) => extra.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(503);
    expect((await rawRequest(stack.gateway.url, '/healthz')).status).toBe(200);
    await Promise.all(sockets.map((socket) => new Promise((resolve) => { socket.once('close', resolve); socket.close(); })));
  });
});

describe('GraphQL over SSE on /graphql (distinct connections)', () => {
  const on = withLiveStack();

  const sseClient = (headers: Record<string, string> = {}) => createSseClient({ url: `${on.stack.gateway.url}/graphql`, headers, retryAttempts: 0 });

  it('delivers each change, with the request headers as credentials', async () => {
    const { stack, live, instanceId } = on;
    const client = sseClient({ 'x-auth-token': 'token-over-sse', 'x-project-id': OTHER_PROJECT });
    const events = client.iterate<{ backupChanges: BackupChangeEvent }>({ query: SUBSCRIPTION, variables: { id: instanceId } });
    const first = events.next();
    const [watch] = await live.untilOpen(1);
    expect(watch!.context.auth).toEqual({ kind: 'token', token: 'token-over-sse' });
    await watch!.context.backups.connection(instanceId, { first: 1 });
    expect((await stack.calls()).calls[0]).toMatchObject({ projectId: OTHER_PROJECT });
    live.push({ kind: 'ADDED', backup: backupOf(instanceId, 'BUILDING'), totalCount: 3 });
    expect((await first).value).toMatchObject({ data: { backupChanges: { kind: 'ADDED', totalCount: 3, backup: { status: 'BUILDING' } } } });
    expect(await activeSubscriptions(stack, 'sse')).toBe(1);
    await events.return!();
    await live.untilOpen(0);
    expect(await activeSubscriptions(stack, 'sse')).toBe(0);
    client.dispose();
  });

  it('delivers a source error with its code (NOT_FOUND), then completes', async () => {
    const client = sseClient();
    await expectNotFoundDelivered(on.live, client.iterate({ query: SUBSCRIPTION, variables: { id: on.instanceId } }));
    client.dispose();
  });

  it('ends event streams on shutdown, and their watches are left', async () => {
    const { stack, live, instanceId } = on;
    const client = sseClient();
    const first = client.iterate({ query: SUBSCRIPTION, variables: { id: instanceId } }).next();
    await live.untilOpen(1);
    await stack.gateway.close();
    await live.untilOpen(0);
    // Cut rather than ended: the client sees a network error, which it retries (retryAttempts is 0 here).
    await expect(first).rejects.toBeInstanceOf(NetworkError);
    client.dispose();
  });

  it('answers a subscription sent as a plain JSON POST with 400 BAD_REQUEST naming both transports', async () => {
    const { stack, live, instanceId } = on;
    const res = await stack.gql(SUBSCRIPTION, { id: instanceId });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ message: expect.stringMatching(/graphql-ws.*SSE/), extensions: { code: 'BAD_REQUEST' } }]);
    expect(live.watches).toHaveLength(0);
  });
});

describe('graphql-ws on /subgraph (a router passing subscriptions through)', () => {
  const SECRET = 'router-secret-for-the-live-tests';
  const on = withLiveStack({ SUBGRAPH_SECRET: SECRET });
  const subgraphUrl = (stack: Stack): string => wsUrl(stack).replace(/\/graphql$/, '/subgraph');

  it('serves a subscription to an upgrade that presents the secret', async () => {
    const { stack, live, instanceId } = on;
    const RouterSocket = class extends WebSocket { constructor(url: string, protocols: string[]) { super(url, protocols, { headers: { 'x-subgraph-secret': SECRET } }); } };
    const client = createWsClient({ url: subgraphUrl(stack), webSocketImpl: RouterSocket, retryAttempts: 0 });
    const events = client.iterate({ query: SUBSCRIPTION, variables: { id: instanceId } });
    const first = events.next();
    await live.untilOpen(1);
    live.push({ kind: 'ADDED', backup: backupOf(instanceId, 'BUILDING'), totalCount: 1 });
    expect((await first).value).toMatchObject({ data: { backupChanges: { kind: 'ADDED', backup: { instanceId } } } });
    await client.dispose();
  });

  it.each([['no secret', {}], ['a wrong secret', { 'x-subgraph-secret': 'guess' }]])('refuses an upgrade with %s (401), before any watch', async (_name, headers) => {
    const { stack, live } = on;
    const socket = new WebSocket(subgraphUrl(stack), 'graphql-transport-ws', { headers });
    const status = await new Promise<number>((resolve) => socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(401);
    expect(live.watches).toHaveLength(0);
  });
});

describe('a gateway as startApp composes it', () => {
  it('watches through its own shared poll: UPDATED after the simulator changes a backup', async () => {
    const stack = await startStack({ env: { LIVE_POLL_INTERVAL_MS: '100' } });
    const client = createWsClient({ url: wsUrl(stack), webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const instanceId = stack.sim.store.list()[0]!.id;
      const events = client.iterate({ query: SUBSCRIPTION, variables: { id: instanceId } });
      const next = events.next();
      // The first poll is the baseline: a change is an event only once it has been read.
      while ((await stack.calls(instanceId)).count === 0) await new Promise((resolve) => setImmediate(resolve));
      const newest = (await stack.gql(`{ backups(instanceId: "${instanceId}", first: 1) { nodes { id status } } }`)).body.data.backups.nodes[0];
      const status = newest.status === 'FAILED' ? 'COMPLETED' : 'FAILED';
      await rawRequest(stack.sim.url, `/__admin/instances/${instanceId}/backups/${newest.id}`, { method: 'PATCH', body: JSON.stringify({ status }) });
      expect((await next).value).toMatchObject({ data: { backupChanges: { kind: 'UPDATED', backup: { id: newest.id, status } } } });
      await events.return?.();
    } finally {
      await client.dispose();
      await stack.close();
    }
  });
});
