/**
 * What a subscription goes through whichever live transport carries it (graphql-ws in
 * http/websocket.ts, GraphQL over SSE in graphql/sse.ts): the same trusted documents, parse
 * limits, validation rules, upstream-call limit, context factory and error formatting as a
 * query (operation.ts), the per-operation log line at its end, and the gauge of active
 * subscriptions. Transports hand over the request and where it came from; they get back
 * execution arguments or a refusal, and a stream of results already formatted.
 */
import {
  GraphQLError, getOperationAST, parse, subscribe, type DocumentNode, type ExecutionArgs, type ExecutionResult,
  type FormattedExecutionResult, type GraphQLFormattedError, type GraphQLSchema,
} from 'graphql';
import { getVariableValues } from 'graphql/execution/values';

import { Canceller } from '../cancel';
import type { ContextFactory, GatewayContext, HeaderGetter } from '../context';
import { exceedsBytes } from '../limits/document-size';
import type { Logger } from '../logger';
import type { Metrics } from '../observability/metrics';
import type { OperationConcerns, OperationSpan } from './operation';
import type { ListedDocument, TrustedDocuments } from './trusted-documents/list';

export type LiveTransport = 'ws' | 'sse';

/** A subscription as a transport received it (graphql-ws's `subscribe` payload, an SSE POST body). */
export interface SubscriptionParams {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
  /** A trusted document's id (TRUSTED_DOCUMENTS); graphql-ws carries it beside an empty `query`. */
  documentId?: unknown;
  extensions?: unknown;
}

/**
 * What the endpoint already decided of a subscription's document, before its transport read the
 * request (SSE: graphql-sse reads only a `query`, so the endpoint resolves ids and refuses first):
 * the trusted document it runs, if any. prepare() does not resolve (nor count) it again.
 */
export interface Screened {
  listed: ListedDocument | undefined;
}

/** Where a subscription came from: its credentials' headers, its request id, when it arrived. */
export interface SubscriptionOrigin {
  header: HeaderGetter;
  requestId: string;
  started: number;
}

export interface LiveOperationsDeps {
  schema: GraphQLSchema;
  operations: OperationConcerns;
  createContext: ContextFactory;
  metrics: Metrics;
  logger: Logger;
  limits: { maxTokens: number; maxDocumentBytes: number };
  /** With TRUSTED_DOCUMENTS: subscriptions resolve their documents as queries do; absent on `/subgraph`. */
  trusted?: TrustedDocuments;
}

export interface LiveOperations {
  /**
   * Parses, validates and admits one subscription, and makes its context: its execution
   * arguments, or the formatted errors that refuse it (its log line already written).
   */
  prepare(params: SubscriptionParams, origin: SubscriptionOrigin, transport: LiveTransport, screened?: Screened): ExecutionArgs | { errors: GraphQLFormattedError[] };
  /**
   * `subscribe()` of prepared arguments: results with their errors formatted; an error the
   * source throws is delivered as a last result rather than cutting the stream. When it ends, by
   * its source or its client, the context's signal aborts and the log line is written.
   */
  subscribe(args: ExecutionArgs): Promise<AsyncGenerator<FormattedExecutionResult> | FormattedExecutionResult>;
}

/** What a prepared subscription carries until it ends, keyed by its context. */
interface Running {
  span: OperationSpan;
  operationName: string | undefined;
  transport: LiveTransport;
  cancel: Canceller;
  /** Whether it got as far as a stream (and so counts in the gauge). */
  streaming: boolean;
}

/** An error thrown by a source, as GraphQL carries it: its own when it is one (with its code), else one to be masked. */
function sourceErrorOf(error: unknown): GraphQLError {
  return error instanceof GraphQLError ? error : new GraphQLError('Internal server error', { originalError: error instanceof Error ? error : new Error(String(error)) });
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<ExecutionResult> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

const badRequest = (message: string): GraphQLError => new GraphQLError(message, { extensions: { code: 'BAD_REQUEST' } });

/** The document of a subscription request, or the error refusing it (as Apollo's pipeline would, with a code). */
function parseDocument(params: SubscriptionParams, limits: LiveOperationsDeps['limits']): DocumentNode | GraphQLError {
  const { query } = params;
  if (typeof query !== 'string' || query === '') return badRequest('The request must carry the operation as a non-empty string `query`.');
  if (exceedsBytes(query, limits.maxDocumentBytes)) return badRequest(`The GraphQL document is larger than ${limits.maxDocumentBytes} bytes.`);
  try {
    return parse(query, { maxTokens: limits.maxTokens });
  } catch (error) {
    const message = error instanceof GraphQLError ? error.message : 'The document does not parse.';
    return new GraphQLError(message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
  }
}

function paramsProblem(params: SubscriptionParams): GraphQLError | undefined {
  const { variables, operationName } = params;
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return badRequest('`variables` must be an object.');
  if (operationName != null && typeof operationName !== 'string') return badRequest('`operationName` must be a string.');
  return undefined;
}

/**
 * A subscription's document and the key its cost is cached by: a trusted document's as checked at
 * start-up, or the text's parsed and validated as Apollo checks a query's; or the errors refusing it.
 */
function documentOf(params: SubscriptionParams, { schema, operations, limits, trusted }: LiveOperationsDeps, screened: Screened | undefined): { document: DocumentNode; key: string } | { errors: readonly GraphQLError[] } {
  const resolution = screened ? undefined : trusted?.resolve(params);
  if (resolution?.outcome === 'refused') return { errors: [new GraphQLError(resolution.message, { extensions: { code: resolution.code } })] };
  const listed = screened?.listed ?? (resolution?.outcome === 'listed' ? resolution.listed : undefined);
  if (listed) return { document: listed.document, key: `sha256:${listed.id}` };
  const document = parseDocument(params, limits);
  if (document instanceof GraphQLError) return { errors: [document] };
  const invalid = operations.validate(schema, document);
  if (invalid.length > 0) return { errors: invalid.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })) };
  return { document, key: params.query as string };
}

/** A subscription's document, checked as Apollo checks a query's (and then its upstream-call limit), or the errors refusing it. */
function checkSubscription(params: SubscriptionParams, deps: LiveOperationsDeps, screened: Screened | undefined): { document: DocumentNode; name: string | undefined } | { errors: readonly GraphQLError[] } {
  const problem = paramsProblem(params);
  if (problem) return { errors: [problem] };
  const checked = documentOf(params, deps, screened);
  if ('errors' in checked) return checked;
  const { schema, operations } = deps;
  const { document } = checked;
  const operationName = params.operationName as string | undefined;
  const operation = getOperationAST(document, operationName);
  if (!operation) {
    // As Apollo answers the same over HTTP (graphql-js's words, OPERATION_RESOLUTION_FAILURE).
    const message = operationName ? `Unknown operation named "${operationName}".` : 'Must provide operation name if query contains multiple operations.';
    return { errors: [new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })] };
  }
  if (operation.operation !== 'subscription') return { errors: [badRequest('Only subscriptions are served here: send queries as a plain POST or GET on /graphql.')] };
  // Variables that do not coerce are the caller's mistake, as Apollo says over HTTP (BAD_USER_INPUT),
  // not an error of execution (which formatErrors would mask as INTERNAL_SERVER_ERROR).
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], (params.variables ?? {}) as Record<string, unknown>, { maxErrors: 20 });
  if (coerced.errors) return { errors: coerced.errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'BAD_USER_INPUT' } })) };
  const refusal = operations.admitSubscription(schema, document, checked.key, operationName, params.variables as Record<string, unknown> | undefined);
  return refusal ? { errors: [refusal] } : { document, name: operation.name?.value };
}

/**
 * The source's results, formatted; a thrown error becomes a last result; the end is recorded
 * once. An iterator object rather than an async generator: a generator's `return()` waits for
 * a pending `next()`, so a client leaving an idle subscription would not leave its watch until
 * the next change. Here `return()` goes through to the source at once.
 */
function formatted(source: AsyncIterable<ExecutionResult>, operations: OperationConcerns, finish: (errors?: GraphQLFormattedError[]) => void): AsyncGenerator<FormattedExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  let ended = false;
  const end = async (errors?: GraphQLFormattedError[]): Promise<IteratorResult<FormattedExecutionResult>> => {
    if (!ended) {
      ended = true;
      finish(errors);
      await iterator.return?.();
    }
    return { done: true, value: undefined };
  };
  const stream: AsyncGenerator<FormattedExecutionResult> = {
    async next() {
      if (ended) return { done: true, value: undefined };
      let step: IteratorResult<ExecutionResult>;
      try {
        step = await iterator.next();
      } catch (error) {
        if (ended) return { done: true, value: undefined };
        const errors = operations.formatErrors([sourceErrorOf(error)]);
        await end(errors);
        return { done: false, value: { data: null, errors } };
      }
      if (step.done || ended) return end();
      const result = step.value;
      return { done: false, value: result.errors ? { ...result, errors: operations.formatErrors(result.errors) } : (result as FormattedExecutionResult) };
    },
    return: () => end(),
    throw: () => end(),
    [Symbol.asyncIterator]() { return stream; },
  } as unknown as AsyncGenerator<FormattedExecutionResult>;
  return stream;
}

export function createLiveOperations(deps: LiveOperationsDeps): LiveOperations {
  const { schema, operations, createContext, metrics, logger } = deps;
  const running = new WeakMap<GatewayContext, Running>();

  const finish = (context: GatewayContext, errors: readonly GraphQLFormattedError[] | undefined): void => {
    const state = running.get(context);
    if (!state) return;
    running.delete(context);
    state.cancel.abort();
    if (state.streaming) metrics.subscriptionEnded(state.transport);
    state.span.end({ context, operationName: state.operationName, data: undefined, errors, operationType: 'subscription' });
  };

  return {
    prepare(params, origin, transport, screened) {
      const span = operations.begin(origin.started);
      const cancel = new Canceller();
      const context = createContext({ requestId: origin.requestId, started: origin.started, header: origin.header, signal: cancel.signal });
      const checked = checkSubscription(params, deps, screened);
      if ('errors' in checked) {
        const errors = operations.formatErrors(checked.errors);
        span.end({ context, operationName: typeof params.operationName === 'string' ? params.operationName : undefined, data: undefined, errors, operationType: 'subscription' });
        return { errors };
      }
      // For the log: the name the document gives its operation, when the request names none.
      const operationName = checked.name;
      running.set(context, { span, operationName, transport, cancel, streaming: false });
      // Its "graphql operation" line comes at its end (operation.ts); this one says it began.
      const started = (): void => logger.info({ requestId: origin.requestId, operation: operationName ?? null, transport }, 'graphql subscription started');
      if (context.trace) context.trace.run(started);
      else started();
      return { schema, document: checked.document, variableValues: params.variables as Record<string, unknown> | undefined, operationName: params.operationName as string | undefined, contextValue: context };
    },
    async subscribe(args) {
      const context = args.contextValue as GatewayContext;
      let result: Awaited<ReturnType<typeof subscribe>>;
      try {
        result = await subscribe(args);
      } catch (error) {
        result = { errors: [sourceErrorOf(error)] };
      }
      if (isAsyncIterable(result)) {
        const state = running.get(context)!;
        state.streaming = true;
        metrics.subscriptionStarted(state.transport);
        return formatted(result, operations, (errors) => finish(context, errors));
      }
      // Refused at its start (bad variables, a subscribe resolver that threw): one result, then the end.
      const errors = result.errors ? operations.formatErrors(result.errors) : undefined;
      finish(context, errors);
      return { ...result, errors } as FormattedExecutionResult;
    },
  };
}
