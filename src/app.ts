/**
 * Wires the singletons from a Config: logger, embedded simulator (when no upstream is set),
 * upstream client and gateway. `index.ts` runs it for `npm start`; tests run it the same way.
 */
import type { DestinationStream } from 'pino';

import type { Config } from './config';
import { localCoordination, type LiveCoordination } from './live/coordination';
import { LivePolls } from './live/polls';
import { RedisCoordination } from './live/redis-coordination';
import type { LiveSource } from './live/source';
import { createLogger, type Logger } from './logger';
import { createMetrics, identityClass, type Metrics } from './observability/metrics';
import { createReadiness, type Readiness } from './observability/readiness';
import { createTracing, type Tracing } from './observability/tracing';
import { startGateway, type Gateway } from './server';
import { loadSimulatorConfig, type SimulatorConfig } from './simulator/config';
import type { Simulator } from './simulator/server';
import { startSimulatorFromConfig } from './simulator/start';
import { MemoryStore } from './shared-upstream/memory-store';
import { RedisStore } from './shared-upstream/redis-store';
import { createSharedUpstream } from './shared-upstream/client';
import type { SharedStore } from './shared-upstream/store';
import { createUpstreamClient, type UpstreamClientOptions } from './upstream/client';
import { selectProxy, type UpstreamProxy } from './upstream/proxy';

/** The project the simulator's demo uses when none is configured (the simulator accepts any). */
export const DEMO_PROJECT_ID = '0123456789abcdef0123456789abcdef';

export interface App {
  gateway: Gateway;
  logger: Logger;
  /** The embedded simulator, when `RDS_ENDPOINT`/`RDS_REGION` are unset. */
  simulator?: Simulator;
  endpoint: string;
  /** Cache and budgets: in memory, or through Redis with REDIS_URL. */
  store: SharedStore;
  metrics: Metrics;
  /** OpenTelemetry tracing (`noTracing` unless an OTLP endpoint is configured). */
  tracing: Tracing;
  /** Graceful: lets requests in flight finish (up to SHUTDOWN_TIMEOUT_MS), then exports the last spans and closes the upstream agent, Redis and the simulator. */
  close(): Promise<void>;
}

export interface AppOptions {
  /** Where logs go. @default stdout */
  logDestination?: DestinationStream;
  /** Upstream client settings for tests (e.g. a shorter backoff). */
  client?: Partial<UpstreamClientOptions>;
  /** The clock of the cache and the budget (tests simulate a minute in less). */
  now?: () => number;
  /** How recent an upstream answer keeps /readyz ready without a probe. @default 30 s */
  readinessWindowMs?: number;
  /**
   * The embedded simulator, started when `config.upstream.endpoint` is null (index.ts reads it
   * from SIMULATOR_*). Without it, the embedded defaults: never `process.env`, so a test does not
   * pick up the environment by accident. @default loadSimulatorConfig({}, true)
   */
  simulator?: SimulatorConfig;
  /** Where `Subscription.backupChanges` reads its changes (tests of the transports give a stand-in). @default a LivePolls of this app's own */
  live?: LiveSource;
}

/** The upstream client every request and poll shares: its pool (through a proxy when one applies), cache, coalescing and budget, with their metrics. */
function createUpstream(config: Config, options: AppOptions, deps: { endpoint: string; proxied: boolean; logger: Logger; metrics: Metrics; readiness: Readiness; store: SharedStore }) {
  const { endpoint, logger, metrics, readiness, store } = deps;
  return createSharedUpstream({
    client: createUpstreamClient({
      endpoint,
      proxy: deps.proxied ? upstreamProxy(config, endpoint, logger) : undefined,
      timeoutMs: config.upstream.timeoutMs,
      retries: config.upstream.retries,
      onAttempt: (attempt) => {
        metrics.upstreamAttempt(attempt);
        if (attempt.status !== undefined) readiness.upstreamAnswered();
        else if (attempt.error === 'UpstreamNetworkError' || attempt.error === 'UpstreamTimeoutError') readiness.upstreamUnreachable();
      },
      ...options.client,
    }),
    store,
    ttlMs: config.upstream.cacheTtlMs,
    staleMs: config.upstream.cacheStaleMs,
    budgetPerMinute: config.upstream.budgetPerMinute,
    now: options.now,
    logger,
    onLookup: (outcome) => metrics.cacheLookup(outcome),
    onBudget: (identity, answer) => metrics.budget(identityClass(identity), answer.ok ? answer.remaining : 0, !answer.ok),
  });
}

export async function startApp(config: Config, options: AppOptions = {}): Promise<App> {
  const tracing = createTracing(config.tracing);
  const logger = createLogger(config.logLevel, options.logDestination, tracing.logMixin);
  tracing.logDiagnostics(logger);
  const simulator = config.upstream.endpoint === null ? await startSimulatorFromConfig(options.simulator ?? loadSimulatorConfig({}, true)) : undefined;
  const endpoint = simulator?.url ?? config.upstream.endpoint!;
  const defaultProjectId = config.defaultProjectId ?? (simulator ? DEMO_PROJECT_ID : null);
  const metrics = createMetrics();
  const readiness = createReadiness({
    probe: (ms) => client.probe?.(ms) ?? Promise.resolve(true),
    store: () => (store instanceof RedisStore ? store.probe() : store.status()),
    windowMs: options.readinessWindowMs,
  });
  const store: SharedStore = config.redisUrl ? new RedisStore(config.redisUrl, logger, { commandTimeoutMs: config.redisCommandTimeoutMs }) : new MemoryStore();
  if (store instanceof RedisStore && !(await store.ready())) logger.warn('redis not reachable at start-up: serving from memory until it is');
  const client = createUpstream(config, options, { endpoint, proxied: !simulator, logger, metrics, readiness, store });
  const exampleInstanceId = simulator?.store.list()[0]?.id;
  const live = options.live ? { source: options.live, close: async () => undefined } : await startLivePolls(config, logger, metrics, tracing);
  // What the gateway stands on, closed after it (or when it does not start).
  const closeBelowGateway = async (): Promise<void> => {
    await live.close();
    await tracing.shutdown(); // the spans of the last operations and polls, before the process exits
    client.close();
    await store.close();
    await simulator?.close();
  };
  const gateway = await startGateway({ config, logger, client, endpoint, defaultProjectId, exampleInstanceId, metrics, readiness, store, now: options.now, live: live.source, tracing })
    .catch(async (error: unknown) => {
      // E.g. a manifest of trusted documents that does not check out (a ConfigError): nothing is left running.
      await closeBelowGateway();
      throw error;
    });
  return {
    gateway,
    logger,
    simulator,
    endpoint,
    store,
    metrics,
    tracing,
    async close() {
      await gateway.close(); // first: WebSockets close with 1001 and streams are cut, so clients reconnect elsewhere
      await closeBelowGateway();
    },
  };
}

/**
 * The proxy upstream calls go through, from HTTPS_PROXY, HTTP_PROXY and NO_PROXY, said once in
 * the log when any is set (its credentials as `***`). The embedded simulator, in this process,
 * is never proxied.
 */
function upstreamProxy(config: Config, endpoint: string, logger: Logger): UpstreamProxy | undefined {
  const { proxy: settings } = config.upstream;
  const route = selectProxy(endpoint, settings);
  if (route.kind === 'proxied') {
    logger.info({ proxy: route.proxy.shown, variable: route.proxy.variable }, 'upstream calls go through a proxy');
    return route.proxy; // a ProxyVariable is an UpstreamProxy
  }
  if (route.kind === 'bypassed') logger.info({ variable: route.variable, entry: route.entry }, 'upstream calls go direct: NO_PROXY names the upstream');
  else if (settings.http || settings.https) logger.info({ scheme: new URL(endpoint).protocol.slice(0, -1) }, 'upstream calls go direct: no proxy variable for this scheme');
  return undefined;
}

/**
 * The shared poll of live changes; with REDIS_URL, one poller per key across the replicas, else
 * this replica polls its own keys.
 */
async function startLivePolls(config: Config, logger: Logger, metrics: Metrics, tracing: Tracing): Promise<{ source: LiveSource; close(): Promise<void> }> {
  let coordination: LiveCoordination = localCoordination;
  if (config.redisUrl) {
    const redis = new RedisCoordination(config.redisUrl, { intervalMs: config.live.pollIntervalMs, logger, commandTimeoutMs: config.redisCommandTimeoutMs });
    if (!(await redis.ready())) logger.warn('redis not reachable at start-up: live keys are polled by this replica alone until it is');
    coordination = redis;
  }
  const polls = new LivePolls({
    intervalMs: config.live.pollIntervalMs,
    budgetPerMinute: config.upstream.budgetPerMinute,
    maxKeys: config.live.maxWatches,
    // As long as a query may take: a poll timed out at a short interval has still been paid for.
    pollTimeoutMs: Math.max(config.live.pollIntervalMs, config.limits.operationDeadlineMs),
    logger,
    onPoll: (outcome) => metrics.livePoll(outcome),
    onPollers: (active) => metrics.livePollers(active),
    coordination,
    tracing,
  });
  return {
    source: polls,
    async close() {
      polls.close();
      await coordination.close();
    },
  };
}
