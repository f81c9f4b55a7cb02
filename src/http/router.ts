/**
 * Every HTTP request passes here, before any GraphQL pipeline: its id, the signal of its client
 * leaving, its metrics sample, the choice of route, and the writing of the route's Reply. Routes
 * return Replies and never touch the socket, so what every answer needs (CORS, caching,
 * compression, rate-limit headers) is added in one place: `writeReply()`.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';

import { Canceller, type CancelSignal } from '../cancel';
import type { Logger } from '../logger';
import type { Metrics } from '../observability/metrics';
import { BodyAbortedError } from './body';
import { graphqlErrorReply, StreamInterruptedError, type Reply } from './reply';

/** One request as every route sees it. */

/** What a streamed answer may leave unread in its socket before the stream is cut (a slow or stalled client). */
const MAX_UNREAD_STREAM_BYTES = 1024 * 1024;

export interface Exchange {
  readonly req: http.IncomingMessage;
  readonly method: string;
  readonly pathname: string;
  /** The query string with its `?`, or ''. */
  readonly search: string;
  /** `X-Request-Id`: the caller's when it is a plain token, else a new one; sent back on every answer. */
  readonly requestId: string;
  /** `performance.now()` at its arrival. */
  readonly started: number;
  /** Aborts when the client leaves before its answer was sent whole. */
  readonly signal: CancelSignal;
  /** A request header by lower-case name (repeated ones joined with ", "). */
  header(name: string): string | undefined;
}

export type RouteHandler = (exchange: Exchange) => Reply | Promise<Reply>;

export interface Route {
  /** Whether this route answers the request; the first route that does, answers. */
  matches(exchange: Exchange): boolean;
  handle: RouteHandler;
}

/**
 * What applies to every route's answers: CORS, compression and the like. Filters run in order;
 * each may answer a request itself before routing (a CORS preflight) and may change every Reply
 * (headers, an encoded body) before it is written, the 500 of a failed route included.
 */
export interface HttpFilter {
  /** An answer of the filter's own instead of the route's, or undefined to go on. */
  request?(exchange: Exchange): Reply | undefined;
  /** The Reply to write instead of `reply` (or `reply`, changed or not). */
  reply?(exchange: Exchange, reply: Reply): Reply | Promise<Reply>;
}

export interface RouterOptions {
  routes: readonly Route[];
  /** @default none */
  filters?: readonly HttpFilter[];
  /** The answer when no route matches. */
  notFound: RouteHandler;
  metrics: Metrics;
  logger: Logger;
  /** Whether shutdown has begun: answers then close their connection. */
  closing(): boolean;
}

/** A caller's X-Request-Id is kept if it is a plain token; otherwise one is made. */
function requestIdOf(req: http.IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
}

/** The route label of a path for metrics: fixed names, never the raw path. */
function routeLabel(pathname: string): string {
  if (pathname.startsWith('/graphiql/')) return '/graphiql';
  return ['/graphql', '/subgraph', '/healthz', '/readyz', '/metrics'].includes(pathname) ? pathname : 'other';
}

function toExchange(req: http.IncomingMessage, signal: CancelSignal): Exchange {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return {
    req,
    method: req.method ?? 'GET',
    pathname: q === -1 ? url : url.slice(0, q),
    search: q === -1 ? '' : url.slice(q),
    requestId: requestIdOf(req),
    started: performance.now(),
    signal,
    header(name) {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/**
 * Writes a route's answer: the one place every response passes, whatever route made it. A whole
 * body goes out with its length; chunks are streamed. (Node sends no body for HEAD.)
 */
async function writeReply(res: http.ServerResponse, exchange: Exchange, reply: Reply, closing: boolean): Promise<void> {
  const headers: Record<string, string> = { ...reply.headers, 'x-request-id': exchange.requestId };
  if (closing) headers.connection = 'close';
  const { body } = reply;
  if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    res.writeHead(reply.status, headers);
    res.end(body);
    return;
  }
  res.writeHead(reply.status, headers);
  // A client that leaves ends the stream at once (a subscription's event stream may wait for
  // its next event for minutes): `return()` lets its source go, which for-await would do only
  // after that next chunk.
  const chunks = body[Symbol.asyncIterator]();
  const stop = (): void => void chunks.return?.().catch(() => undefined);
  res.once('close', stop);
  if (res.destroyed) stop(); // it left before this listened
  try {
    for (let step = await chunks.next(); !step.done; step = await chunks.next()) {
      // A client that does not read while events go on would make the socket buffer them all.
      if (!res.write(step.value) && res.writableLength > MAX_UNREAD_STREAM_BYTES) {
        res.destroy();
        break;
      }
    }
  } finally {
    res.off('close', stop);
  }
  res.end();
}


/** The server's request listener: builds each Exchange, routes it, writes its Reply. */
export function createRequestListener(options: RouterOptions): http.RequestListener {
  const { routes, notFound, metrics, logger, filters = [] } = options;
  const filtered = async (exchange: Exchange, reply: Reply): Promise<Reply> => {
    let out = reply;
    for (const filter of filters) if (filter.reply) out = await filter.reply(exchange, out);
    return out;
  };
  const answer = async (exchange: Exchange): Promise<Reply> => {
    for (const filter of filters) {
      const own = filter.request?.(exchange);
      if (own) return filtered(exchange, own);
    }
    const route = routes.find((r) => r.matches(exchange));
    return filtered(exchange, await (route?.handle ?? notFound)(exchange));
  };
  return (req, res) => {
    const clientLeft = new Canceller();
    const exchange = toExchange(req, clientLeft.signal);
    res.once('close', () => {
      // A response closed before it was sent whole: the client left (or its body broke) first.
      // Its operation's upstream work stops (context.ts), and it is counted as aborted.
      const aborted = !res.writableFinished;
      if (aborted) clientLeft.abort();
      metrics.httpRequest(routeLabel(exchange.pathname), exchange.method, aborted ? 'aborted' : res.statusCode, (performance.now() - exchange.started) / 1000);
    });
    Promise.resolve()
      .then(() => answer(exchange))
      .then((reply) => writeReply(res, exchange, reply, options.closing()))
      .catch((error: unknown) => {
        if (error instanceof StreamInterruptedError) { res.destroy(); return; } // cut on purpose (shutdown)
        if (error instanceof BodyAbortedError) {
          logger.debug({ requestId: exchange.requestId }, 'the client left before its request body arrived'); // its socket is gone: nothing to write
          return;
        }
        logger.error({ err: error, requestId: exchange.requestId }, 'request failed');
        if (res.headersSent) res.destroy();
        else void filtered(exchange, graphqlErrorReply(500, 'Internal server error', 'INTERNAL_SERVER_ERROR')).then((reply) => writeReply(res, exchange, reply, options.closing()))
          .catch(() => res.destroy());
      });
  };
}
