/**
 * Answers the repeat of an operation Apollo has already validated, without Apollo's request
 * pipeline: the common case of a BFF, where a few known operations are sent over and over.
 * Apollo's pipeline (HTTP parsing, content negotiation, a SHA-256 of the text, the document
 * cache, plugin hooks) took about 15% of the gateway's CPU per page request in `node --cpu-prof`
 * under bench/.
 *
 * This path is a cache of what Apollo decided for a document, not a second pipeline: it takes
 * only operations Apollo parsed, validated and compiled (the OperationStore holds nothing else),
 * and runs what is decided per request through the same functions (graphql/operation.ts). What
 * Apollo does per request that this path does not, and why the answer is the same:
 * - HTTP parsing and content negotiation: this path takes only `POST` with a JSON body
 *   `{query, variables?, operationName?}` and an `Accept` that names JSON plainly or is absent;
 *   anything else (GET, `extensions`, persisted queries, other media types) goes to Apollo.
 * - The SHA-256 of the text and the document cache: the OperationStore is keyed by the text.
 * - Parsing and validation, and the plugin hooks on them (`parsingDidStart`: the token chain's
 *   release; `validationDidStart`: Apollo's suggestion hiding; graphql-armor's limits are
 *   validation rules): they ran when Apollo first saw the document, and their answer was "valid".
 * - `didResolveOperation` (the upstream-call limit) and `requestDidStart`/`willSendResponse`
 *   (log line, metrics, tracing): called here through OperationConcerns; a refusal goes to Apollo.
 * - Variables that do not coerce (errors without a path: nothing ran): go to Apollo to answer.
 * - Error normalisation and formatError: OperationConcerns.formatErrors, the same as Apollo's.
 * - Response headers: Apollo sets only `content-type` here (cache control is disabled).
 * A trusted document (TRUSTED_DOCUMENTS, graphql/trusted-documents/) is the one exception to "only
 * what Apollo validated": it was parsed and validated against the same rules at start-up (and is
 * compiled at its first use), and `run` answers it as `handle` answers a repeat, through the same
 * function.
 * An Apollo plugin with per-request hooks that is not marked with `honouredByFastPath()` makes
 * this path step aside entirely (`createFastPath` returns undefined): a test enumerates
 * Apollo's registered plugins.
 */
import type { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';

import type { GatewayContext, RequestInfo } from '../context';
import type { Reply } from '../http/reply';
import { toGraphQLError } from './jit-executor';
import type { KnownOperation, OperationStore } from './operation-store';
import type { OperationConcerns } from './operation';

/** Plugin hooks Apollo calls per request (the others run at start-up and shutdown). */
const PER_REQUEST_HOOKS = ['requestDidStart', 'contextCreationDidFail', 'invalidRequestWasReceived', 'unexpectedErrorProcessingRequest'] as const;

/** Apollo's own plugins (by internal id) whose per-request hooks act on validation only. */
const APOLLO_VALIDATION_ONLY = new Set(['DisableSuggestions']);

const honoured = new WeakMap<object, string>();

/** Marks a plugin whose per-request work this path does too (or has no need of); `how` says which. */
export function honouredByFastPath<T extends ApolloServerPlugin<never>>(plugin: T, how: string): T {
  honoured.set(plugin, how);
  return plugin;
}

/**
 * Apollo's registered plugins, its implicit ones included (known only once it has started).
 * Apollo keeps them in a private field and has no public list: undefined when that field's shape
 * has changed (an Apollo upgrade), and the fast path then steps aside.
 */
export function registeredPlugins(apollo: ApolloServer<never> | object): readonly ApolloServerPlugin<never>[] | undefined {
  const plugins = (apollo as unknown as { internals?: { plugins?: unknown } }).internals?.plugins;
  return Array.isArray(plugins) ? plugins as ApolloServerPlugin<never>[] : undefined;
}

/** The plugins that keep this path from answering: per-request hooks it does not honour. */
export function pluginsNotHonoured(plugins: readonly ApolloServerPlugin<never>[]): string[] {
  return plugins.flatMap((plugin, index) => {
    const hooks = PER_REQUEST_HOOKS.filter((hook) => plugin[hook] !== undefined);
    const id = (plugin as { __internal_plugin_id__?: string }).__internal_plugin_id__;
    if (hooks.length === 0 || honoured.has(plugin) || (id !== undefined && APOLLO_VALIDATION_ONLY.has(id))) return [];
    return [`plugin #${index}${id ? ` (${id})` : ''} with ${hooks.join(', ')}`];
  });
}

export interface FastPathDeps {
  schema: GraphQLSchema;
  store: OperationStore;
  operations: OperationConcerns;
  /** Apollo's registered plugins (registeredPlugins()); undefined when they cannot be read. */
  plugins: readonly ApolloServerPlugin<never>[] | undefined;
  /** Told why this path steps aside, when it does. */
  onStepAside?: (reasons: string[]) => void;
  /** Counts the operations this path answered. */
  onAnswered?: () => void;
}

export interface FastPath {
  /**
   * The answer to the request when it is the shape this path takes and its operation is known;
   * undefined, having run nothing, when Apollo should answer it instead. `context` makes the
   * request's context (the endpoint's, which Apollo would use too).
   */
  handle(request: RequestInfo, body: unknown, context: () => GatewayContext): Promise<Reply | undefined>;
  /**
   * The answer to running `known` (a trusted document's operation, checked at start-up) with
   * `variables`, as `handle` runs the operations it finds; undefined, having run nothing, when
   * Apollo should answer instead (an `Accept` this path does not take, variables that are not an
   * object or do not coerce, an operation the upstream-call limit refuses).
   */
  run(request: RequestInfo, known: KnownOperation, variables: unknown, context: () => GatewayContext): Promise<Reply | undefined>;
}

/** The content type Apollo would choose for an `Accept` header, for the values this path takes; else undefined. */
function responseType(accept: string | undefined): string | undefined {
  if (accept === undefined || accept === '' || accept === '*/*' || accept === 'application/json') return 'application/json; charset=utf-8';
  if (accept === 'application/graphql-response+json') return 'application/graphql-response+json; charset=utf-8';
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The fast path, or undefined when a registered plugin needs Apollo's pipeline for every request. */
export function createFastPath(deps: FastPathDeps): FastPath | undefined {
  const { schema, store, operations } = deps;
  const blockers = deps.plugins === undefined ? ["Apollo's registered plugins cannot be read"] : pluginsNotHonoured(deps.plugins);
  if (blockers.length > 0) {
    deps.onStepAside?.(blockers);
    return undefined;
  }
  const run: FastPath['run'] = async (request, known, variables, contextOf) => {
    const contentType = responseType(request.header('accept'));
    if (contentType === undefined || (variables !== undefined && variables !== null && !isRecord(variables))) return undefined;
    if (operations.admit(schema, known.document, `#${known.id}`, known.operationName, variables)) return undefined;

    const context = contextOf();
    const span = operations.begin(request.started);
    const result = await known.compiled.query(undefined, context, variables ?? {});
    let errors: GraphQLFormattedError[] | undefined;
    if (result.errors) {
      // Errors without a path come before execution (variables that do not coerce): Apollo
      // answers those with its own status and messages, and nothing has been called yet. The
      // span is dropped unended: Apollo's pipeline begins the operation's own.
      if (result.errors.some((e) => !e.path)) return undefined;
      errors = operations.formatErrors(result.errors.map(toGraphQLError));
    }
    span.end({ context, operationName: known.operationName, data: result.data, errors });
    deps.onAnswered?.();
    return { status: 200, headers: { 'content-type': contentType }, body: `${JSON.stringify({ errors, data: result.data })}\n` };
  };
  return {
    run,
    async handle(request, body, contextOf) {
      if (!isRecord(body) || typeof body.query !== 'string' || body.extensions !== undefined) return undefined;
      const { query, variables, operationName } = body;
      if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return undefined;
      const known = store.get(query, operationName);
      return known ? run(request, known, variables, contextOf) : undefined;
    },
  };
}
