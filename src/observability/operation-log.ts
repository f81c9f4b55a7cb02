/**
 * One log line and one metrics sample per GraphQL operation: name, duration, upstream calls
 * made for it and those it shared with another request, error codes, outcome. Variables, headers
 * and results are never logged. Called for every operation by graphql/operation.ts, whichever
 * pipeline answered it.
 */
import type { GraphQLFormattedError } from 'graphql';

import type { GatewayContext } from '../context';
import type { Logger } from '../logger';
import type { Metrics } from './metrics';

export interface OperationRecord {
  /** `performance.now()` when the request started. */
  started: number;
  context: GatewayContext | undefined;
  operationName: string | null | undefined;
  data: unknown;
  errors: readonly GraphQLFormattedError[] | undefined;
}

export type OperationRecorder = (record: OperationRecord) => void;

/** Logs and counts one finished operation, whichever pipeline answered it. */
export function createOperationRecorder(logger: Logger, metrics: Metrics): OperationRecorder {
  return ({ started, context, operationName, data, errors = [] }) => {
    const seconds = (performance.now() - started) / 1000;
    const outcome = errors.length === 0 ? 'ok' : data !== undefined && data !== null ? 'partial' : 'error';
    const name = operationName ?? undefined;
    metrics.operation(name, outcome, seconds);
    if (!logger.isLevelEnabled('info')) return;
    logger.info({
      requestId: context?.requestId,
      operation: name ?? null,
      durationMs: Math.round(seconds * 10_000) / 10,
      upstreamCalls: context?.upstreamCalls.count ?? 0,
      upstreamShared: context?.upstreamCalls.shared ?? 0,
      errorCodes: [...new Set(errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))],
      outcome,
    }, 'graphql operation');
  };
}
