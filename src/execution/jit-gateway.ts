/**
 * Executes operations with graphql-jit through Apollo Server's `gateway` hook (the one place
 * Apollo accepts another executor). Each operation is compiled once to a JavaScript function and
 * kept in an LRU by Apollo's query hash and operation name; parsing, validation, plugins and
 * formatError stay Apollo's. Measured with bench/ on this machine: see the performance notes in
 * README.md.
 */
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';

/**
 * graphql-jit reports errors with its own GraphQLError class, which passes `instanceof` but has
 * no `extensions`: Apollo's error formatting then throws, and every error comes out as a bare
 * "Internal server error". Each is rebuilt as graphql-js's, keeping path, locations and original.
 */
function toGraphQLError(error: { message: string; path?: ReadonlyArray<string | number>; locations?: unknown; originalError?: Error | null; extensions?: Record<string, unknown> }): GraphQLError {
  const converted = new GraphQLError(error.message, { path: error.path, originalError: error.originalError ?? undefined, extensions: error.extensions });
  if (error.locations) Object.assign(converted, { locations: error.locations });
  return converted;
}

export function createJitGateway(schema: GraphQLSchema, maxCompiled = 1000): GatewayInterface {
  const compiled = new LRUCache<string, CompiledQuery>({ max: maxCompiled });
  return {
    async load() {
      return {
        executor: async (requestContext) => {
          if (!requestContext.operation) {
            // No operation to run (as graphql-js says it; Apollo answers 400 OPERATION_RESOLUTION_FAILURE).
            const name = requestContext.request.operationName;
            return { errors: [new GraphQLError(name ? `Unknown operation named "${name}".` : 'Must provide operation name if query contains multiple operations.')] };
          }
          const key = `${requestContext.queryHash}:${requestContext.operationName ?? ''}`;
          let query = compiled.get(key);
          if (!query) {
            const result = compileQuery(schema, requestContext.document, requestContext.operationName ?? undefined);
            if (!isCompiledQuery(result)) return { errors: (result.errors ?? []).map(toGraphQLError) }; // e.g. no such operation
            query = result;
            compiled.set(key, query);
          }
          const variables = requestContext.request.variables ?? {};
          const result = await query.query(undefined, requestContext.context, variables);
          if (!result.errors) return result;
          if (result.data === undefined || result.data === null) {
            // Variables that do not coerce: graphql-js's own errors point at the variable
            // definitions, which is how Apollo recognises them (400, BAD_USER_INPUT).
            const coerced = getVariableValues(schema, requestContext.operation.variableDefinitions ?? [], variables);
            if (coerced.errors) return { errors: coerced.errors };
          }
          return { ...result, errors: result.errors.map(toGraphQLError) };
        },
      };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => undefined;
    },
    async stop() {
      compiled.clear();
    },
  };
}
