/**
 * The connection-aware cost of an operation, in upstream calls, checked before it runs: an
 * operation that could need more than MAX_UPSTREAM_CALLS_PER_OPERATION calls is refused (400,
 * GRAPHQL_VALIDATION_FAILED) before it makes any. Costs come from graphql-query-complexity with
 * one estimator that knows this schema; what one connection or one lookup costs comes from
 * backups/cost.ts, next to the reads it mirrors (it says why each term holds).
 *
 * It is an upper bound. A `backups` connection costs its own reads plus its page's rows times
 * what each row's selection costs (a connection nested in every row multiplies). A `backup`
 * lookup costs one lookup plus its selection. `_entities` costs each representation: a `Backup`
 * one is a lookup, any other its selection (the selection's cost is the largest over the entity
 * types, an upper bound for each). `instances(ids)` costs its selection once per id; everything
 * else is the sum of its children.
 *
 * An estimate that fails (a walk over too many nodes, anything unexpected) refuses the
 * operation: an operation whose cost is unknown does not run. Variables that do not coerce are
 * left to execution, which reports them with its own error before any call.
 */
import { createHash } from 'node:crypto';

import { getOperationAST, getVariableValues, GraphQLError, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { LRUCache } from 'lru-cache';

import { connectionCalls, connectionRows, LOOKUP_CALLS } from '../backups/cost';

/** Whether an `_entities` representation is an Instance's (which resolves without a call). */
export function isInstanceRepresentation(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { __typename?: unknown }).__typename === 'Instance';
}

export const upstreamCallEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  const parent = type.name;
  if (field.name === 'backups' && (parent === 'Query' || parent === 'Instance')) {
    const rows = connectionRows(args);
    return connectionCalls(args) + rows * childComplexity;
  }
  if (field.name === 'backup' && (parent === 'Query' || parent === 'Instance')) return LOOKUP_CALLS + childComplexity;
  if (field.name === 'instances' && parent === 'Query') return (Array.isArray(args.ids) ? args.ids.length : 1) * childComplexity;
  if (field.name === '_entities' && parent === 'Query') {
    const representations: unknown[] = Array.isArray(args.representations) ? args.representations : [args.representations];
    let calls = 0;
    for (const representation of representations) calls += (isInstanceRepresentation(representation) ? 0 : LOOKUP_CALLS) + childComplexity;
    return calls;
  }
  return childComplexity;
};

/** The upstream calls an operation could need (an upper bound). Throws when it cannot tell. */
export function upstreamCallsOf(schema: GraphQLSchema, query: Parameters<typeof getComplexity>[0]['query'], variables?: Record<string, unknown>, operationName?: string): number {
  return getComplexity({ schema, query, variables, operationName, estimators: [upstreamCallEstimator] });
}

/** Longer cost keys are hashed: a key's size must not follow the request's. */
const MAX_COST_KEY_LENGTH = 256;

/**
 * What of the variables can change the cost, as the estimator reads them: for each variable the
 * operation declares (others are never read), a number's value (page sizes), a boolean's
 * (`@include`/`@skip`), whether it is absent, null or a string (a cursor's presence; never the
 * string), the length of a list (ids) and how many of its items are Instance representations,
 * and whether an object is one. Undefined (do not cache) for lists of lists: nothing in the
 * schema takes one, and walking them further is what the key must not do. Operations that differ
 * only in cursors, ids or filters share one cost computation (the walk is about 5% of a
 * request's CPU).
 */
export function costKey(operation: OperationDefinitionNode, operationKey: string, operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined): string | undefined {
  let shape = '';
  for (const definition of operation.variableDefinitions ?? []) {
    const part = shapeOf(variables?.[definition.variable.name.value]);
    if (part === undefined) return undefined;
    shape += `${part},`;
  }
  const key = `${operationKey}|${operationName ?? ''}|${shape}`;
  return key.length <= MAX_COST_KEY_LENGTH ? key : `#${createHash('sha256').update(key).digest('base64url')}`;
}

function shapeOf(value: unknown): string | undefined {
  if (value === undefined) return 'u';
  if (value === null) return 'n';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'string') return 's';
  if (Array.isArray(value)) {
    let instances = 0;
    for (const item of value) {
      if (Array.isArray(item)) return undefined;
      if (isInstanceRepresentation(item)) instances++;
    }
    return `[${value.length}:${instances}]`;
  }
  return isInstanceRepresentation(value) ? 'oI' : 'o';
}

/** The per-operation limit on upstream calls, with its costs memoised; shared by Apollo's plugin and the fast path. */
export class UpstreamCallLimit {
  private readonly costs = new LRUCache<string, number>({ max: 5000 });

  constructor(readonly max: number) {}

  /**
   * The error refusing the operation, or undefined when it may run. `operationKey` names the
   * operation text (a hash or an id: operations with equal keys must have equal texts).
   */
  check(schema: GraphQLSchema, document: DocumentNode, operationKey: string, operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined): GraphQLError | undefined {
    const operation = getOperationAST(document, operationName);
    if (!operation) return undefined; // nothing will run: execution reports the missing operation
    const key = costKey(operation, operationKey, operationName, variables);
    let calls = key === undefined ? undefined : this.costs.get(key);
    if (calls === undefined) {
      try {
        // Variables that do not coerce are reported by execution with their own error, before any call.
        if (getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, { maxErrors: 1 }).errors) return undefined;
        calls = upstreamCallsOf(schema, document, variables ?? undefined, operationName ?? undefined);
      } catch (error) {
        return notEstimated(error);
      }
      if (key !== undefined) this.costs.set(key, calls);
    }
    if (calls <= this.max) return undefined;
    return new GraphQLError(
      `This operation could need ${calls} upstream calls; at most ${this.max} are allowed per operation. Ask for smaller pages, fewer instances or fewer nested connections.`,
      { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', upstreamCalls: calls, maxUpstreamCalls: this.max, http: { status: 400 } } },
    );
  }
}

/** The refusal of an operation whose cost could not be estimated (GraphQL errors say why; anything else is masked). */
function notEstimated(error: unknown): GraphQLError {
  const reason = error instanceof GraphQLError ? ` ${error.message}` : '';
  return new GraphQLError(`The upstream calls of this operation could not be estimated, so it is refused.${reason}`, {
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } },
  });
}
