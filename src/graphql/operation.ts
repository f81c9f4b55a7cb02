/**
 * What every GraphQL operation goes through, whichever pipeline runs it: its limits, the
 * formatting of its errors, its log line and metrics, and the end of its tracing span (started
 * with its context, context.ts). Apollo's pipeline reaches these through `plugin` (and the options apollo.ts
 * passes it); the fast path (fast-path.ts) calls the same functions directly. Nothing here is
 * written twice: a concern added to one pipeline and not the other is a bug.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  getOperationAST, GraphQLError, NoSchemaIntrospectionCustomRule, specifiedRules, validate, type DocumentNode, type GraphQLFormattedError, type GraphQLSchema,
  type ValidationRule,
} from 'graphql';

import type { Config } from '../config';
import type { GatewayContext } from '../context';
import { createFormatError } from '../errors/format';
import { knownOperationTypesRule } from '../limits/known-operation-types';
import { UpstreamCallLimit } from '../limits/upstream-calls';
import type { Logger } from '../logger';
import type { Metrics } from '../observability/metrics';
import { createOperationRecorder, type OperationRecord } from '../observability/operation-log';
import type { OperationOutcome } from '../observability/tracing';

export type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

/** How an operation ended: its log line's record, and its type for its span (`query` unless said). */
export type OperationEnd = Omit<OperationRecord, 'started'> & { operationType?: OperationOutcome['type'] };

/** One operation under way: ended once, when its answer is ready. */
export interface OperationSpan {
  end(result: OperationEnd): void;
}

export interface OperationConcerns {
  /** Depth, aliases, directives and known operation types, checked at validation (once per document). */
  validationRules: ValidationRule[];
  /**
   * A document validated as Apollo's pipeline validates one: graphql-js's rules, `validationRules`,
   * and no introspection where it is off (GRAPHIQL). For documents Apollo does not see: a
   * subscription's, a trusted document's at start-up.
   */
  validate(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[];
  /** Every error a client sees passes here (Apollo's `formatError`). */
  formatError: FormatError;
  /** Errors from execution as Apollo's pipeline formats them (its normalisation, then formatError). */
  formatErrors(errors: readonly GraphQLError[]): GraphQLFormattedError[];
  /**
   * The refusal of an operation that could cost more upstream calls than allowed (400,
   * GRAPHQL_VALIDATION_FAILED), or undefined. Checked once the operation is resolved, before it
   * runs: it depends on the variables, so it cannot be cached with validation.
   */
  admit(schema: GraphQLSchema, document: DocumentNode, operationKey: string, operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined): GraphQLError | undefined;
  /**
   * `admit` for a subscription over graphql-ws or SSE (graphql/live-transport.ts): the same
   * upstream-call limit, applied to what each event's selection could cost.
   */
  admitSubscription: OperationConcerns['admit'];
  /**
   * Starts an operation that arrived at `started` (`performance.now()`); its span ends with the
   * log line and the metrics sample, and ends the context's tracing span (once, whichever end comes).
   */
  begin(started: number): OperationSpan;
  /** The Apollo plugin through which Apollo's pipeline calls `admit` and `begin`/`end`. */
  plugin: ApolloServerPlugin<GatewayContext>;
}

export interface OperationConcernsDeps {
  config: Pick<Config, 'limits' | 'production' | 'graphiql'> & { upstream: Pick<Config['upstream'], 'maxCallsPerOperation'> };
  logger: Logger;
  metrics: Metrics;
}

/**
 * Operation limits checked at validation (graphql-armor; introspection fields do not count
 * toward depth). Its generic cost limit is off: the upstream-call cost (`admit`) knows the
 * schema. Its token limit is off too: its Apollo plugin turns every syntax error into a 500
 * (graphql-armor issues #571, #751); graphql-js's own `maxTokens` parse option does it instead
 * (apollo.ts). Its suggestion blocking is off: it is a plugin on `didEncounterErrors`, which the
 * fast path does not run, and formatError hides suggestions from every message in production.
 */
function validationRulesOf(limits: Config['limits']): ValidationRule[] {
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true },
    maxAliases: { n: limits.maxAliases },
    maxTokens: { enabled: false },
    maxDirectives: { n: limits.maxDirectives },
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: false },
  }).protect();
  if (armor.plugins.length > 0) throw new Error('graphql-armor now needs Apollo plugins, which the fast path does not run: see operation.ts');
  return [...armor.validationRules, knownOperationTypesRule];
}

/**
 * Apollo's error normalisation (its internal `normalizeAndFormatErrors`, not exported): a code
 * defaults to INTERNAL_SERVER_ERROR, then formatError decides; a formatError that throws masks
 * the error. Only for errors from execution, whose extensions never carry an HTTP status.
 * test/integration/fast-path.test.ts compares both pipelines' answers byte for byte.
 */
function normaliseAndFormat(errors: readonly GraphQLError[], formatError: FormatError): GraphQLFormattedError[] {
  return errors.map((error) => {
    try {
      const formatted = error.toJSON();
      return formatError({ ...formatted, extensions: { ...formatted.extensions, code: error.extensions.code ?? 'INTERNAL_SERVER_ERROR' } }, error);
    } catch {
      return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    }
  });
}

export function toOutcome({ context, operationName, data, errors }: Omit<OperationRecord, 'started'>, type: OperationOutcome['type'] = 'query'): OperationOutcome {
  const upstream = { calls: context?.upstreamCalls.count ?? 0, shared: context?.upstreamCalls.shared ?? 0, pages: context?.upstreamPages.count ?? 0 };
  return { type, name: operationName ?? undefined, data, errors, upstream };
}

/** Plain HTTP answers once: a subscription over it is refused before it runs, naming the transports that serve one. */
export const SUBSCRIPTION_OVER_HTTP_MESSAGE = 'Subscriptions are not served over a plain JSON request: use graphql-ws (WebSocket, subprotocol graphql-transport-ws) '
  + 'or GraphQL over SSE (POST with Accept: text/event-stream), both on /graphql.';

function subscriptionOverHttp(document: DocumentNode, operationName: string | null | undefined): GraphQLError | undefined {
  if (getOperationAST(document, operationName)?.operation !== 'subscription') return undefined;
  return new GraphQLError(SUBSCRIPTION_OVER_HTTP_MESSAGE, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
}

export function createOperationConcerns({ config, logger, metrics }: OperationConcernsDeps): OperationConcerns {
  const callLimit = new UpstreamCallLimit(config.upstream.maxCallsPerOperation);
  const record = createOperationRecorder(logger, metrics);
  const formatError = createFormatError({
    onMasked: (err) => logger.error({ err }, 'unexpected error (masked in the response)'),
    // Introspection is off there: a suggestion would tell the schema's names.
    hideSuggestions: config.production,
  });
  const admitSubscription: OperationConcerns['admit'] = (schema, document, key, name, variables) => callLimit.check(schema, document, key, name, variables);
  const admit: OperationConcerns['admit'] = (schema, document, key, name, variables) => subscriptionOverHttp(document, name) ?? admitSubscription(schema, document, key, name, variables);
  const begin = (started: number): OperationSpan => ({ end: (result) => {
    const trace = result.context?.trace;
    if (trace === undefined) return record({ started, ...result }); // tracing off: as before, one copy
    // The context's span, started with the context: a span begun here and dropped (the fast path
    // handing a request over to Apollo) leaves it to the end that comes, which ends it once.
    trace.run(() => {
      record({ started, ...result });
      trace.end(toOutcome(result, result.operationType));
    });
  } });
  const validationRules = validationRulesOf(config.limits);
  // Rules given to validate() replace graphql-js's own: both, as Apollo runs them (it adds the introspection rule when introspection is off).
  const allRules = [...specifiedRules, ...validationRules, ...(config.graphiql ? [] : [NoSchemaIntrospectionCustomRule])];
  return {
    validationRules,
    validate: (schema, document) => validate(schema, document, allRules),
    formatError,
    formatErrors: (errors) => normaliseAndFormat(errors, formatError),
    admit,
    admitSubscription,
    begin,
    plugin: {
      async requestDidStart({ contextValue }) {
        // The context is made before Apollo's pipeline starts: its start is the request's arrival.
        const span = begin(contextValue.started);
        return {
          async didResolveOperation({ schema, document, request, operationName, queryHash }) {
            const refusal = admit(schema, document, queryHash, operationName, request.variables);
            if (refusal) throw refusal;
          },
          async willSendResponse({ response, contextValue: context, operationName, request, operation }) {
            const result = response.body.kind === 'single' ? response.body.singleResult : undefined;
            span.end({ context, operationName: operationName ?? request.operationName, data: result?.data, errors: result?.errors, operationType: operation?.operation });
          },
        };
      },
    },
  };
}
