/**
 * Prometheus metrics (prom-client), served at /metrics. Labels are bounded: operation names are
 * capped (clients choose them), identities appear only as their class, never as a token or AK.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import type { LivePollOutcome } from '../live/polls';
import type { AttemptInfo } from '../upstream/client';

export type IdentityClass = 'token' | 'aksk' | 'anonymous';

export type TrustedDocumentOutcome = 'listed' | 'unlisted' | 'refused';

const MAX_OPERATION_NAMES = 100;
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface Metrics {
  registry: Registry;
  /** `status` is `aborted` for a request whose response was not sent whole: its client left first. */
  httpRequest(route: string, method: string, status: number | 'aborted', seconds: number): void;
  operation(name: string | undefined, outcome: 'ok' | 'error' | 'partial', seconds: number): void;
  upstreamAttempt(info: AttemptInfo): void;
  cacheLookup(outcome: 'hit' | 'stale' | 'miss' | 'coalesced'): void;
  budget(identityClass: IdentityClass, remaining: number | undefined, refused: boolean): void;
  /** An operation answered by the fast path (graphql/fast-path.ts) rather than Apollo's pipeline. */
  fastPathAnswered(): void;
  /** An operation's document resolved against the trusted documents (TRUSTED_DOCUMENTS): listed, unlisted (allowed), or refused. */
  trustedDocument(outcome: TrustedDocumentOutcome): void;
  /** Live keys this replica polls now (LivePolls' `onPollers`). */
  livePollers(active: number): void;
  /** One live poll's outcome (LivePolls' `onPoll`): `skipped` ones, never sent, are counted apart. */
  livePoll(outcome: LivePollOutcome): void;
  /** A subscription began streaming over a live transport (graphql/subscriptions.ts). */
  subscriptionStarted(transport: 'ws' | 'sse'): void;
  /** A subscription ended, by its source, its client or shutdown. */
  subscriptionEnded(transport: 'ws' | 'sse'): void;
  /**
   * How `gateway_ready` is judged: at each scrape, what /readyz would answer without probing the
   * upstream (http/probes.ts sets it; Readiness.lastVerdict()).
   */
  judgeReadiness(isReady: () => Promise<boolean>): void;
}

export function identityClass(identity: string): IdentityClass {
  if (identity.startsWith('token:')) return 'token';
  if (identity.startsWith('ak:')) return 'aksk';
  return 'anonymous';
}

/**
 * Memoises `make` by its arguments (label values, all bounded sets here). The key joins them
 * with a character no label value contains.
 */
function children<A extends Array<string | number>, T>(make: (...args: A) => T): (...args: A) => T {
  const made = new Map<string, T>();
  return (...args) => {
    const key = args.join('\u0000');
    let child = made.get(key);
    if (child === undefined) {
      child = make(...args);
      made.set(key, child);
    }
    return child;
  };
}

/**
 * An operation's label: its name when it is a plain GraphQL name among the first
 * MAX_OPERATION_NAMES seen, else `other` (a client must not grow the series without bound).
 */
function boundedOperationLabel(): (name: string | undefined) => string {
  const operationNames = new Set<string>();
  return (name) => {
    if (!name) return 'anonymous';
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) return 'other';
    if (operationNames.has(name)) return name;
    if (operationNames.size >= MAX_OPERATION_NAMES) return 'other';
    operationNames.add(name);
    return name;
  };
}

/** An attempt's status label: its HTTP status, or what kept it from having one. */
function upstreamStatusLabel(info: AttemptInfo): string {
  if (info.status !== undefined) return String(info.status);
  if (info.error === 'UpstreamTimeoutError') return 'timeout';
  if (info.error === 'UpstreamCallCancelledError') return 'cancelled';
  return info.error === 'UpstreamBadResponseError' ? 'bad_response' : 'network';
}

/** The upstream's error code when it has the published shape (`DBS.280001`), `other` when not, '' when none. */
function upstreamErrorCodeLabel(errorCode: string | undefined): string {
  if (!errorCode) return '';
  return /^[A-Za-z]{2,8}\.\d{3,6}$/.test(errorCode) ? errorCode : 'other';
}

/** The series of live changes: subscriptions (graphql/subscriptions.ts) and their polls (live/polls.ts). */
function liveMetrics(registry: Registry): Pick<Metrics, 'livePollers' | 'livePoll' | 'subscriptionStarted' | 'subscriptionEnded'> {
  const subscriptions = new Gauge({ name: 'graphql_active_subscriptions', help: 'Subscriptions streaming now, by transport (ws: graphql-ws, sse: GraphQL over SSE).', labelNames: ['transport'], registers: [registry] });
  const pollers = new Gauge({ name: 'live_pollers', help: 'Live keys (caller identity, project, instance, filter) this replica polls now: one poll each, however many subscribers.', registers: [registry] });
  const polls = new Counter({ name: 'live_polls_total', help: 'Live polls sent, by outcome (ok; failed: retried at the next interval; ended: NOT_FOUND, UNAUTHENTICATED or FORBIDDEN ended the key\'s subscriptions).', labelNames: ['outcome'], registers: [registry] });
  const skipped = new Counter({ name: 'live_polls_skipped_total', help: 'Live polls not sent because the caller identity\'s budget could not pay them.', registers: [registry] });
  return {
    livePollers: (active) => pollers.set(active),
    livePoll(outcome) {
      if (outcome === 'skipped') skipped.inc();
      else polls.inc({ outcome });
    },
    subscriptionStarted: (transport) => subscriptions.inc({ transport }),
    subscriptionEnded: (transport) => subscriptions.dec({ transport }),
  };
}

/** The series of TRUSTED_DOCUMENTS (graphql/trusted-documents/): none is written without a manifest. */
function trustedDocumentMetrics(registry: Registry): Pick<Metrics, 'trustedDocument'> {
  const documents = new Counter({
    name: 'graphql_trusted_documents_total',
    help: 'GraphQL operations by their document and TRUSTED_DOCUMENTS (listed: a trusted document; unlisted: another, allowed in allow mode; refused: unlisted in require mode, or an unknown documentId).',
    labelNames: ['outcome'], registers: [registry],
  });
  const outcomes = children((outcome: TrustedDocumentOutcome) => documents.labels({ outcome }));
  return { trustedDocument: (outcome) => outcomes(outcome).inc() };
}

/** `gateway_ready`: 1 or 0 as /readyz would answer at the scrape; 0 until a judge is set. */
function readinessMetric(registry: Registry): Pick<Metrics, 'judgeReadiness'> {
  let judge: (() => Promise<boolean>) | undefined;
  new Gauge({
    name: 'gateway_ready',
    help: '1 when /readyz would answer 200 by the latest news of the upstream (an answer, an attempt it left unanswered, a /readyz probe), Redis reachable when configured and not shutting down, else 0; a scrape never calls the upstream.',
    registers: [registry],
    async collect() {
      this.set(judge && (await judge()) ? 1 : 0);
    },
  });
  return { judgeReadiness: (isReady) => { judge = isReady; } };
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({ name: 'http_requests_total', help: 'HTTP requests by route, method and status ("aborted": the client left before the whole response was sent).', labelNames: ['route', 'method', 'status'], registers: [registry] });
  const httpDuration = new Histogram({ name: 'http_request_duration_seconds', help: 'HTTP request duration by route.', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers: [registry] });
  const operations = new Counter({ name: 'graphql_operations_total', help: 'GraphQL operations by operation name and outcome (ok, partial: data with errors, error: no data).', labelNames: ['operation', 'outcome'], registers: [registry] });
  const operationDuration = new Histogram({ name: 'graphql_operation_duration_seconds', help: 'GraphQL operation duration by operation name.', labelNames: ['operation'], buckets: LATENCY_BUCKETS, registers: [registry] });
  const upstreamCalls = new Counter({ name: 'upstream_calls_total', help: 'Upstream calls (attempts, retries included) by HTTP status (or timeout/network/bad_response/cancelled: every requester left) and upstream error code.', labelNames: ['status', 'error_code'], registers: [registry] });
  const upstreamDuration = new Histogram({ name: 'upstream_call_duration_seconds', help: 'Upstream call latency by status.', labelNames: ['status'], buckets: LATENCY_BUCKETS, registers: [registry] });
  const retries = new Counter({ name: 'upstream_retries_total', help: 'Upstream attempts that were retries.', registers: [registry] });
  const cache = new Counter({ name: 'upstream_cache_lookups_total', help: 'Upstream page lookups: hit (fresh), stale (served while refreshed), miss (called upstream), coalesced (shared an identical call in flight).', labelNames: ['outcome'], registers: [registry] });
  const budgetRemaining = new Gauge({ name: 'upstream_budget_remaining', help: 'Upstream calls left in the current minute for the last identity of each class that made a call.', labelNames: ['identity_class'], registers: [registry] });
  const budgetRefused = new Counter({ name: 'upstream_budget_refusals_total', help: 'Upstream calls not sent because the identity\'s budget was spent.', labelNames: ['identity_class'], registers: [registry] });
  const fastPath = new Counter({ name: 'graphql_fast_path_operations_total', help: 'GraphQL operations answered without Apollo\'s request pipeline (repeats of operations Apollo validated).', registers: [registry] });
  const operationLabel = boundedOperationLabel();

  // Each label set's children, made once: prom-client hashes the label object on every
  // `inc(labels)`/`observe(labels)`, which was about 2% of a page request's CPU.
  const httpChildren = children((route: string, method: string, status: number | 'aborted') => ({
    count: httpRequests.labels({ route, method, status: String(status) }),
    duration: httpDuration.labels({ route }),
  }));
  const operationChildren = children((operation: string, outcome: string) => ({
    count: operations.labels({ operation, outcome }),
    duration: operationDuration.labels({ operation }),
  }));
  const upstreamChildren = children((status: string, errorCode: string) => ({
    count: upstreamCalls.labels({ status, error_code: errorCode }),
    duration: upstreamDuration.labels({ status }),
  }));

  return {
    registry,
    ...liveMetrics(registry),
    ...trustedDocumentMetrics(registry),
    ...readinessMetric(registry),
    httpRequest(route, method, status, seconds) {
      const child = httpChildren(route, method, status);
      child.count.inc();
      child.duration.observe(seconds);
    },
    operation(name, outcome, seconds) {
      const child = operationChildren(operationLabel(name), outcome);
      child.count.inc();
      child.duration.observe(seconds);
    },
    upstreamAttempt(info) {
      const child = upstreamChildren(upstreamStatusLabel(info), upstreamErrorCodeLabel(info.errorCode));
      child.count.inc();
      child.duration.observe(info.ms / 1000);
      if (info.attempt > 0) retries.inc();
    },
    cacheLookup(outcome) {
      cache.inc({ outcome });
    },
    fastPathAnswered() {
      fastPath.inc();
    },
    budget(cls, remaining, refused) {
      if (remaining !== undefined) budgetRemaining.set({ identity_class: cls }, remaining);
      if (refused) budgetRefused.inc({ identity_class: cls });
    },
  };
}
