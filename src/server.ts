/**
 * The gateway's HTTP side, composed from the Config and the singletons made at start-up: the
 * schemas, the operation concerns, Apollo for each endpoint, the fast path, and the routes the
 * router answers with. Holds no per-request state of its own. docs/architecture.md follows one
 * request through these pieces.
 */
import type http from 'node:http';

import type { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';

import type { Config } from './config';
import { createContextFactory, isLoopback, type ContextFactory, type GatewayContext } from './context';
import { createApollo, type OperationCaches } from './graphql/apollo';
import { createDocumentStore, createPersistedQueryCache } from './graphql/bounded-caches';
import { createGraphQLEndpoint, type AnswerDecorator } from './graphql/endpoint';
import { createFastPath, registeredPlugins, type FastPath } from './graphql/fast-path';
import { createHttpCaching } from './graphql/http-caching';
import { createOperationConcerns, type OperationConcerns } from './graphql/operation';
import { OperationStore } from './graphql/operation-store';
import { createRateLimitHeaders } from './graphql/rate-limit-headers';
import { createSseEndpoint, type SseEndpoint } from './graphql/sse';
import { createLiveOperations } from './graphql/subscriptions';
import { loadTrustedDocuments, type TrustedDocuments } from './graphql/trusted-documents/list';
import { createCorsFilter } from './http/cors';
import { createCompressionFilter } from './http/compression';
import { createGraphiQLHandler, wantsGraphiQL, type GraphiQLHandler } from './http/graphiql';
import { createProbeRoutes } from './http/probes';
import { jsonReply } from './http/reply';
import { createRequestListener, type Route } from './http/router';
import { createHttpServer, listen } from './http/server';
import { requireSubgraphSecret, subgraphUpgradeRefusal } from './http/subgraph-auth';
import { attachWebSockets, type WebSocketEndpoint, type WebSocketRoute } from './http/websocket';
import type { LiveSource } from './live/source';
import type { Logger } from './logger';
import type { Metrics } from './observability/metrics';
import type { Readiness } from './observability/readiness';
import type { Tracing } from './observability/tracing';
import { createSubgraphSchema, toPublicSchema } from './schema';
import type { SharedStore } from './shared-upstream/store';
import type { UpstreamClient } from './upstream/client';

export interface GatewayDeps {
  config: Config;
  logger: Logger;
  client: UpstreamClient;
  /** The upstream base URL in use (the simulator's when embedded). */
  endpoint: string;
  defaultProjectId: string | null;
  /** An instance id for GraphiQL's example query (the simulator's first instance when embedded). */
  exampleInstanceId?: string;
  metrics: Metrics;
  readiness: Readiness;
  /** More Apollo plugins for the public endpoint (tests). */
  plugins?: ApolloServerPlugin<GatewayContext>[];
  /** Where the upstream budgets live (the RateLimit headers read them); without it, answers carry none. */
  store?: SharedStore;
  /** The budget's clock, the shared upstream's. @default Date.now */
  now?: () => number;
  /**
   * Where `Subscription.backupChanges` reads its changes (the shared poll). Without it the
   * transports still answer, and each subscription ends with an error saying live changes are
   * not available here.
   */
  live?: LiveSource;
  /** Each operation's server span (the context factory starts it). @default none */
  tracing?: Tracing;
}

export interface Gateway {
  /** e.g. `http://127.0.0.1:4000` */
  url: string;
  server: http.Server;
  /**
   * Prepares what the first visitor would otherwise wait for (the GraphiQL page). Never rejects:
   * GraphiQL assets that cannot be read are a warning in the log, and the page answers 503.
   */
  warmUp(): Promise<void>;
  /**
   * Stops accepting connections, closes WebSockets with 1001 and ends event streams (clients
   * reconnect elsewhere), lets requests in flight finish (up to SHUTDOWN_TIMEOUT_MS, then cuts
   * them), and stops Apollo.
   */
  close(): Promise<void>;
  /** The public endpoint's caches per distinct operation, for tests and diagnostics. */
  caches: Required<OperationCaches>;
  /** The public endpoint's Apollo Server, for tests and diagnostics (its registered plugins). */
  apollo: ApolloServer<GatewayContext>;
  /** Whether repeats of known operations are answered without Apollo's pipeline. */
  fastPath: boolean;
}

interface Endpoints {
  schema: GraphQLSchema;
  /** The subgraph's schema (with `_entities`), for `/subgraph`'s subscriptions. */
  subgraphSchema: GraphQLSchema;
  apollo: ApolloServer<GatewayContext>;
  subgraph?: ApolloServer<GatewayContext>;
  caches: Required<OperationCaches>;
}

type Schemas = Pick<Endpoints, 'schema' | 'subgraphSchema'>;

/**
 * One Apollo per endpoint: the public one executes with graphql-jit and keeps the compiled
 * operations the fast path answers from; `/subgraph` runs graphql-js, and exists only with a
 * secret (it answers `_entities`). The public one drains the HTTP server on stop.
 */
async function startEndpoints(deps: GatewayDeps, server: http.Server, operations: OperationConcerns, { schema, subgraphSchema }: Schemas): Promise<Endpoints> {
  const { config, logger } = deps;
  const caches = { operations: new OperationStore(), documents: createDocumentStore(), persistedQueries: createPersistedQueryCache() };
  const apollo = createApollo({ schema, config, logger, operations, caches, drain: server, plugins: deps.plugins });
  const subgraph = config.subgraphSecret ? createApollo({ schema: subgraphSchema, config, logger, operations }) : undefined;
  await Promise.all([apollo.start(), subgraph?.start()]);
  return { schema, subgraphSchema, apollo, subgraph, caches };
}

/**
 * TRUSTED_DOCUMENTS, each document checked against the public schema and the operation limits
 * (and introspection when it is off), before anything starts: a ConfigError (one line, index.ts) when any is wrong.
 */
function loadTrusted({ config, logger, metrics }: GatewayDeps, schema: GraphQLSchema, operations: OperationConcerns): TrustedDocuments | undefined {
  if (!config.trustedDocuments) return undefined;
  const trusted = loadTrustedDocuments(config.trustedDocuments, {
    schema, validate: operations.validate, limits: config.limits, onResolved: (outcome) => metrics.trustedDocument(outcome),
  });
  logger.info({ file: config.trustedDocuments.file, mode: trusted.mode, documents: trusted.size }, 'trusted documents loaded');
  return trusted;
}

/** GraphiQL, unless GRAPHIQL is off or only trusted documents run (every operation GraphiQL sends would be refused). */
function createGraphiQL(deps: GatewayDeps, trusted: TrustedDocuments | undefined): GraphiQLHandler | undefined {
  if (!deps.config.graphiql) return undefined;
  if (trusted?.mode === 'require') {
    deps.logger.info('GraphiQL is off: TRUSTED_DOCUMENTS_MODE=require refuses the free-form operations it sends');
    return undefined;
  }
  const exampleHeaders: Record<string, string> = { 'X-Project-Id': deps.defaultProjectId ?? '<your project id>' };
  if (!isLoopback(deps.endpoint) && !deps.config.credentials) exampleHeaders['X-Auth-Token'] = '<your IAM token>';
  return createGraphiQLHandler({ endpoint: '/graphql', assetsPath: '/graphiql', exampleInstanceId: deps.exampleInstanceId, exampleHeaders });
}

/** The fast path of the public endpoint, unless it is turned off or a plugin needs Apollo's pipeline. */
function createPublicFastPath(deps: GatewayDeps, endpoints: Endpoints, operations: OperationConcerns): FastPath | undefined {
  if (!deps.config.fastPath) return undefined;
  const { schema, apollo, caches } = endpoints;
  return createFastPath({
    schema, store: caches.operations, operations,
    plugins: registeredPlugins(apollo),
    onStepAside: (reasons) => deps.logger.warn({ reasons }, 'the fast path is off: these Apollo plugins need its pipeline for every request'),
    onAnswered: () => deps.metrics.fastPathAnswered(),
  });
}

interface RouteDeps {
  endpoints: Endpoints;
  operations: OperationConcerns;
  createContext: ContextFactory;
  fastPath?: FastPath;
  graphiql?: GraphiQLHandler;
  sse: SseEndpoint;
  trusted?: TrustedDocuments;
  closing: () => boolean;
}

/** What every answer of a GraphQL endpoint gets, in order: the caller's budget. */
function createDecorators({ config, store, now }: GatewayDeps): AnswerDecorator[] {
  return store ? [createRateLimitHeaders({ store, perMinute: config.upstream.budgetPerMinute, now })] : [];
}

/** The routes in the order they are tried: GraphiQL (a browser asking for a page), the endpoints, the probes. */
function createRoutes(deps: GatewayDeps, { endpoints, operations, createContext, fastPath, graphiql, sse, trusted, closing }: RouteDeps): Route[] {
  const { config, metrics } = deps;
  const { apollo, subgraph } = endpoints;
  const endpoint = { createContext, operations, maxBodyBytes: config.limits.maxBodyBytes, decorators: createDecorators(deps) };
  const routes: Route[] = [];
  if (graphiql) {
    routes.push({
      matches: (x) => (x.pathname === '/graphql' && wantsGraphiQL(x)) || x.pathname.startsWith('/graphiql/'),
      handle: async (x) => (await graphiql.handle(x)) ?? jsonReply(404, { error: 'not found' }),
    });
  }
  // HTTP caching on the public endpoint only: /subgraph answers a router, which keeps nothing.
  const decorators = [...endpoint.decorators, createHttpCaching()];
  routes.push({ matches: (x) => x.pathname === '/graphql', handle: createGraphQLEndpoint({ ...endpoint, apollo, fastPath, decorators, sse, trusted }) });
  if (subgraph) {
    const handle = createGraphQLEndpoint({ ...endpoint, apollo: subgraph });
    routes.push({ matches: (x) => x.pathname === '/subgraph', handle: requireSubgraphSecret(config.subgraphSecret!, handle) });
  }
  routes.push(...createProbeRoutes({ readiness: deps.readiness, metrics, closing }));
  return routes;
}

interface LiveTransportDeps {
  server: http.Server;
  endpoints: Endpoints;
  operations: OperationConcerns;
  createContext: ContextFactory;
  trusted?: TrustedDocuments;
  closing: () => boolean;
}

/**
 * graphql-ws and GraphQL over SSE on `/graphql`, and graphql-ws on `/subgraph` when it exists
 * (a router passes subscriptions through), all through the same subscription concerns.
 */
function createLiveTransports(deps: GatewayDeps, { server, endpoints, operations, createContext, trusted, closing }: LiveTransportDeps): { sse: SseEndpoint; websockets: WebSocketEndpoint } {
  const { config, metrics, logger } = deps;
  // The trusted documents on `/graphql` only: a router in front of `/subgraph` keeps its own list.
  const liveOn = (schema: GraphQLSchema, trustedHere?: TrustedDocuments) => createLiveOperations({ schema, operations, createContext, metrics, logger, limits: config.limits, trusted: trustedHere });
  const live = liveOn(endpoints.schema, trusted);
  const routes: WebSocketRoute[] = [{ path: '/graphql', live, cors: true }];
  const secret = config.subgraphSecret;
  if (endpoints.subgraph && secret) {
    routes.push({ path: '/subgraph', live: liveOn(endpoints.subgraphSchema), cors: false, refuse: (request) => subgraphUpgradeRefusal(secret, request.headers['x-subgraph-secret']) });
  }
  const websockets = attachWebSockets({
    server, routes, cors: config.cors, maxSubscriptionsPerConnection: config.limits.maxSubscriptionsPerConnection, maxMessageBytes: config.limits.maxBodyBytes, maxWebSockets: Math.max(1, Math.floor(config.connections.maxConnections / 2)), production: config.production, closing,
  });
  return { sse: createSseEndpoint(live), websockets };
}

export async function startGateway(deps: GatewayDeps): Promise<Gateway> {
  const { config, logger, metrics } = deps;
  const operations = createOperationConcerns({ config, logger, metrics });
  const subgraphSchema = createSubgraphSchema();
  const schemas = { subgraphSchema, schema: toPublicSchema(subgraphSchema) };
  const trusted = loadTrusted(deps, schemas.schema, operations);
  const server = createHttpServer(config.connections);
  const endpoints = await startEndpoints(deps, server, operations, schemas);
  const graphiql = createGraphiQL(deps, trusted);
  const createContext = createContextFactory(deps);
  const fastPath = createPublicFastPath(deps, endpoints, operations);
  let closing = false;
  const isClosing = (): boolean => closing;
  const { sse, websockets } = createLiveTransports(deps, { server, endpoints, operations, createContext, trusted, closing: isClosing });
  server.on('request', createRequestListener({
    routes: createRoutes(deps, { endpoints, operations, createContext, fastPath, graphiql, sse, trusted, closing: isClosing }),
    // Compression last: it encodes the body every other filter has settled.
    filters: [createCorsFilter(config.cors), createCompressionFilter()],
    notFound: () => jsonReply(404, { error: 'not found', endpoints: ['/graphql', '/healthz', '/readyz', '/metrics'] }),
    metrics,
    logger,
    closing: isClosing,
  }));
  const url = await listen(server, config.port, config.host);
  return {
    url,
    server,
    caches: endpoints.caches,
    apollo: endpoints.apollo,
    fastPath: fastPath !== undefined,
    async warmUp() {
      const problem = await graphiql?.warm();
      if (problem) logger.warn({ err: problem }, 'GraphiQL is unavailable: its assets cannot be read (run `npm run build`); the page answers 503, the API is unaffected');
    },
    async close() {
      closing = true;
      // Before the drain: it would wait on them until SHUTDOWN_TIMEOUT_MS.
      await Promise.all([websockets.close(), sse.close()]);
      // The public Apollo drains the server (ApolloServerPluginDrainHttpServer): no new
      // connections, idle ones closed now, busy ones once their answer is sent, all of them
      // after SHUTDOWN_TIMEOUT_MS. The subgraph's requests in flight finish before it stops.
      await endpoints.apollo.stop();
      await endpoints.subgraph?.stop();
    },
  };
}
