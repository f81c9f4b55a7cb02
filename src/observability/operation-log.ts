/**
 * One log line and one metrics sample per GraphQL operation: name, duration, upstream calls
 * made for it, error codes, outcome. Variables, headers and results are never logged.
 */
import type { ApolloServerPlugin } from '@apollo/server';

import type { GatewayContext } from '../context';
import type { Logger } from '../logger';
import type { Metrics } from './metrics';

export function operationLogPlugin(logger: Logger, metrics: Metrics): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ response, contextValue, operationName, request }) {
          const seconds = (performance.now() - started) / 1000;
          const result = response.body.kind === 'single' ? response.body.singleResult : undefined;
          const errors = result?.errors ?? [];
          const errorCodes = [...new Set(errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))];
          const hasData = result?.data !== undefined && result.data !== null;
          const outcome = errors.length === 0 ? 'ok' : hasData ? 'partial' : 'error';
          const name = operationName ?? request.operationName ?? undefined;
          metrics.operation(name, outcome, seconds);
          logger.info({
            requestId: contextValue.requestId,
            operation: name ?? null,
            durationMs: Math.round(seconds * 10_000) / 10,
            upstreamCalls: contextValue.upstreamCalls.count,
            errorCodes,
            outcome,
          }, 'graphql operation');
        },
      };
    },
  };
}
