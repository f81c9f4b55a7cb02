/**
 * The upstream client: one keep-alive connection pool (undici), bounded retries, and typed
 * errors. It takes wire parameters and returns checked wire DTOs; it knows nothing of GraphQL.
 * This file holds its contract and runs a call's attempts (the AK guard, the budget, the
 * deadline, the retry policy); building the request (request.ts), the HTTP exchange
 * (exchange.ts), reading the answer (answer.ts) and the backoff (retry.ts) live beside it.
 *
 * The transport is undici rather than axios: on this path axios's request pipeline (config
 * merging, header objects, its http adapter) cost more than the rest of the gateway together.
 * Measured with a bare server over the same resolvers, cache off, 32 connections (.scratch
 * variants of bench/, one target at a time): axios 750 req/s, axios with a node:http adapter
 * 951, node:http 1,252, undici 1,279.
 */
import { createHash } from 'node:crypto';

import type { Dispatcher } from 'undici';

import type { CancelSignal } from '../cancel';
import { AkGuard, type KeyVerdict } from './ak-guard';
import { toListBackupsResult } from './answer';
import { UpstreamBadResponseError, UpstreamCallCancelledError, UpstreamError, UpstreamHttpError, UpstreamNetworkError, UpstreamTimeoutError } from './errors';
import { createPool, createProxiedPool, exchange, probe } from './exchange';
import type { UpstreamProxy } from './proxy';
import { createListBackupsRequest, toUpstreamTarget, type UpstreamTarget } from './request';
import { backOff, defaultSleep, retryWait, type RetryPolicy } from './retry';
import type { ListBackupsParams } from './url';
import type { ListBackupsResponseDTO } from './wire';

/** How a call authenticates. `none` is only ever chosen for a loopback upstream (see context.ts). */
export type UpstreamAuth =
  | { kind: 'none' }
  | { kind: 'token'; token: string }
  | { kind: 'aksk'; ak: string; sk: string; securityToken?: string };

export interface CallOptions {
  auth: UpstreamAuth;
  /** `X-Language` for the upstream's error messages. */
  language?: 'en-us' | 'zh-cn';
  /**
   * Runs before every attempt, retries included; throwing stops the call (the upstream budget).
   * Resolves with the caller identity's budget left after this attempt, when it counts one.
   */
  beforeAttempt?: () => Promise<number | undefined | void>;
  /** Told about each attempt of this call (per-request logs), besides the client's own `onAttempt`. */
  onAttempt?: (attempt: AttemptInfo) => void;
  /**
   * Epoch ms after which no attempt starts or goes on (the operation's deadline). A function is
   * read afresh whenever the client checks it, so the deadline may move while the call runs: a
   * call shared by several requests lasts as long as the latest of them waits (shared-upstream/client.ts).
   */
  deadline?: number | (() => number | undefined);
  /**
   * Aborted when nobody wants the answer any more (the client disconnected): no attempt starts,
   * the one in flight is cut and the backoff wait ends; the call throws UpstreamCallCancelledError.
   */
  signal?: CancelSignal;
  /**
   * Told, for the page a call returns, how long it stays fresh in the cache that served it (ms;
   * 0 when served stale or not cached at all): the freshness HTTP caching gives the answer made
   * of it. The shared upstream (shared-upstream/client.ts) calls it; this client never does, and
   * a page that only this client fetched is cached by no one.
   */
  onServed?: (page: ServedPage) => void;
  /**
   * Read past any cache in front of the client: a cache serves no page for this call, which goes
   * upstream (or joins an identical call already in flight) and stores its answer for the
   * others. A live poll (live/polls.ts) reads this way, so that it sees changes and refreshes
   * the page that queries read. This client ignores it: it caches nothing.
   */
  fresh?: boolean;
  /** Traces this call: a client span per attempt (observability/tracing.ts); absent when tracing is off. */
  trace?: CallTrace;
}

/** How a cache in front of the client served a call: `miss` (a call made for it), `coalesced` (another request's call, joined), `hit`/`stale` (no call). */
export type CacheOutcome = 'hit' | 'stale' | 'miss' | 'coalesced';

/** What the client tells a call's tracing (CallOptions.trace). It never sees a credential. */
export interface CallTrace {
  /** Starts one attempt's client span. */
  startAttempt(target: AttemptTarget): AttemptTrace;
  /** Told by a cache in front of the client how it served the call; for `coalesced`, the joined call's latest attempt, when it has begun (in its first requester's trace). */
  served?(outcome: CacheOutcome, attempt?: AttemptIds): void;
}

/** Where one attempt goes: the upstream's host and port, the request's path without its query, and its number (0 first). */
export interface AttemptTarget {
  attempt: number;
  host: string;
  port: number;
  path: string;
}

/** Where an attempt's span is: its trace and its own id. */
export interface AttemptIds {
  readonly traceId: string;
  readonly spanId: string;
}

export interface AttemptTrace extends AttemptIds {
  /**
   * The attempt's headers with its trace context added (`traceparent`, `tracestate`), as a copy.
   * Added after AK/SK signing and never signed (signer.ts): a retry has a span of its own.
   */
  headers(headers: Record<string, string>): Record<string, string>;
  /** Runs `fn` with the attempt's span active: the log lines it writes carry its ids. */
  run<T>(fn: () => T): T;
  /** Ends the span: `status` when the upstream answered, `error` when the attempt failed. */
  end(result: { status?: number; error?: unknown; budgetRemaining?: number }): void;
}

/** What a cache in front of the client says of a page it returned. */
export interface ServedPage {
  /** How much longer the page stays fresh (ms; 0: stale, or the cache is off). */
  freshForMs: number;
}

/** Identities already worked out, by credentials object: a request's context holds one, read by each call and by its RateLimit headers. */
const identities = new WeakMap<UpstreamAuth, string>();

/** Who a call counts against upstream: a hash of the caller's token, the service AK, or one anonymous identity. */
export function callerIdentity(auth: UpstreamAuth): string {
  let identity = identities.get(auth);
  if (identity === undefined) {
    if (auth.kind === 'token') identity = `token:${createHash('sha256').update(auth.token).digest('hex').slice(0, 32)}`;
    else identity = auth.kind === 'aksk' ? `ak:${auth.ak}` : 'anonymous';
    identities.set(auth, identity);
  }
  return identity;
}

export interface ListBackupsResult {
  body: ListBackupsResponseDTO;
  /** The upstream's `X-Request-Id`. */
  requestId?: string;
}

export interface UpstreamClient {
  listBackups(params: ListBackupsParams, options: CallOptions): Promise<ListBackupsResult>;
  /** Whether the upstream answers HTTP at all (any status), within `timeoutMs`: readiness. No credentials, no budget. */
  probe?(timeoutMs: number): Promise<boolean>;
  /** Closes the keep-alive sockets (shutdown). */
  close(): void;
}

export interface UpstreamClientOptions {
  /** Base URL, e.g. `https://rds.ap-southeast-1.myhuaweicloud.com`. */
  endpoint: string;
  timeoutMs: number;
  /** Retries after the first attempt, for 5xx, 409, 429 and network failures. */
  retries: number;
  /** A 429's `Retry-After` is honoured up to this; a longer one fails at once. @default 5000 */
  maxRetryAfterMs?: number;
  /** First backoff step; each retry doubles it, with jitter. @default 100 */
  backoffBaseMs?: number;
  random?: () => number;
  /** The backoff wait; it may end early when `signal` aborts (the call also stops waiting then). */
  sleep?: (ms: number, signal?: CancelSignal) => Promise<void>;
  /** The clock that dates AK/SK signatures. */
  now?: () => Date;
  /** Told about every attempt, for logs and metrics. Never receives credentials. */
  onAttempt?: (attempt: AttemptInfo) => void;
  /**
   * After this many 401s in a row for the service AK, stop using it for `akPauseMs`: the cloud
   * locks an AK for five minutes after five failures, for every caller. Calls in flight count
   * too: the cloud never sees more refusals than this before the pause (ak-guard.ts). @default 3
   */
  akFailuresBeforePause?: number;
  /** @default 5 minutes */
  akPauseMs?: number;
  /** The forward proxy every call (the readiness probe too) goes through; app.ts picks it from the proxy variables. @default none */
  proxy?: UpstreamProxy;
}

export interface AttemptInfo {
  instanceId: string;
  offset: number;
  limit: number;
  attempt: number;
  ms: number;
  /** HTTP status, when the upstream answered. */
  status?: number;
  /**
   * Set by the shared upstream for a request that waited on a call another request started
   * (coalesced): the attempt was not made for it alone.
   */
  shared?: boolean;
  errorCode?: string;
  requestId?: string;
  /** The error's class name, when the attempt failed. */
  error?: string;
  /** Why no answer came, for an UpstreamNetworkError: Node's or undici's code (`ECONNREFUSED`), or the proxy's refusal (`PROXY_407`). */
  networkCode?: string;
}

/**
 * What an answer says about the signing key. A 4xx other than 401 judged the request itself, so
 * the signature was accepted; a 5xx, a 429 or no answer may come before authentication.
 */
function keyVerdict(error: unknown): KeyVerdict {
  if (!(error instanceof UpstreamHttpError)) return error instanceof UpstreamBadResponseError ? 'accepted' : 'unknown';
  if (error.status === 401) return 'refused';
  return error.status >= 400 && error.status < 500 && error.status !== 429 ? 'accepted' : 'unknown';
}

/** What a failed attempt reports. */
function failureInfo(error: unknown): Partial<AttemptInfo> {
  if (error instanceof UpstreamHttpError) return { status: error.status, errorCode: error.errorCode, requestId: error.requestId, error: error.name };
  if (error instanceof UpstreamNetworkError) return { error: error.name, networkCode: error.code };
  return { error: error instanceof Error ? error.name : 'unknown', requestId: error instanceof UpstreamError ? error.requestId : undefined };
}

/** What every call of one client shares: its pool, its AK guard and its resolved options. */
interface ClientParts {
  /** The Pool to the upstream, or the same behind a proxy. */
  pool: Dispatcher;
  target: UpstreamTarget;
  akGuard: AkGuard;
  timeoutMs: number;
  policy: RetryPolicy;
  sleep: (ms: number, signal?: CancelSignal) => Promise<void>;
  now: () => Date;
  onAttempt?: (attempt: AttemptInfo) => void;
}

/** Milliseconds until the call's deadline, read afresh each time (infinite without one). */
function toDeadlineLeft(deadline: CallOptions['deadline']): () => number {
  const currentDeadline = typeof deadline === 'function' ? deadline : () => deadline;
  return () => {
    const at = currentDeadline();
    return at === undefined ? Number.POSITIVE_INFINITY : at - Date.now();
  };
}

/** One list-backups call: attempts until one succeeds, the error is final, or time runs out. */
async function callListBackups(client: ClientParts, params: ListBackupsParams, options: CallOptions): Promise<ListBackupsResult> {
  const { auth, language, beforeAttempt, onAttempt: onThisAttempt, deadline, signal } = options;
  const request = createListBackupsRequest(client.target, params, auth, language, client.now);
  const deadlineLeft = toDeadlineLeft(deadline);
  const trace = options.trace;
  const tracedPath = trace ? request.path.split('?')[0]! : '';
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw new UpstreamCallCancelledError();
    if (deadlineLeft() <= 0) throw new UpstreamTimeoutError(0); // the operation's deadline has passed
    // The service AK waits for a slot: see ak-guard.ts. Its release says what the answer told of the key.
    const release = auth.kind === 'aksk' ? await client.akGuard.admit(auth.ak, deadlineLeft) : undefined;
    let budgetRemaining: number | undefined;
    try {
      budgetRemaining = (await beforeAttempt?.()) ?? undefined;
    } catch (error) {
      release?.('unknown');
      throw error;
    }
    const span = trace?.startAttempt({ attempt, host: client.target.server.name, port: client.target.server.port, path: tracedPath });
    const started = performance.now();
    const attemptEnds = Date.now() + client.timeoutMs;
    const timeLeft = (): number => Math.min(attemptEnds - Date.now(), deadlineLeft());
    const report = (info: Partial<AttemptInfo>): void => {
      const full = { instanceId: params.instanceId, offset: params.offset, limit: params.limit, attempt, ms: performance.now() - started, ...info };
      client.onAttempt?.(full);
      if (span) span.run(() => onThisAttempt?.(full));
      else onThisAttempt?.(full);
    };
    let result: ListBackupsResult;
    try {
      const headers = span ? span.headers(request.headers()) : request.headers();
      result = toListBackupsResult(await exchange(client.pool, request.path, headers, timeLeft, signal), headers);
    } catch (error) {
      release?.(keyVerdict(error));
      const failure = failureInfo(error);
      span?.end({ status: failure.status, error, budgetRemaining });
      report(failure);
      const wait = signal?.aborted ? undefined : retryWait(client.policy, error, attempt);
      if (wait === undefined || wait >= deadlineLeft()) throw error; // final, or no time left for another attempt
      await backOff(client.sleep, wait, signal);
      continue;
    }
    release?.('accepted');
    span?.end({ status: 200, budgetRemaining });
    report({ status: 200, requestId: result.requestId });
    return result;
  }
}

export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const {
    endpoint, timeoutMs, retries, maxRetryAfterMs = 5000, backoffBaseMs = 100, random = Math.random, sleep = defaultSleep, now = () => new Date(),
    onAttempt, akFailuresBeforePause = 3, akPauseMs = 5 * 60_000, proxy,
  } = options;
  // The clock that dates signatures also times the pause: one clock for what the cloud sees.
  const akGuard = new AkGuard({ failuresBeforePause: akFailuresBeforePause, pauseMs: akPauseMs, now: () => now().getTime() });
  const target = toUpstreamTarget(endpoint);
  const pool = proxy ? createProxiedPool(target.origin, proxy, timeoutMs) : createPool(target.origin);
  const client: ClientParts = { pool, target, akGuard, timeoutMs, policy: { retries, backoffBaseMs, maxRetryAfterMs, random }, sleep, now, onAttempt };
  return {
    listBackups: (params, callOptions) => callListBackups(client, params, callOptions),
    probe: (probeTimeoutMs) => probe(pool, `${target.pathPrefix}/`, probeTimeoutMs),
    close() {
      void pool.destroy().catch(() => undefined);
    },
  };
}
