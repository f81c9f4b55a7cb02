/**
 * Apollo Server for one schema, as every endpoint here uses it: limits, error formatting and the
 * operation log through OperationConcerns (operation.ts), bounded caches, no landing page, no
 * Apollo-hosted reporting, and shutdown by draining the HTTP server.
 */
import type http from 'node:http';

import type { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import type { DocumentNode, GraphQLSchema } from 'graphql';

import type { Config } from '../config';
import type { GatewayContext } from '../context';
import { CSRF_PREVENTION_HEADERS } from '../http/csrf';
import type { Logger } from '../logger';
import { DocumentSizeLimitedApolloServer } from '../limits/document-size';
import { createDocumentStore, createPersistedQueryCache, type BoundedCache } from './bounded-caches';
import { releaseTokenChainPlugin } from './document-memory';
import { honouredByFastPath } from './fast-path';
import { createJitExecutor } from './jit-executor';
import type { OperationConcerns } from './operation';
import type { OperationStore } from './operation-store';

/** The caches an Apollo Server keeps per distinct operation, each bounded by what its entries hold (bounded-caches.ts). */
export interface OperationCaches {
  documents: BoundedCache<DocumentNode>;
  persistedQueries: BoundedCache<string>;
  /** With graphql-jit: the compiled operations, which the fast path answers from. */
  operations?: OperationStore;
}

export interface ApolloDeps {
  schema: GraphQLSchema;
  config: Pick<Config, 'limits' | 'graphiql' | 'production' | 'shutdownTimeoutMs'>;
  logger: Logger;
  operations: OperationConcerns;
  /** @default new bounded caches, and graphql-js as the executor */
  caches?: OperationCaches;
  /** The server this Apollo drains on stop (one per process: the endpoint that stops first). */
  drain?: http.Server;
  /** More plugins (tests; tracing). Per-request ones make the fast path step aside unless marked honouredByFastPath(). */
  plugins?: ApolloServerPlugin<GatewayContext>[];
}

export function createApollo({ schema, config, logger, operations, caches, drain, plugins = [] }: ApolloDeps): ApolloServer<GatewayContext> {
  return new DocumentSizeLimitedApolloServer<GatewayContext>({
    ...(caches?.operations ? { gateway: createJitExecutor(schema, caches.operations) } : { schema }),
    logger,
    validationRules: operations.validationRules,
    parseOptions: { maxTokens: config.limits.maxTokens },
    // A document keeps no token chain once parsed (document-memory.ts).
    documentStore: caches?.documents ?? createDocumentStore(),
    persistedQueries: { cache: caches?.persistedQueries ?? createPersistedQueryCache() },
    introspection: config.graphiql,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: config.production,
    allowBatchedHttpRequests: false,
    // A GET is taken with any header a browser sends only after a preflight (http/csrf.ts), so
    // urql's default GET carrying X-Project-Id or a token works; Apollo's message names them.
    csrfPrevention: { requestHeaders: CSRF_PREVENTION_HEADERS },
    // index.ts owns the signals; Apollo's own handler would re-raise the signal and exit non-zero.
    stopOnTerminationSignals: false,
    formatError: operations.formatError,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      // No cache hints are used; the enabled plugin wraps every field resolver.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      // Federated traces (ftv1) time every field; nothing here reports them to Apollo.
      ApolloServerPluginInlineTraceDisabled(),
      ...(drain ? [ApolloServerPluginDrainHttpServer({ httpServer: drain, stopGracePeriodMillis: config.shutdownTimeoutMs })] : []),
      honouredByFastPath(releaseTokenChainPlugin(), 'acts on parsing only: the fast path answers documents parsed before'),
      honouredByFastPath(operations.plugin, 'the fast path calls the same OperationConcerns'),
      ...plugins,
    ],
  }, config.limits.maxDocumentBytes);
}
