/**
 * graphql-ws on `/graphql` and `/subgraph` (subprotocol `graphql-transport-ws`, DESIGN.md "Live
 * changes"): the HTTP server's upgrades, refused here (on `/graphql` a disallowed Origin with 403,
 * on `/subgraph` one without the secret with 401, before anything else runs) or handed to a `ws`
 * server in noServer mode per path, on which graphql-ws's `useServer` speaks the protocol. Each
 * subscription goes through graphql/subscriptions.ts, as SSE's do.
 *
 * Browsers cannot set headers on a WebSocket, so credentials come from the upgrade request's
 * headers or from the `connection_init` payload (its keys in any case; the payload's win).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';

import { GraphQLError, type FormattedExecutionResult } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';

import type { CorsOrigins } from '../config';
import type { HeaderGetter } from '../context';
import type { LiveOperations, SubscriptionParams } from '../graphql/subscriptions';
import { createOriginCheck, isSameOrigin } from './cors';
import { endSocketWithJson, graphqlErrorBody } from './reply';

/** The `connection_init` payload keys read as headers (compared in lower case). */
export const CONNECTION_PARAM_HEADERS = ['x-auth-token', 'authorization', 'x-project-id', 'accept-language'] as const;

/** A close code of graphql-ws's range for a `connection_init` payload the gateway cannot read. */
const BAD_CONNECTION_PARAMS = 4400;

/** One path that takes WebSockets. */
export interface WebSocketRoute {
  path: string;
  live: LiveOperations;
  /** Whether its upgrades' Origin is checked as CORS checks a request's (the public endpoint; never `/subgraph`). */
  cors: boolean;
  /** Why an upgrade is refused before anything else (status and JSON body), or undefined: the subgraph's secret. */
  refuse?(request: http.IncomingMessage): [number, unknown] | undefined;
}

/** How long a closing WebSocket may take to answer the close frame at shutdown before it is cut. */
const CLOSE_GRACE_MS = 2000;

export interface WebSocketDeps {
  server: http.Server;
  routes: readonly WebSocketRoute[];
  cors: CorsOrigins;
  maxSubscriptionsPerConnection: number;
  /** MAX_BODY_BYTES: the largest message a client may send, as the largest HTTP body (ws's own default is 100 MiB). */
  maxMessageBytes: number;
  /**
   * WebSockets open at once across the routes: half of MAX_CONNECTIONS, so that sockets that
   * stay open (a WebSocket needs no credentials to connect) never take every slot from HTTP.
   */
  maxWebSockets: number;
  production: boolean;
  /** Whether shutdown has begun: upgrades are refused then (503). */
  closing(): boolean;
}

export interface WebSocketEndpoint {
  /** Closes every WebSocket with 1001 (going away), so clients reconnect elsewhere, and stops taking upgrades. */
  close(): Promise<void>;
}

/**
 * The `connection_init` payload's credentials by lower-case name, or why they cannot be read. Only
 * the names the gateway reads are kept; each must be a string.
 */
export function toConnectionParams(payload: unknown): Map<string, string> | string {
  const params = new Map<string, string>();
  if (payload === undefined || payload === null) return params;
  if (typeof payload !== 'object' || Array.isArray(payload)) return 'The connection_init payload must be an object of header names and values.';
  for (const [key, value] of Object.entries(payload)) {
    const name = key.toLowerCase();
    if (!(CONNECTION_PARAM_HEADERS as readonly string[]).includes(name)) continue;
    if (typeof value !== 'string') return `The connection_init payload's ${name} must be a string.`;
    params.set(name, value);
  }
  return params;
}

/** Headers of a connection: its payload's credentials first, then its upgrade request's headers. */
function connectionHeaders(request: http.IncomingMessage, params: Map<string, string>): HeaderGetter {
  return (name) => {
    const own = params.get(name);
    if (own !== undefined) return own;
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
}

const NOT_FOUND: [number, unknown] = [404, { error: 'not found: WebSockets are served on /graphql' }];

/** Why an upgrade is refused before it becomes a WebSocket, or undefined to take it. */
function upgradeRefusal(request: http.IncomingMessage, route: WebSocketRoute, deps: WebSocketDeps, allowed: (origin: string) => boolean): [number, unknown] | undefined {
  const own = route.refuse?.(request);
  if (own) return own;
  // As the CORS filter on HTTP (http/cors.ts): no Origin (a server) or the gateway's own is taken.
  const origin = request.headers.origin;
  if (route.cors && origin !== undefined && !allowed(origin) && !isSameOrigin(origin, request.headers.host)) {
    return [403, graphqlErrorBody(`WebSockets from the origin ${JSON.stringify(origin.slice(0, 200))} are not allowed: the gateway's CORS_ORIGINS does not list it.`, 'FORBIDDEN')];
  }
  if (deps.closing()) return [503, { error: 'shutting down: reconnect' }];
  return undefined;
}

/** A `ws` server in noServer mode speaking graphql-ws for one route's subscriptions. */
function createGraphQLWsServer(live: LiveOperations, deps: WebSocketDeps): { wss: WebSocketServer; dispose: () => Promise<void> } {
  const { maxSubscriptionsPerConnection } = deps;
  const wss = new WebSocketServer({ noServer: true, maxPayload: deps.maxMessageBytes });
  const connectionParams = new WeakMap<object, Map<string, string>>();
  const server = useServer<Record<string, unknown>>({
    isProd: deps.production,
    onConnect(ctx) {
      const params = toConnectionParams(ctx.connectionParams);
      if (typeof params === 'string') {
        ctx.extra.socket.close(BAD_CONNECTION_PARAMS, params);
        return false;
      }
      connectionParams.set(ctx, params);
      return true;
    },
    onSubscribe(ctx, _id, payload) {
      // ctx.subscriptions already holds this one.
      if (Object.keys(ctx.subscriptions).length > maxSubscriptionsPerConnection) {
        return [new GraphQLError(`At most ${maxSubscriptionsPerConnection} subscriptions may run on one connection (MAX_SUBSCRIPTIONS_PER_CONNECTION): complete one, or open another connection.`, { extensions: { code: 'RATE_LIMITED' } })];
      }
      const header = connectionHeaders(ctx.extra.request, connectionParams.get(ctx) ?? new Map());
      const prepared = live.prepare(payload as SubscriptionParams, { header, requestId: randomUUID(), started: performance.now() }, 'ws');
      // Already formatted: rebuilt as GraphQLErrors only because graphql-ws sends those.
      if ('errors' in prepared) return prepared.errors.map((e) => new GraphQLError(e.message, { extensions: e.extensions }));
      return prepared;
    },
    // graphql-ws types results as unformatted; these are formatted already, and onNext sends them as they are.
    subscribe: (args) => live.subscribe(args) as never,
    onNext: (_ctx, _id, _payload, _args, result) => result as FormattedExecutionResult,
  }, wss);
  // dispose() closes each socket with 1001 "Going away" and waits for each to close: a peer that
  // never answers the close frame would hold shutdown for ws's 30 s, so after a grace it is cut.
  const dispose = async (): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => { timer = setTimeout(resolve, CLOSE_GRACE_MS).unref(); });
    await Promise.race([server.dispose(), grace]);
    clearTimeout(timer);
    for (const socket of wss.clients) socket.terminate();
  };
  return { wss, dispose };
}

export function attachWebSockets(deps: WebSocketDeps): WebSocketEndpoint {
  const allowed = createOriginCheck(deps.cors);
  const servers = new Map(deps.routes.map((route) => [route.path, { route, ...createGraphQLWsServer(route.live, deps) }]));
  const onUpgrade = (request: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const target = servers.get((request.url ?? '/').split('?')[0]!);
    const open = [...servers.values()].reduce((n, s) => n + s.wss.clients.size, 0);
    const refusal = !target ? NOT_FOUND : upgradeRefusal(request, target.route, deps, allowed)
      ?? (open >= deps.maxWebSockets ? [503, { error: 'too many WebSockets open on this replica: retry later' }] as [number, unknown] : undefined);
    if (!target || refusal) { endSocketWithJson(socket, ...(refusal ?? NOT_FOUND)); return; }
    target.wss.handleUpgrade(request, socket, head, (ws) => target.wss.emit('connection', ws, request));
  };
  deps.server.on('upgrade', onUpgrade);
  let closed: Promise<void> | undefined;
  return {
    close() {
      deps.server.off('upgrade', onUpgrade);
      return (closed ??= Promise.all([...servers.values()].map((s) => s.dispose())).then(() => undefined));
    },
  };
}
