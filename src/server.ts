/**
 * The HTTP server: Apollo Server 5 on node:http, with the routes around it. Built from the
 * Config and the singletons made at start-up; holds no per-request state of its own.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import {
  ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';

import { acceptsJson } from './accept';
import { isUtf8Json } from './content-type';
import type { Config } from './config';
import { createContextFactory, isLoopback, type GatewayContext, type HeaderGetter } from './context';
import { createGraphiQLHandler, wantsGraphiQL } from './graphiql';
import { createFormatError } from './errors/format';
import type { Logger } from './logger';
import type { Metrics } from './observability/metrics';
import { createOperationRecorder, operationLogPlugin } from './observability/operation-log';
import { createFastPath } from './execution/fast-path';
import { createDocumentStore, createPersistedQueryCache, type BoundedCache } from './execution/bounded-caches';
import { releaseTokenChainPlugin } from './execution/document-memory';
import { createJitGateway, OperationStore } from './execution/jit-gateway';
import { DocumentSizeLimitedApolloServer } from './limits/document-size';
import { knownOperationTypesRule } from './limits/known-operation-types';
import { UpstreamCallLimit, upstreamCallLimitPlugin } from './limits/upstream-calls';
import type { Readiness } from './observability/readiness';
import { createSubgraphSchema, toPublicSchema as publicSchema } from './schema';
import { sendJson } from './send-json';
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
   * Stops accepting connections, lets requests in flight finish (up to `timeoutMs`, then cuts
   * them), and stops Apollo.
   */
  close(timeoutMs?: number): Promise<void>;
  /** The public endpoint's caches per distinct operation, for tests and diagnostics. */
  caches: GatewayCaches;
}

export interface GatewayCaches {
  operations: OperationStore;
  documents: BoundedCache<DocumentNode>;
  persistedQueries: BoundedCache<string>;
}

class BodyTooLargeError extends Error {}

/**
 * The client went away before its body arrived: it stopped half-way, or its chunked framing broke
 * (Node's parser then answers 400 itself, answerClientError). Nobody is left to answer.
 */
class BodyAbortedError extends Error {}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) { reject(new BodyTooLargeError()); return; }
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) { reject(new BodyTooLargeError()); req.removeAllListeners('data'); req.resume(); return; }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => reject(new BodyAbortedError())); // Node's `aborted` (ECONNRESET), whatever broke the body
    req.on('close', () => { if (!req.complete) reject(new BodyAbortedError()); });
  });
}

const graphqlError = (message: string, code: string) => ({ errors: [{ message, extensions: { code } }] });

/** The probes answer GET and HEAD; any other method is 405. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Node's own answer to a request it cannot parse (a bad method, request line or framing, headers
 * over `maxHeaderSize`) is a bare status line; this one says the same with a JSON body.
 */
/** Node's limit on a request line and its headers; larger ones get 431. */
const MAX_HEADER_BYTES = 65_536;

function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  // As Node's own handler: no answer once a response on this socket has begun (a pipelined
  // request after it broke), else its bytes would land inside that response.
  const current = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || current?.headersSent) { socket.destroy(); return; }
  const [status, message] = error.code === 'HPE_HEADER_OVERFLOW' ? [431, `The request line and headers are larger than ${MAX_HEADER_BYTES / 1024} KB.`]
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'The request did not arrive in time.']
    : [400, 'The request is not valid HTTP/1.1.'];
  const body = JSON.stringify(graphqlError(message, 'BAD_REQUEST'));
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

/** A caller's X-Request-Id is kept if it is a plain token; otherwise one is made. */
function requestIdOf(req: http.IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
}

/** The route label of a path for metrics: fixed names, never the raw path. */
function routeOf(pathname: string): string {
  if (pathname.startsWith('/graphiql/')) return '/graphiql';
  return ['/graphql', '/subgraph', '/healthz', '/readyz', '/metrics'].includes(pathname) ? pathname : 'other';
}

/** Whether a presented secret equals the configured one, in constant time (hashes have equal lengths). */
export function secretMatches(presented: string | undefined, secret: string): boolean {
  if (presented === undefined) return false;
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(presented), digest(secret));
}

export async function startGateway(deps: GatewayDeps): Promise<Gateway> {
  const { config, logger, metrics, readiness } = deps;
  const subgraphSchema = createSubgraphSchema();
  const schema = publicSchema(subgraphSchema);
  const record = createOperationRecorder(logger, metrics);
  const callLimit = new UpstreamCallLimit(config.upstream.maxCallsPerOperation);
  const formatError = createFormatError({
    onMasked: (err) => logger.error({ err }, 'unexpected error (masked in the response)'),
    // Introspection is off there: a suggestion would tell the schema's names.
    hideSuggestions: config.production,
  });
  // The public endpoint executes with graphql-jit (compiled operations); /subgraph with graphql-js.
  const operations = new OperationStore();
  const caches: GatewayCaches = { operations, documents: createDocumentStore(), persistedQueries: createPersistedQueryCache() };
  const apollo = createApollo(schema, caches);
  // The subgraph endpoint answers `_entities`, which resolves any representation: only the
  // router may reach it, so it exists only with a secret and checks it on every request.
  const subgraph = config.subgraphSecret ? createApollo(subgraphSchema) : undefined;
  await Promise.all([apollo.start(), subgraph?.start()]);
  const createContext = createContextFactory(deps);
  // Per request, the signal that aborts when its client leaves before the answer was sent.
  const clientSignals = new WeakMap<http.IncomingMessage, AbortSignal>();
  const clientSignal = (req: http.IncomingMessage): AbortSignal | undefined => clientSignals.get(req);
  const fastPath = config.fastPath
    ? createFastPath({ schema, store: operations, callLimit, createContext, clientSignal, formatError, record, onAnswered: () => metrics.fastPathAnswered() })
    : undefined;
  const exampleHeaders: Record<string, string> = { 'X-Project-Id': deps.defaultProjectId ?? '<your project id>' };
  if (!isLoopback(deps.endpoint) && !config.credentials) exampleHeaders['X-Auth-Token'] = '<your IAM token>';
  const graphiql = config.graphiql
    ? createGraphiQLHandler({ endpoint: '/graphql', assetsPath: '/graphiql', exampleInstanceId: deps.exampleInstanceId, exampleHeaders })
    : undefined;

  function createApollo(schema: GraphQLSchema, own?: GatewayCaches): ApolloServer<GatewayContext> {
    // Operation limits, checked before anything runs (graphql-armor; introspection fields do not
    // count toward depth). Its generic cost limit is off: the upstream-call cost below knows the
    // schema. Its token limit is off too: its Apollo plugin turns every syntax error into a 500
    // (graphql-armor issues #571, #751); graphql-js's own `maxTokens` parse option does it instead.
    const armor = new ApolloArmor({
      maxDepth: { n: config.limits.maxDepth, ignoreIntrospection: true, flattenFragments: true },
      maxAliases: { n: config.limits.maxAliases },
      maxTokens: { enabled: false },
      maxDirectives: { n: config.limits.maxDirectives },
      costLimit: { enabled: false },
      blockFieldSuggestion: { enabled: config.production },
    }).protect();
    // Every cache kept per distinct operation is bounded by what its entries hold
    // (execution/bounded-caches.ts); a document keeps no token chain once parsed.
    return new DocumentSizeLimitedApolloServer<GatewayContext>({
      ...(own ? { gateway: createJitGateway(schema, own.operations) } : { schema }),
      logger,
      validationRules: [...armor.validationRules, knownOperationTypesRule],
      parseOptions: { maxTokens: config.limits.maxTokens },
      documentStore: own?.documents ?? createDocumentStore(),
      persistedQueries: { cache: own?.persistedQueries ?? createPersistedQueryCache() },
      introspection: config.graphiql,
      includeStacktraceInErrorResponses: false,
      hideSchemaDetailsFromClientErrors: config.production,
      allowBatchedHttpRequests: false,
      csrfPrevention: true,
      // index.ts owns shutdown; Apollo's own handler would re-raise the signal and exit non-zero.
      stopOnTerminationSignals: false,
      formatError,
      plugins: [
        ApolloServerPluginLandingPageDisabled(),
        // No cache hints are used; the enabled plugin wraps every field resolver.
        ApolloServerPluginCacheControlDisabled(),
        ApolloServerPluginUsageReportingDisabled(),
        // Federated traces (ftv1) time every field; nothing here reports them to Apollo.
        ApolloServerPluginInlineTraceDisabled(),
        releaseTokenChainPlugin(),
        operationLogPlugin(record),
        ...armor.plugins,
        upstreamCallLimitPlugin(callLimit),
      ],
    }, config.limits.maxDocumentBytes);
  }

  /**
   * Refuses, before anything runs, a request whose `Accept` allows no JSON answer: Apollo would
   * execute it (upstream calls and all) and only then answer 406. GraphQL over SSE (DESIGN.md,
   * "Live changes": `POST /graphql` with `Accept: text/event-stream`) will be served here: its
   * handler takes those requests before this refusal, which then covers what is left.
   */
  function refuseUnacceptable(req: http.IncomingMessage, res: http.ServerResponse, header: HeaderGetter, requestId: string, started: number): void {
    const message = /\btext\/event-stream\b/i.test(req.headers.accept ?? '')
      ? 'Server-sent events are not served on this endpoint yet: accept application/json or application/graphql-response+json.'
      : 'The Accept header allows neither application/json nor application/graphql-response+json.';
    const refusal = graphqlError(message, 'BAD_REQUEST');
    record({ started, context: createContext(header, requestId), operationName: undefined, data: undefined, errors: refusal.errors });
    sendJson(res, 406, refusal);
  }

  async function handleGraphQL(server: ApolloServer<GatewayContext>, req: http.IncomingMessage, res: http.ServerResponse, search: string, requestId: string, started: number): Promise<void> {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'POST') {
      sendJson(res, 405, graphqlError('Use GET or POST.', 'METHOD_NOT_ALLOWED'), { allow: 'GET, POST' });
      return;
    }
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const header: HeaderGetter = (name) => headers.get(name);
    if (!acceptsJson(headers.get('accept'))) {
      req.resume(); // an unread body would stall a keep-alive connection
      refuseUnacceptable(req, res, header, requestId, started);
      return;
    }
    // Before the body is read: it is decoded as UTF-8 JSON, on Apollo's path and the fast path alike.
    if (method === 'POST' && !isUtf8Json(req.headers['content-type'])) {
      req.resume(); // an unread body would stall a keep-alive connection
      sendJson(res, 415, graphqlError('The request body must be application/json in UTF-8 (no charset, or charset=utf-8).', 'BAD_REQUEST'), { 'accept-post': 'application/json' });
      return;
    }
    let body: unknown;
    if (method === 'POST') {
      let text: string;
      try {
        text = await readBody(req, config.limits.maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          sendJson(res, 413, graphqlError(`The request body is larger than ${config.limits.maxBodyBytes} bytes.`, 'PAYLOAD_TOO_LARGE'), { connection: 'close' });
          return;
        }
        throw error;
      }
      try {
        body = JSON.parse(text);
      } catch {
        sendJson(res, 400, graphqlError('The request body is not valid JSON.', 'BAD_REQUEST'));
        return;
      }
      if (server === apollo && fastPath && await fastPath.handle(req, res, body, requestId, started)) return;
    }
    const result = await server.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method, headers, search, body },
      context: async () => createContext(header, requestId, clientSignal(req)),
    });
    for (const [name, value] of result.headers) res.setHeader(name, value);
    res.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  }

  async function handleReady(res: http.ServerResponse): Promise<void> {
    const report = await readiness.check();
    sendJson(res, report.ready && !shuttingDown ? 200 : 503, { status: report.ready && !shuttingDown ? 'ready' : 'unready', ...report, shuttingDown });
  }

  async function handleMetrics(res: http.ServerResponse): Promise<void> {
    const text = await metrics.registry.metrics();
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    res.end(text);
  }

  let inFlight = 0;
  let shuttingDown = false;
  const { headersTimeoutMs, requestTimeoutMs, maxConnections } = config.connections;
  const server = http.createServer({
    maxHeaderSize: MAX_HEADER_BYTES,
    // A client that sends its headers or its body slowly is cut off with 408 (answerClientError)
    // rather than holding a connection for Node's defaults (60 s, 300 s). Node checks these on
    // its own interval (30 s by default), so the interval follows the timeouts.
    headersTimeout: headersTimeoutMs,
    requestTimeout: requestTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
  }, (req, res) => {
    const started = performance.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    const search = q === -1 ? '' : url.slice(q);
    const method = req.method ?? 'GET';
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    if (shuttingDown) res.setHeader('connection', 'close');
    inFlight += 1;
    const clientLeft = new AbortController();
    clientSignals.set(req, clientLeft.signal);
    res.once('close', () => {
      inFlight -= 1;
      // A response closed before it was sent whole: the client left (or its body broke) first.
      // Its operation's upstream work stops (context.ts), and it is counted as aborted.
      const aborted = !res.writableFinished;
      if (aborted) clientLeft.abort();
      metrics.httpRequest(routeOf(pathname), req.method ?? 'GET', aborted ? 'aborted' : res.statusCode, (performance.now() - started) / 1000);
    });

    let work: Promise<void> | undefined;
    if (graphiql && ((pathname === '/graphql' && wantsGraphiQL(req, search)) || pathname.startsWith('/graphiql/'))) {
      work = graphiql.handle(req, res, pathname).then((served) => { if (!served) sendJson(res, 404, { error: 'not found' }); });
    } else if (pathname === '/graphql') {
      work = handleGraphQL(apollo, req, res, search, requestId, started);
    } else if (pathname === '/subgraph' && subgraph) {
      const presented = req.headers['x-subgraph-secret'];
      if (secretMatches(typeof presented === 'string' ? presented : undefined, config.subgraphSecret!)) work = handleGraphQL(subgraph, req, res, search, requestId, started);
      else sendJson(res, 401, graphqlError('The subgraph endpoint is for the router only.', 'UNAUTHENTICATED'));
    } else if (PROBES.has(pathname) && method !== 'GET' && method !== 'HEAD') {
      sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
    } else if (pathname === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
    } else if (pathname === '/readyz') {
      work = handleReady(res);
    } else if (pathname === '/metrics') {
      work = handleMetrics(res);
    } else {
      sendJson(res, 404, { error: 'not found', endpoints: ['/graphql', '/healthz', '/readyz', '/metrics'] });
    }
    Promise.resolve(work).catch((error: unknown) => {
      if (error instanceof BodyAbortedError) {
        logger.debug({ requestId }, 'the client left before its request body arrived'); // its socket is gone: nothing to write
        return;
      }
      logger.error({ err: error, requestId }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, graphqlError('Internal server error', 'INTERNAL_SERVER_ERROR'));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  // Connections past the cap are closed as they arrive (idle keep-alive ones count too).
  server.maxConnections = maxConnections;
  server.on('clientError', answerClientError);
  server.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => { server.once('listening', resolve); server.once('error', reject); });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  return {
    url: `http://${host}:${port}`,
    server,
    caches,
    async warmUp() {
      const problem = await graphiql?.warm();
      if (problem) logger.warn({ err: problem }, 'GraphiQL is unavailable: its assets cannot be read (run `npm run build`); the page answers 503, the API is unaffected');
    },
    async close(timeoutMs = 10_000) {
      shuttingDown = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive connections go now; busy ones when their response is sent (Connection: close).
      const deadline = Date.now() + timeoutMs;
      while (inFlight > 0 && Date.now() < deadline) {
        server.closeIdleConnections();
        await new Promise((r) => setTimeout(r, 25));
      }
      server.closeAllConnections();
      await closed;
      await Promise.all([apollo.stop(), subgraph?.stop()]);
    },
  };
}
