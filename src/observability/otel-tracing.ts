/**
 * Tracing on: the OpenTelemetry SDK behind the `Tracing` interface (tracing.ts, which loads this
 * file only when an OTLP endpoint is configured). One provider with a batch span processor and an
 * OTLP/HTTP exporter (protobuf or JSON); W3C trace context in (`traceparent`, `tracestate` of the
 * request) and out (on every upstream attempt); the AsyncLocalStorage context manager, so that
 * the log mixin can read the span a log line was written for.
 *
 * What a span may hold (DESIGN.md, "Tracing" and "Errors"): names, kinds, numbers, the upstream's
 * host, port and path (no query string), error classes, public error codes, and messages only
 * where clients get the same (formatted GraphQL errors, the gateway's own upstream errors). Never
 * a header value, a token, an AK/SK, a signature or a request id taken from a header.
 *
 * The sampler (OTEL_TRACES_SAMPLER, _ARG), the batch processor (OTEL_BSP_*), the exporter's headers
 * and timeout (OTEL_EXPORTER_OTLP_(TRACES_)HEADERS/TIMEOUT) and OTEL_RESOURCE_ATTRIBUTES are read
 * by the SDK itself from the environment (config.ts checks them).
 */
import {
  context, diag, DiagLogLevel, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type TextMapGetter, type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_SERVICE_NAME, ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';

import type { TracingConfig } from '../config';
import type { HeaderGetter } from '../context';
import type { Logger } from '../logger';
import { UpstreamError } from '../upstream/errors';
import type { AttemptIds, AttemptTrace, CacheOutcome, CallTrace } from '../upstream/client';
import type { OperationOutcome, OperationTrace, PollTrace, Tracing } from './tracing';

/** GraphQL's semantic conventions are still incubating: their names are copied, as OpenTelemetry advises, not imported. */
const ATTR_GRAPHQL_OPERATION_NAME = 'graphql.operation.name';
const ATTR_GRAPHQL_OPERATION_TYPE = 'graphql.operation.type';

/** How long shutdown waits for the last spans to be exported. */
const SHUTDOWN_FLUSH_MS = 5000;

const SCOPE = 'rds-backup-graph';

/** Reads the request's `traceparent` and `tracestate` (nothing else) through its header getter. */
const HEADER_GETTER: TextMapGetter<HeaderGetter> = {
  get: (header, key) => header(key.toLowerCase()),
  keys: () => ['traceparent', 'tracestate'],
};

/** `performance.now()` as epoch milliseconds: every time given to a span here is one of these. */
const epochMs = (performanceMs: number): number => performance.timeOrigin + performanceMs;

/** The attributes of one attempt's end: its status or error (semantic conventions: `error.type` is the status for an HTTP error). */
function attemptEndAttributes(result: Parameters<AttemptTrace['end']>[0]): Attributes {
  const attributes: Attributes = {};
  if (result.status !== undefined) attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = result.status;
  if (result.error !== undefined) {
    attributes[ATTR_ERROR_TYPE] = result.status !== undefined ? String(result.status) : result.error instanceof Error ? result.error.name : 'unknown';
  }
  if (result.budgetRemaining !== undefined) attributes['rds.budget.remaining'] = result.budgetRemaining;
  return attributes;
}

/** The trace of one call's attempts, each a client span child of `parent`. */
function callTraceOf(tracer: Tracer, propagator: W3CTraceContextPropagator, parent: Context, onServed?: (outcome: CacheOutcome, attempt?: AttemptIds) => void): CallTrace {
  return {
    startAttempt({ attempt, host, port, path }) {
      const span = tracer.startSpan('GET', {
        kind: SpanKind.CLIENT,
        startTime: epochMs(performance.now()),
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: 'GET', [ATTR_SERVER_ADDRESS]: host, [ATTR_SERVER_PORT]: port, [ATTR_URL_PATH]: path,
          'rds.retry': attempt, 'rds.cache.outcome': 'miss',
        },
      }, parent);
      const active = trace.setSpan(parent, span);
      return {
        traceId: span.spanContext().traceId,
        spanId: span.spanContext().spanId,
        headers(headers) {
          const out = { ...headers };
          // An empty value (a caller's tracestate too large to keep) is no header at all.
          propagator.inject(active, out, { set: (carrier, key, value) => { if (value !== '') carrier[key] = value; } });
          return out;
        },
        run: (fn) => context.with(active, fn),
        end(result) {
          span.setAttributes(attemptEndAttributes(result));
          // Only the gateway's own upstream errors have messages known to be safe (no body, no header).
          if (result.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: result.error instanceof UpstreamError ? result.error.message : undefined });
          span.end(epochMs(performance.now()));
        },
      };
    },
    served: onServed,
  };
}

/** An operation's span, once ended: its name, attributes and status. */
function endOperation(span: Span, outcome: OperationOutcome): void {
  const { type, name, data, errors = [], upstream } = outcome;
  span.updateName(name ? `${type} ${name}` : type);
  const attributes: Attributes = {
    [ATTR_GRAPHQL_OPERATION_TYPE]: type,
    'rds.upstream.calls': upstream.calls, 'rds.upstream.shared': upstream.shared, 'rds.upstream.pages': upstream.pages,
  };
  if (name) attributes[ATTR_GRAPHQL_OPERATION_NAME] = name;
  const codes = [...new Set(errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))];
  if (codes.length > 0) attributes['graphql.error.codes'] = codes;
  span.setAttributes(attributes);
  if (errors.length > 0 && (data === undefined || data === null)) {
    span.setAttribute(ATTR_ERROR_TYPE, codes[0]!);
    // The message the client got (formatted: masked when unexpected), so safe to export.
    span.setStatus({ code: SpanStatusCode.ERROR, message: errors[0]!.message });
  }
}

function createOperationTrace(tracer: Tracer, propagator: W3CTraceContextPropagator, started: number, header: HeaderGetter): OperationTrace {
  const parent = propagator.extract(ROOT_CONTEXT, header, HEADER_GETTER);
  // Named for a query until it ends: the name and type are known once the operation is resolved.
  const span = tracer.startSpan('query', { kind: SpanKind.SERVER, startTime: epochMs(started) }, parent);
  const active = trace.setSpan(parent, span);
  let ended = false;
  return {
    calls: callTraceOf(tracer, propagator, active, (outcome, joined) => {
      const attributes: Attributes = joined ? { 'rds.cache.outcome': outcome, 'rds.upstream.trace_id': joined.traceId, 'rds.upstream.span_id': joined.spanId } : { 'rds.cache.outcome': outcome };
      span.addEvent('rds.upstream.page', attributes, epochMs(performance.now()));
    }),
    run: (fn) => context.with(active, fn),
    end(outcome) {
      if (ended) return;
      ended = true;
      if (span.isRecording()) endOperation(span, outcome);
      span.end(epochMs(performance.now()));
    },
  };
}

function createPollTrace(tracer: Tracer, propagator: W3CTraceContextPropagator, watchers: number): PollTrace {
  const span = tracer.startSpan('live poll', { kind: SpanKind.INTERNAL, root: true, startTime: epochMs(performance.now()), attributes: { 'rds.live.watchers': watchers } }, ROOT_CONTEXT);
  return {
    calls: callTraceOf(tracer, propagator, trace.setSpan(ROOT_CONTEXT, span)),
    end(outcome) {
      span.setAttribute('rds.live.outcome', outcome ?? 'dropped');
      if (outcome === 'failed' || outcome === 'ended') span.setStatus({ code: SpanStatusCode.ERROR });
      span.end(epochMs(performance.now()));
    },
  };
}

/** The SDK's own warnings and errors as log lines (at most 500 characters each: they may hold an exporter's stack). */
function diagnosticsTo(logger: Logger): void {
  // The SDK gives a prefix as the message and the substance as arguments (an Error, a string).
  const warn = (message: string, ...args: unknown[]): void => {
    const detail = [message, ...args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : typeof a === 'string' ? a : ''))].filter(Boolean).join(' ');
    logger.warn({ diagnostic: detail.slice(0, 500) }, 'opentelemetry');
  };
  const none = (): void => undefined;
  diag.setLogger({ error: warn, warn, info: none, debug: none, verbose: none }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}

export function createOtelTracing(config: TracingConfig): Tracing {
  const exporter = config.protocol === 'http/json' ? new JsonExporter({ url: config.url }) : new ProtobufExporter({ url: config.url });
  // Our default name, then what the environment says (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME) over it.
  const resource = defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName })).merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  // The AsyncLocalStorage context manager, for the log mixin; the propagator stays ours (W3C trace context only, no baggage).
  provider.register({ propagator: null });
  const tracer = provider.getTracer(SCOPE);
  const propagator = new W3CTraceContextPropagator();
  return {
    enabled: true,
    startOperation: (started, header) => createOperationTrace(tracer, propagator, started, header),
    startPoll: (watchers) => createPollTrace(tracer, propagator, watchers),
    logMixin(): Record<string, string> {
      const span = trace.getSpan(context.active());
      // A new object each time: pino merges the line's own fields into what the mixin returns.
      if (!span) return {};
      const { traceId, spanId } = span.spanContext();
      return { trace_id: traceId, span_id: spanId };
    },
    logDiagnostics: diagnosticsTo,
    async shutdown() {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => { timer = setTimeout(resolve, SHUTDOWN_FLUSH_MS).unref(); });
      // shutdown() exports what the batch processor holds, then stops the exporter.
      await Promise.race([provider.shutdown().catch(() => undefined), bound]);
      clearTimeout(timer);
    },
  };
}
