/**
 * OpenTelemetry tracing as the rest of the gateway sees it (DESIGN.md, "Tracing"): a server span
 * per operation, a client span per upstream attempt, a root span per live poll, and the log
 * mixin that puts `trace_id` and `span_id` on log lines. Nothing else imports OpenTelemetry.
 *
 * Off (no OTLP endpoint configured), `createTracing` returns `noTracing`: the SDK is not even
 * loaded (otel-tracing.ts is required only when tracing is on), no context manager runs, the
 * logger has no mixin, and a request pays for one `undefined` check where a span would start.
 *
 * Spans travel explicitly, never through AsyncLocalStorage: the context factory starts an
 * operation's span and keeps it in the GatewayContext (`trace`), whose CallOptions hand it to the
 * upstream client (`CallOptions.trace`). AsyncLocalStorage only makes a span "active" around
 * the log lines written for it, which is all the mixin reads.
 */
import type { GraphQLFormattedError } from 'graphql';

import type { TracingConfig } from '../config';
import type { HeaderGetter } from '../context';
import type { Logger } from '../logger';
import type { CallTrace } from '../upstream/client';

/** How an operation ended, for its span. */
export interface OperationOutcome {
  type: 'query' | 'mutation' | 'subscription';
  name: string | undefined;
  data: unknown;
  errors: readonly GraphQLFormattedError[] | undefined;
  /** Upstream calls made for it, those it shared with another request, and the pages it was served (cache hits included). */
  upstream: { calls: number; shared: number; pages: number };
}

/** The server span of one operation (GraphQL semantic conventions): started at its arrival, ended once. */
export interface OperationTrace {
  /** What the upstream client traces this operation's calls with (`CallOptions.trace`). */
  readonly calls: CallTrace;
  /** Runs `fn` with this span active: the log lines it writes carry its `trace_id` and `span_id`. */
  run<T>(fn: () => T): T;
  /** Names the span `<type> <name>`, sets its attributes and status, and ends it; later calls do nothing. */
  end(outcome: OperationOutcome): void;
}

/** The root span of one live poll (live/polls.ts), whose attempts are its children. */
export interface PollTrace {
  readonly calls: CallTrace;
  /** `outcome`: the poll's (LivePollOutcome), or undefined when its answer was dropped (its key stopped or moved). */
  end(outcome: string | undefined): void;
}

export interface Tracing {
  readonly enabled: boolean;
  /**
   * Starts the server span of an operation that arrived at `started` (`performance.now()`),
   * continuing the trace of the request's `traceparent` when it has a valid one; undefined when off.
   */
  startOperation(started: number, header: HeaderGetter): OperationTrace | undefined;
  /** Starts the root span of one live poll, watched by `watchers`; undefined when off. */
  startPoll(watchers: number): PollTrace | undefined;
  /** pino's `mixin`: the active span's `trace_id` and `span_id`; undefined when off (no mixin at all). */
  readonly logMixin: (() => Record<string, string>) | undefined;
  /** Sends the SDK's own warnings (failed exports, a full queue) to the gateway's log. */
  logDiagnostics(logger: Logger): void;
  /** Exports the spans still queued (bounded in time) and stops: after the gateway has closed. */
  shutdown(): Promise<void>;
}

/** Tracing off: nothing is started, nothing is loaded. */
export const noTracing: Tracing = {
  enabled: false,
  startOperation: () => undefined,
  startPoll: () => undefined,
  logMixin: undefined,
  logDiagnostics: () => undefined,
  shutdown: async () => undefined,
};

/** Tracing as configured: `noTracing` when `config` is null, else the OpenTelemetry SDK's, loaded now. */
export function createTracing(config: TracingConfig | null): Tracing {
  if (config === null) return noTracing;
  // Required here, not imported: with tracing off the SDK is never loaded.
  const { createOtelTracing } = require('./otel-tracing') as typeof import('./otel-tracing');
  return createOtelTracing(config);
}
