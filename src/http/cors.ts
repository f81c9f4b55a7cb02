/**
 * CORS, as an HttpFilter on every route but `/subgraph`: a browser origin allowed by
 * CORS_ORIGINS gets its preflight answered and the headers it needs on every answer; a request
 * from any other origin is refused here, before any route (so it costs no upstream call). DESIGN.md,
 * "Browser frontends", fixes the names.
 *
 * Who is never refused: a request without `Origin` (curl, servers, a browser's own navigations),
 * and a same-origin one (`Origin` is the gateway itself, as the `Host` header names it: GraphiQL
 * served by the gateway posts to `/graphql` with it). `Access-Control-Allow-Credentials` is never
 * sent: tokens travel in headers, not cookies, so a page cannot borrow a user's session here.
 *
 * A small piece rather than the `cors` package: that is connect middleware which writes headers
 * to the `ServerResponse` and ends preflights itself (routes here return Replies, written in one
 * place), and it lets a disallowed origin's request go on to the route without headers, where
 * this filter must refuse it before anything runs.
 */
import type { CorsOrigins } from '../config';
import { graphqlErrorReply, jsonReply, type Reply } from './reply';
import type { Exchange, HttpFilter } from './router';

/**
 * The request headers a page may send (the preflight's `Access-Control-Allow-Headers`): the
 * gateway's own (DESIGN.md), the CSRF-prevention ones, tracing, Apollo Client's client awareness,
 * and a revalidation a page makes itself. A fixed list, not the request's echoed back: what the
 * gateway reads is known.
 */
export const CORS_ALLOWED_HEADERS = [
  'content-type', 'authorization', 'x-auth-token', 'x-project-id', 'x-request-id', 'accept-language',
  'apollo-require-preflight', 'x-apollo-operation-name', 'apollographql-client-name', 'apollographql-client-version',
  'traceparent', 'tracestate', 'if-none-match',
];

/** Answer headers a page may read besides the CORS-safelisted ones. */
export const CORS_EXPOSED_HEADERS = ['X-Request-Id', 'ETag', 'RateLimit', 'RateLimit-Policy'];

/**
 * How long a browser may reuse a preflight's answer: Chromium's cap (Firefox allows a day).
 * Each distinct set of request headers is a preflight of its own, so a page's first GET with
 * `X-Project-Id` costs one, and the next two hours none.
 */
export const PREFLIGHT_MAX_AGE_SECONDS = 7200;

/** `http(s)://localhost`, `127.x.x.x` or `[::1]`, on any port (browsers send hosts in lower case). */
const LOOPBACK_ORIGIN = /^https?:\/\/(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?$/;

/** Whether an `Origin` header names an origin CORS_ORIGINS allows. */
export function createOriginCheck(origins: CorsOrigins): (origin: string) => boolean {
  switch (origins.kind) {
    case 'any': return () => true;
    case 'loopback': return (origin) => LOOPBACK_ORIGIN.test(origin);
    case 'list': {
      const allowed = new Set(origins.origins);
      return (origin) => allowed.has(origin);
    }
  }
}

/** `Vary` with `name` added, unless it is there already (or `*`). */
export function withVary(vary: string | undefined, name: string): string {
  if (vary === undefined || vary.trim() === '') return name;
  const lower = name.toLowerCase();
  if (vary.split(',').some((v) => { const t = v.trim().toLowerCase(); return t === lower || t === '*'; })) return vary;
  return `${vary}, ${name}`;
}

/** The router-only endpoint: never CORS (its callers are servers, and it answers `_entities`). */
const isSubgraph = (pathname: string): boolean => pathname === '/subgraph' || pathname.startsWith('/subgraph/');

const isPreflight = (x: Exchange): boolean => x.method === 'OPTIONS' && x.header('access-control-request-method') !== undefined;

/**
 * Whether `Origin` is the gateway's own. The scheme is not compared: behind a proxy that ends
 * TLS the gateway sees plain HTTP while the page's origin is https, and a page on the same
 * host and port is the gateway's own either way.
 */
export function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  const own = host.toLowerCase();
  return origin === `http://${own}` || origin === `https://${own}`;
}

function refusal(x: Exchange, origin: string): Reply {
  x.req.resume(); // an unread body would stall a keep-alive connection
  const message = `Requests from the origin ${JSON.stringify(origin.slice(0, 200))} are not allowed: the gateway's CORS_ORIGINS does not list it.`;
  return x.pathname === '/graphql' ? graphqlErrorReply(403, message, 'FORBIDDEN') : jsonReply(403, { error: message });
}

/**
 * The CORS filter. With `*`, answers say `Access-Control-Allow-Origin: *` rather than the
 * caller's origin: that is what the configuration means, and a browser refuses `*` to a
 * request sent with credentials, so a page that sends cookies by mistake is told at once.
 * Every answer names `Origin` in `Vary`, refusals and answers to requests without one included:
 * they differ by it.
 */
export function createCorsFilter(origins: CorsOrigins): HttpFilter {
  const allowed = createOriginCheck(origins);
  const allowOrigin = (origin: string): string => (origins.kind === 'any' ? '*' : origin);
  const preflightHeaders = {
    'access-control-allow-methods': 'GET, POST',
    'access-control-allow-headers': CORS_ALLOWED_HEADERS.join(', '),
    'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
    vary: 'Origin',
  };
  const exposed = CORS_EXPOSED_HEADERS.join(', ');
  return {
    request(x) {
      const origin = x.header('origin');
      if (origin === undefined || isSubgraph(x.pathname)) return undefined;
      if (allowed(origin)) {
        if (!isPreflight(x)) return undefined;
        x.req.resume();
        return { status: 204, headers: { ...preflightHeaders, 'access-control-allow-origin': allowOrigin(origin) } };
      }
      return isSameOrigin(origin, x.header('host')) ? undefined : refusal(x, origin);
    },
    reply(x, reply) {
      if (isSubgraph(x.pathname)) return reply;
      const origin = x.header('origin');
      const headers: Record<string, string> = { ...reply.headers, vary: withVary(reply.headers.vary, 'Origin') };
      if (origin !== undefined && allowed(origin) && !isPreflight(x)) {
        headers['access-control-allow-origin'] = allowOrigin(origin);
        headers['access-control-expose-headers'] = exposed;
      }
      return { ...reply, headers };
    },
  };
}
