/**
 * A GraphQL endpoint (`/graphql`, `/subgraph`) as a route: what is refused before any pipeline
 * runs (method, `Accept`, a possibly forged form post, content type, body size, JSON; with
 * TRUSTED_DOCUMENTS, a document that is not listed where only listed ones run), then the fast
 * path when it knows the operation, else Apollo's pipeline; either way, a Reply.
 */
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { getOperationAST, type GraphQLFormattedError } from 'graphql';

import type { ContextFactory, GatewayContext } from '../context';
import { acceptsJson } from '../http/accept';
import { BodyTooLargeError, readBody } from '../http/body';
import { isUtf8Json } from '../http/content-type';
import { CSRF_REFUSAL_MESSAGE, mayBeForged } from '../http/csrf';
import { graphqlErrorBody, graphqlErrorReply, jsonReply, type Reply } from '../http/reply';
import type { Exchange, RouteHandler } from '../http/router';
import type { FastPath } from './fast-path';
import type { KnownOperation } from './operation-store';
import { toOutcome, type OperationConcerns } from './operation';
import { wantsEventStream, type SseEndpoint } from './sse';
import type { ListedDocument, TrustedDocuments } from './trusted-documents/list';
import { documentRequestOfSearch, searchWithDocument, type Resolution } from './trusted-documents/resolve';

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
  /**
   * The trusted documents (TRUSTED_DOCUMENTS); absent without a manifest, and on `/subgraph`
   * (a router enforces its own list). Without them nothing here looks at the document.
   */
  trusted?: TrustedDocuments;
}

/** A refusal before anything runs: an operation that ended in an error, logged and counted as one. */
function refuseOperation(x: Exchange, deps: EndpointDeps, context: () => GatewayContext, status: number, refusal: ReturnType<typeof graphqlErrorBody>, operationName?: string): Reply {
  deps.operations.begin(x.started).end({ context: context(), operationName, data: undefined, errors: refusal.errors });
  return jsonReply(status, refusal);
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
  return refuseOperation(x, deps, context, 406, graphqlErrorBody(message, 'BAD_REQUEST'));
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

/** Apollo's answer; `search` is the GET's parameters it reads (a trusted document's in place of the request's). */
async function viaApollo(x: Exchange, body: unknown, deps: EndpointDeps, context: () => GatewayContext, search = x.search): Promise<Reply> {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(x.req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const result = await deps.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: x.method, headers, search, body },
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

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The 400 of a document the trusted documents refuse (PERSISTED_QUERY_NOT_IN_LIST and the like), before anything runs. */
function refuseDocument(x: Exchange, deps: EndpointDeps, context: () => GatewayContext, refused: Extract<Resolution<unknown>, { outcome: 'refused' }>, operationName: unknown): Reply {
  return refuseOperation(x, deps, context, 400, graphqlErrorBody(refused.message, refused.code), typeof operationName === 'string' ? operationName : undefined);
}

/**
 * A GET with trusted documents: refused, or the listed document run as checked at start-up (the
 * fast path), or Apollo's answer to the listed text (where the fast path steps aside) or to the
 * request as it is. Apollo's GET rules hold on either path: a GET that may be forged (no preflight
 * header) goes to Apollo, which refuses it; a listed query is all the fast path takes (no
 * mutation over GET; a subscription is refused by `admit`, and then answered by Apollo).
 */
async function trustedGet(x: Exchange, trusted: TrustedDocuments, deps: EndpointDeps, context: () => GatewayContext): Promise<Reply> {
  const params = new URLSearchParams(x.search);
  // As Apollo refuses them: a parameter given twice would leave which one names the document to chance.
  const twice = ['documentId', 'query', 'extensions', 'variables', 'operationName'].find((name) => params.getAll(name).length > 1);
  if (twice) return refuseOperation(x, deps, context, 400, graphqlErrorBody(`The '${twice}' search parameter may only be specified once.`, 'BAD_REQUEST'));
  const resolution = trusted.resolve(documentRequestOfSearch(x.search));
  if (resolution.outcome === 'refused') return refuseDocument(x, deps, context, resolution, params.get('operationName'));
  if (resolution.outcome !== 'listed') return viaApollo(x, undefined, deps, context);
  const known = mayBeForged((name) => x.header(name)) ? undefined : resolution.listed.operation(params.get('operationName'));
  const variables = known && getVariables(params.get('variables'));
  const fast = known && variables !== INVALID && isQuery(known) ? await deps.fastPath?.run(x, known, variables, context) : undefined;
  return fast ?? viaApollo(x, undefined, deps, context, searchWithDocument(x.search, resolution.listed.body));
}

const INVALID = Symbol('invalid');

/** A GET's `variables` parameter, parsed; INVALID (Apollo answers it) when it is not JSON. */
function getVariables(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return INVALID;
  }
}

const isQuery = (known: KnownOperation): boolean => getOperationAST(known.document, known.operationName)?.operation === 'query';

/**
 * A POST body with trusted documents: refused, or the body to run with its listed document
 * (`{query, variables, operationName}`, the listed text as `query`: what Apollo and graphql-sse
 * read), or the body as it is (not listed, allowed).
 */
function screenPost(x: Exchange, body: unknown, trusted: TrustedDocuments, deps: EndpointDeps, context: () => GatewayContext): { refusal: Reply } | { body: unknown; listed?: ListedDocument } {
  // Not an object (a batch, an array, is the one shape Apollo would run): it names no document, so
  // it is left to Apollo, which refuses it. Batching is off (apollo.ts): turning it on would need
  // each operation of a batch screened here.
  const request = isRecord(body) ? body : {};
  const resolution = trusted.resolve(request);
  if (resolution.outcome === 'refused') return { refusal: refuseDocument(x, deps, context, resolution, request.operationName) };
  if (resolution.outcome !== 'listed') return { body };
  const { listed } = resolution;
  // Only the fields the request has: Apollo refuses an `operationName` or `variables` that is there and undefined.
  const rewritten: Record<string, unknown> = { query: listed.body };
  for (const field of ['variables', 'operationName']) if (field in request) rewritten[field] = request[field];
  return { body: rewritten, listed };
}

/** The answer before decorators: a refusal, an event stream, the fast path's, or Apollo's. */
async function answer(x: Exchange, deps: EndpointDeps, context: () => GatewayContext): Promise<Reply> {
  if (x.method !== 'GET' && x.method !== 'POST') return graphqlErrorReply(405, 'Use GET or POST.', 'METHOD_NOT_ALLOWED', { allow: 'GET, POST' });
  // An event stream only for a POST that accepts no JSON answer (graphql-sse's client sends
  // `Accept: text/event-stream` alone): one that accepts both is answered in JSON, as before.
  const json = acceptsJson(x.header('accept'));
  const sse = !json && deps.sse && wantsEventStream(x) ? deps.sse : undefined;
  if (!sse && !json) return refuseUnacceptable(x, deps, context);
  if (x.method === 'GET') return deps.trusted ? trustedGet(x, deps.trusted, deps, context) : viaApollo(x, undefined, deps, context);
  const read = await readPost(x, deps.maxBodyBytes);
  if ('refusal' in read) return read.refusal;
  let { body } = read;
  let listed: ListedDocument | undefined;
  if (deps.trusted) {
    const screened = screenPost(x, body, deps.trusted, deps, context);
    if ('refusal' in screened) return screened.refusal;
    ({ body, listed } = screened);
  }
  if (sse) return sse.handle(x, body, deps.trusted && { listed });
  if (!listed) return (await deps.fastPath?.handle(x, body, context)) ?? viaApollo(x, body, deps, context);
  // A listed document runs as checked at start-up (compiled at its first use); where the fast path steps aside (or the
  // request names no operation of it), Apollo answers its text.
  const { variables, operationName } = body as { variables?: unknown; operationName?: unknown };
  const known = operationName === undefined || operationName === null || typeof operationName === 'string' ? listed.operation(operationName) : undefined;
  return (known && await deps.fastPath?.run(x, known, variables, context)) ?? viaApollo(x, body, deps, context);
}

/**
 * Ends the operation span of a request Apollo refused before its pipeline began (a body that is
 * not a GraphQL request, such as `{"query": 1}`): the span started with the context, and no
 * plugin hook would end it. A span the pipeline ended is left as it is (a span ends once).
 */
function endRefusedTrace(context: GatewayContext, body: string): void {
  let errors: GraphQLFormattedError[] | undefined;
  try {
    const parsed = (JSON.parse(body) as { errors?: unknown }).errors;
    if (Array.isArray(parsed)) errors = parsed as GraphQLFormattedError[];
  } catch {
    // not a GraphQL answer: the span says only that the operation ended without data
  }
  context.trace?.end(toOutcome({ context, operationName: undefined, data: undefined, errors: errors ?? [{ message: 'The request was refused.', extensions: { code: 'BAD_REQUEST' } }] }));
}

export function createGraphQLEndpoint(deps: EndpointDeps): RouteHandler {
  const decorators = deps.decorators ?? [];
  return async (x) => {
    // One context per request, made when first needed, whichever pipeline needs it.
    let made: GatewayContext | undefined;
    const context = (): GatewayContext => (made ??= deps.createContext(x));
    let reply = await answer(x, deps, context);
    if (made?.trace && reply.status >= 400 && typeof reply.body === 'string') endRefusedTrace(made, reply.body);
    for (const decorate of decorators) reply = await decorate(x, made, reply);
    return reply;
  };
}
