/**
 * The connection-aware cost of an operation, in upstream calls, checked before it runs: an
 * operation that could need more than MAX_UPSTREAM_CALLS_PER_OPERATION calls is refused (400,
 * GRAPHQL_VALIDATION_FAILED) before it makes any. Costs come from graphql-query-complexity with
 * one estimator that knows this schema:
 * - a `backups` connection costs ceil(n/100) calls for its page of n rows (one more for `last`
 *   without `before`, which needs the total first), plus n times what each row's selection costs;
 * - a `backup` lookup costs one call plus its selection;
 * - `instances(ids)` costs its selection once per id; everything else is the sum of its children.
 * It is an upper bound: calls that aliases share, or that the cache answers, are counted anyway.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { LRUCache } from 'lru-cache';

import { DEFAULT_PAGE_SIZE } from '../pagination/connection';

const UPSTREAM_LIMIT = 100;

export const upstreamCallEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  const parent = type.name;
  if (field.name === 'backups' && (parent === 'Query' || parent === 'Instance')) {
    const first = typeof args.first === 'number' ? args.first : undefined;
    const last = typeof args.last === 'number' ? args.last : undefined;
    const rows = Math.max(0, first ?? last ?? DEFAULT_PAGE_SIZE);
    const totalProbe = last !== undefined && args.before == null ? 1 : 0;
    return Math.max(1, Math.ceil(rows / UPSTREAM_LIMIT)) + totalProbe + rows * childComplexity;
  }
  if (field.name === 'backup' && (parent === 'Query' || parent === 'Instance')) return 1 + childComplexity;
  if (field.name === 'instances' && parent === 'Query') return (Array.isArray(args.ids) ? args.ids.length : 1) * childComplexity;
  return childComplexity;
};

/** The upstream calls an operation could need (an upper bound). */
export function upstreamCallsOf(schema: GraphQLSchema, query: Parameters<typeof getComplexity>[0]['query'], variables?: Record<string, unknown>, operationName?: string): number {
  return getComplexity({ schema, query, variables, operationName, estimators: [upstreamCallEstimator] });
}

/**
 * What of the variables can change the cost: numbers (page sizes), the lengths of lists (ids),
 * and whether a string is given (a `before` cursor), never the string itself. Operations that
 * differ only in cursors or ids share one cost computation (the walk is about 5% of a request's CPU).
 */
function costKey(operationKey: string, operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined): string {
  let shape = '';
  for (const k in variables) {
    const v = variables[k];
    shape += `${k}=${typeof v === 'number' ? v : Array.isArray(v) ? `[${v.length}]` : v === null || v === undefined ? '-' : typeof v === 'string' ? 's' : JSON.stringify(v)},`;
  }
  return `${operationKey}|${operationName ?? ''}|${shape}`;
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
    const key = costKey(operationKey, operationName, variables);
    let calls = this.costs.get(key);
    if (calls === undefined) {
      try {
        calls = upstreamCallsOf(schema, document, variables ?? undefined, operationName ?? undefined);
      } catch {
        return undefined; // variables that do not coerce are reported by execution with their own error
      }
      this.costs.set(key, calls);
    }
    if (calls <= this.max) return undefined;
    return new GraphQLError(
      `This operation could need ${calls} upstream calls; at most ${this.max} are allowed per operation. Ask for smaller pages, fewer instances or fewer nested connections.`,
      { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', upstreamCalls: calls, maxUpstreamCalls: this.max, http: { status: 400 } } },
    );
  }
}

export function upstreamCallLimitPlugin(limit: UpstreamCallLimit): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, request, operationName, queryHash }) {
          const refusal = limit.check(schema, document, queryHash, operationName, request.variables);
          if (refusal) throw refusal;
        },
      };
    },
  };
}
