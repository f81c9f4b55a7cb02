/**
 * Per-request state, built here and nowhere else: the caller's credentials and project, and a
 * fresh BackupService (lists, loaders, fan-out limiter). Nothing in it outlives the request, so
 * one caller's rows or token can never serve another.
 */
import { BackupService } from './backups/service';
import type { CancelSignal } from './cancel';
import { concurrencyLimit } from './limits/concurrency';
import type { Config } from './config';
import { InvalidInputError, MalformedCredentialsError, MissingCredentialsError } from './errors/domain';
import { isId } from './ids';
import type { LiveSource } from './live/source';
import type { Logger } from './logger';
import type { OperationTrace, Tracing } from './observability/tracing';
import type { AttemptInfo, CallOptions, ServedPage, UpstreamAuth, UpstreamClient } from './upstream/client';

export interface GatewayContext {
  backups: BackupService;
  /** The request's id (`X-Request-Id`, taken from the caller or made here), for logs. */
  requestId: string;
  /** `performance.now()` when the request arrived: operations are timed from here. */
  started: number;
  /**
   * Upstream calls for this request (attempts, retries included; not cache hits): `count` made
   * for it, `shared` made for another request whose identical call it waited on (coalesced).
   */
  upstreamCalls: { count: number; shared: number };
  /**
   * How this request's upstream calls authenticate, so whose budget they spend
   * (`callerIdentity(auth)`); undefined when it may make none (malformed or missing credentials).
   */
  auth: UpstreamAuth | undefined;
  /**
   * Upstream pages this request was served (cache hits included): how many, and the least
   * freshness left among them (ms; Infinity when none). HTTP caching makes `max-age` of it
   * (graphql/http-caching.ts).
   */
  upstreamPages: { count: number; freshForMs: number };
  /** Where `Subscription.backupChanges` reads its changes; undefined on a gateway built without one. */
  live?: LiveSource;
  /**
   * The operation's server span (tracing on), started here at the request's arrival and ended with
   * its log line (graphql/operation.ts); its calls reach the upstream client in CallOptions.trace.
   */
  trace?: OperationTrace;
}

/** Reads a request header by lower-case name. */
export type HeaderGetter = (name: string) => string | undefined;

/** What the context needs of an HTTP request (http/router.ts's Exchange is one). */
export interface RequestInfo {
  requestId: string;
  /** `performance.now()` at its arrival. */
  started: number;
  header: HeaderGetter;
  /** Aborts when the client leaves before its answer was sent. */
  signal?: CancelSignal;
}

export type ContextFactory = (request: RequestInfo) => GatewayContext;

export interface ContextDeps {
  config: Config;
  client: UpstreamClient;
  /** The upstream's base URL; a loopback one may be called without credentials. */
  endpoint: string;
  /** Project when the request names none. */
  defaultProjectId: string | null;
  logger: Logger;
  /** The shared poll of live changes, handed to every context (one per gateway, not per request). */
  live?: LiveSource;
  /** Starts each operation's server span. @default none */
  tracing?: Tracing;
}

/** Whether a URL points at this machine (127.0.0.0/8, ::1, localhost): the simulator or a test upstream. */
export function isLoopback(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * A token as it may travel in a header: visible ASCII, no spaces (RFC 9110 token68 and IAM's
 * base64 tokens alike). Anything else would be refused upstream, or by undici before the call.
 */
const TOKEN = /^[\x21-\x7E]+$/;
const BEARER = /^Bearer +(\S+)$/i;

/**
 * The caller's token, from `X-Auth-Token` or `Authorization: Bearer`; undefined when the request
 * has neither header. A request that has either header but no well-formed token in it (or two
 * different tokens) gets MalformedCredentialsError: on a gateway with a service AK/SK, falling
 * back to "no credentials" would answer it as the service.
 */
export function callerToken(header: HeaderGetter): string | undefined | MalformedCredentialsError {
  const xAuthToken = header('x-auth-token');
  const authorization = header('authorization');
  const tokens: string[] = [];
  if (xAuthToken !== undefined) {
    const token = xAuthToken.trim();
    if (!TOKEN.test(token)) return new MalformedCredentialsError('X-Auth-Token must be a token: visible ASCII characters, no spaces.');
    tokens.push(token);
  }
  if (authorization !== undefined) {
    const token = BEARER.exec(authorization.trim())?.[1];
    if (token === undefined || !TOKEN.test(token)) return new MalformedCredentialsError('Authorization must be "Bearer <token>" (a token of visible ASCII characters, no spaces).');
    tokens.push(token);
  }
  if (tokens.length === 2 && tokens[0] !== tokens[1]) return new MalformedCredentialsError('X-Auth-Token and Authorization carry different tokens: send one.');
  return tokens[0];
}

/** `Accept-Language` → the upstream's `X-Language` (`en-us` or `zh-cn`), when it names one of them. */
export function upstreamLanguage(acceptLanguage: string | undefined): CallOptions['language'] {
  const first = acceptLanguage?.split(',')[0]?.trim().toLowerCase() ?? '';
  if (first.startsWith('zh')) return 'zh-cn';
  if (first.startsWith('en')) return 'en-us';
  return undefined;
}

/**
 * Builds a request's context. Its `signal` is aborted when the request's client leaves before
 * its answer was sent: its upstream calls stop then (unless a call is shared with a request that
 * still waits, shared-upstream/client.ts).
 */
export function createContextFactory(deps: ContextDeps): ContextFactory {
  const loopback = isLoopback(deps.endpoint);
  const credentials = deps.config.credentials;
  const tracing = deps.tracing?.enabled ? deps.tracing : undefined;
  return ({ header, requestId, started, signal }) => {
    // Undefined with tracing off: then nothing below costs more than this check.
    const trace = tracing?.startOperation(started, header);
    const token = callerToken(header);
    const language = upstreamLanguage(header('accept-language'));
    const upstreamCalls = { count: 0, shared: 0 };
    const upstreamPages = { count: 0, freshForMs: Number.POSITIVE_INFINITY };
    const onServed = (page: ServedPage): void => {
      upstreamPages.count += 1;
      upstreamPages.freshForMs = Math.min(upstreamPages.freshForMs, page.freshForMs);
    };
    const deadline = Date.now() + deps.config.limits.operationDeadlineMs;
    // Each attempt this request makes: counted for its log line, logged at debug with both request ids.
    const onAttempt = (attempt: AttemptInfo): void => {
      if (attempt.shared) upstreamCalls.shared += 1;
      else upstreamCalls.count += 1;
      deps.logger.debug({ requestId, upstream: attempt }, 'upstream call');
    };
    // A caller's token wins; else the service AK/SK signs; else only a loopback upstream is
    // called, without credentials (a real cloud would count the refusals toward a lock-out).
    // Malformed caller credentials are none of these: no call at all.
    const auth: UpstreamAuth | undefined = typeof token === 'string' ? { kind: 'token', token }
      : credentials ? { kind: 'aksk', ...credentials }
      : loopback ? { kind: 'none' }
      : undefined;
    const callOptions: CallOptions | Error = token instanceof MalformedCredentialsError ? token
      : auth ? { auth, language, onAttempt, deadline, signal, onServed, trace: trace?.calls }
      : new MissingCredentialsError();

    const requested = header('x-project-id')?.trim();
    let project: string | Error;
    if (requested) project = isId(requested) ? requested : new InvalidInputError('X-Project-Id must be 1 to 64 letters, digits, - or _.');
    else project = deps.defaultProjectId ?? new InvalidInputError('No project: send X-Project-Id or set HUAWEICLOUD_SDK_PROJECT_ID.');

    return {
      requestId,
      started,
      upstreamCalls,
      auth: callOptions instanceof Error ? undefined : callOptions.auth,
      upstreamPages,
      live: deps.live,
      trace,
      backups: new BackupService({
        client: deps.client,
        callOptions,
        project,
        limit: concurrencyLimit(deps.config.upstream.fanout),
        maxPageSize: deps.config.limits.maxPageSize,
        // Extra rows pay off only where something reuses them: the upstream cache.
        prefetch: deps.config.upstream.cacheTtlMs > 0,
      }),
    };
  };
}
