/**
 * Executes operations with graphql-jit through Apollo Server's `gateway` hook (the one place
 * Apollo accepts another executor). Each operation is compiled once to a JavaScript function and
 * kept in the OperationStore by its text and the operation name the client sent; parsing,
 * validation, plugins and formatError stay Apollo's. An operation in the store has passed
 * Apollo's validation, which is what lets the fast path (fast-path.ts) answer its repeats.
 */
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';

import { compiledBytes, documentBytes } from './document-memory';

/** An operation Apollo has parsed and validated, compiled. */
export interface KnownOperation {
  compiled: CompiledQuery;
  document: DocumentNode;
  /** The name of the operation the request resolved to (for logs and metrics). */
  operationName: string | null;
  /** Stands for the operation text in other caches' keys (a number, not the text). */
  id: number;
}

/**
 * Compiled operations by text and requested operation name. Bounded by count and by bytes: an
 * entry counts its key (the text), its document and its compiled function, as measured in
 * document-memory.ts (the document is shared with Apollo's document cache, and counted in both).
 * An operation larger than the whole budget is compiled and run, but not kept.
 */
export class OperationStore {
  private readonly operations: LRUCache<string, KnownOperation>;
  private nextId = 1;

  constructor(maxOperations = 1000, maxBytes = 16 * 1024 * 1024) {
    this.operations = new LRUCache({
      max: maxOperations,
      maxSize: maxBytes,
      sizeCalculation: (value, key) => 2 * key.length + documentBytes(value.document) + compiledBytes(value.document, value.operationName),
    });
  }

  /** Operations held. */
  get size(): number {
    return this.operations.size;
  }

  /** The sum of the entries' computed sizes, never above the budget. */
  get bytes(): number {
    return this.operations.calculatedSize;
  }

  private static key(query: string, requestedName: string | null | undefined): string {
    return `${requestedName ?? ''}\u0000${query}`;
  }

  get(query: string, requestedName: string | null | undefined): KnownOperation | undefined {
    return this.operations.get(OperationStore.key(query, requestedName));
  }

  add(query: string, requestedName: string | null | undefined, entry: Omit<KnownOperation, 'id'>): KnownOperation {
    const known = { ...entry, id: this.nextId++ };
    this.operations.set(OperationStore.key(query, requestedName), known);
    return known;
  }

  clear(): void {
    this.operations.clear();
  }
}

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

export function createJitGateway(schema: GraphQLSchema, store: OperationStore): GatewayInterface {
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
