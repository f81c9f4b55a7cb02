/**
 * An executor for Apollo Server: operations run with graphql-jit, plugged in through Apollo's
 * `gateway` hook (the one place Apollo accepts another executor; nothing here is a federation
 * gateway). Each operation is compiled once to a JavaScript function and kept in the
 * OperationStore (operation-store.ts) by its text and the operation name the client sent;
 * parsing, validation, plugins and formatError stay Apollo's. An operation in the store has
 * passed Apollo's validation, which is what lets the fast path (fast-path.ts) answer its repeats.
 */
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { compileQuery, isCompiledQuery } from 'graphql-jit';

import type { OperationStore } from './operation-store';

/**
 * graphql-jit reports errors with its own GraphQLError class, which passes `instanceof` but has
 * no `extensions`: Apollo's error formatting then throws, and every error comes out as a bare
 * "Internal server error". Each is rebuilt as graphql-js's, keeping path, locations and original.
 */
export function toGraphQLError(error: { message: string; path?: ReadonlyArray<string | number>; locations?: unknown; originalError?: Error | null; extensions?: Record<string, unknown> }): GraphQLError {
  const converted = new GraphQLError(error.message, { path: error.path, originalError: error.originalError ?? undefined, extensions: error.extensions });
  if (error.locations) Object.assign(converted, { locations: error.locations });
  return converted;
}

export function createJitExecutor(schema: GraphQLSchema, store: OperationStore): GatewayInterface {
  return {
    async load() {
      return {
        executor: async (requestContext) => {
          if (!requestContext.operation) {
            // No operation to run (as graphql-js says it; Apollo answers 400 OPERATION_RESOLUTION_FAILURE).
            const name = requestContext.request.operationName;
            return { errors: [new GraphQLError(name ? `Unknown operation named "${name}".` : 'Must provide operation name if query contains multiple operations.')] };
          }
          const { source, document, operationName, request } = requestContext;
          let known = source === undefined ? undefined : store.get(source, request.operationName);
          if (!known) {
            const result = compileQuery(schema, document, operationName ?? undefined);
            if (!isCompiledQuery(result)) return { errors: (result.errors ?? []).map(toGraphQLError) }; // e.g. no such operation
            const entry = { compiled: result, document, operationName: operationName ?? null };
            known = source === undefined ? { ...entry, id: 0 } : store.add(source, request.operationName, entry);
          }
          const variables = request.variables ?? {};
          const result = await known.compiled.query(undefined, requestContext.context, variables);
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
      store.clear();
    },
  };
}
