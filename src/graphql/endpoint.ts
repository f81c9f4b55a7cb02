/**
 * A GraphQL endpoint (`/graphql`, `/subgraph`) as a route: what is refused before any pipeline
 * runs (method, `Accept`, a possibly forged form post, content type, body size, JSON), then the fast path when it knows the
 * operation, else Apollo's pipeline; either way, a Reply.
 */
import { HeaderMap, type ApolloServer } from '@apollo/server';

import type { ContextFactory, GatewayContext } from '../context';
import { acceptsJson } from '../http/accept';
import { BodyTooLargeError, readBody } from '../http/body';
import { isUtf8Json } from '../http/content-type';
import { CSRF_REFUSAL_MESSAGE, mayBeForged } from '../http/csrf';
import { graphqlErrorBody, graphqlErrorReply, jsonReply, type Reply } from '../http/reply';
import type { Exchange, RouteHandler } from '../http/router';
import type { FastPath } from './fast-path';
import type { OperationConcerns } from './operation';
import { wantsEventStream, type SseEndpoint } from './sse';

/**
 * What every answer of a GraphQL endpoint gets, whichever pipeline made it (or a refusal before
 * either): headers from what the operation did (its caller's budget, the freshness of the pages
 * it used). `context` is undefined when the request was refused before one was made.
 */
export type AnswerDecorator = (x: Exchange, context: GatewayContext | undefined, reply: Reply) => Reply | Promise<Reply>;

export interface EndpointDeps {
  apollo: ApolloServer<GatewayContext>;
  /** Answers repeats of known operations; absent on `/subgraph` and with GRAPHQL_FAST_PATH=false. */
  fastPath?: FastPath;
  createContext: ContextFactory;
  operations: OperationConcerns;
  maxBodyBytes: number;
  /** @default none */
  decorators?: readonly AnswerDecorator[];
  /** GraphQL over SSE, for a POST that accepts `text/event-stream`; absent on `/subgraph`. */
  sse?: SseEndpoint;
}

/**
 * Refuses, before anything runs, a request whose `Accept` allows no JSON answer: Apollo would
 * execute it (upstream calls and all) and only then answer 406. GraphQL over SSE (DESIGN.md,
 * "Live changes": `POST /graphql` with `Accept: text/event-stream`) takes its requests before
 * this refusal, which then covers what is left (a GET for events, `/subgraph`). The refusal is
 * an operation that ended in an error, logged as one.
 */
function refuseUnacceptable(x: Exchange, deps: EndpointDeps, context: () => GatewayContext): Reply {
  x.req.resume(); // an unread body would stall a keep-alive connection
  const message = /\btext\/event-stream\b/i.test(x.header('accept') ?? '')
    ? 'Server-sent events are served for a POST on /graphql only (GraphQL over SSE): accept application/json or application/graphql-response+json here.'
    : 'The Accept header allows neither application/json nor application/graphql-response+json.';
  const refusal = graphqlErrorBody(message, 'BAD_REQUEST');
  deps.operations.begin(x.started).end({ context: context(), operationName: undefined, data: undefined, errors: refusal.errors });
  return jsonReply(406, refusal);
}

/** The parsed JSON body of a POST, or the refusal of a body that is too large or not JSON. */
async function readJsonBody(x: Exchange, maxBodyBytes: number): Promise<{ body: unknown } | { refusal: Reply }> {
  let text: string;
  try {
    text = await readBody(x.req, maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return { refusal: graphqlErrorReply(413, `The request body is larger than ${maxBodyBytes} bytes.`, 'PAYLOAD_TOO_LARGE', { connection: 'close' }) };
    throw error;
  }
  try {
    return { body: JSON.parse(text) };
  } catch {
    return { refusal: graphqlErrorReply(400, 'The request body is not valid JSON.', 'BAD_REQUEST') };
  }
}

async function viaApollo(x: Exchange, body: unknown, deps: EndpointDeps, context: () => GatewayContext): Promise<Reply> {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(x.req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const result = await deps.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: x.method, headers, search: x.search, body },
    context: async () => context(),
  });
  return {
    status: result.status ?? 200,
    headers: Object.fromEntries(result.headers),
    body: result.body.kind === 'complete' ? result.body.string : result.body.asyncIterator,
  };
}

/**
 * The JSON body of a POST, or its refusal. Checked before the body is read: it is decoded as
 * UTF-8 JSON, on every pipeline alike. A body a page on another site could post with no
 * preflight (a form) is a CSRF refusal, as Apollo's for a GET; any other type the gateway does
 * not read is 415.
 */
async function readPost(x: Exchange, maxBodyBytes: number): Promise<{ body: unknown } | { refusal: Reply }> {
  if (!isUtf8Json(x.header('content-type'))) {
    x.req.resume(); // an unread body would stall a keep-alive connection
    if (mayBeForged((name) => x.header(name))) return { refusal: graphqlErrorReply(400, CSRF_REFUSAL_MESSAGE, 'BAD_REQUEST') };
    return { refusal: graphqlErrorReply(415, 'The request body must be application/json in UTF-8 (no charset, or charset=utf-8).', 'BAD_REQUEST', { 'accept-post': 'application/json' }) };
  }
  return readJsonBody(x, maxBodyBytes);
}

/** The answer before decorators: a refusal, an event stream, the fast path's, or Apollo's. */
async function answer(x: Exchange, deps: EndpointDeps, context: () => GatewayContext): Promise<Reply> {
  if (x.method !== 'GET' && x.method !== 'POST') return graphqlErrorReply(405, 'Use GET or POST.', 'METHOD_NOT_ALLOWED', { allow: 'GET, POST' });
  // An event stream only for a POST that accepts no JSON answer (graphql-sse's client sends
  // `Accept: text/event-stream` alone): one that accepts both is answered in JSON, as before.
  const json = acceptsJson(x.header('accept'));
  const sse = !json && deps.sse && wantsEventStream(x) ? deps.sse : undefined;
  if (!sse && !json) return refuseUnacceptable(x, deps, context);
  if (x.method === 'GET') return viaApollo(x, undefined, deps, context);
  const read = await readPost(x, deps.maxBodyBytes);
  if ('refusal' in read) return read.refusal;
  if (sse) return sse.handle(x, read.body);
  return (await deps.fastPath?.handle(x, read.body, context)) ?? viaApollo(x, read.body, deps, context);
}

export function createGraphQLEndpoint(deps: EndpointDeps): RouteHandler {
  const decorators = deps.decorators ?? [];
  return async (x) => {
    // One context per request, made when first needed, whichever pipeline needs it.
    let made: GatewayContext | undefined;
    const context = (): GatewayContext => (made ??= deps.createContext(x));
    let reply = await answer(x, deps, context);
    for (const decorate of decorators) reply = await decorate(x, made, reply);
    return reply;
  };
}
