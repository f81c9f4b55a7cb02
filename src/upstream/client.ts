/**
 * The upstream client: one keep-alive connection pool (undici), bounded retries, and typed
 * errors. It takes wire parameters and returns checked wire DTOs; it knows nothing of GraphQL.
 *
 * The transport is undici rather than axios: on this path axios's request pipeline (config
 * merging, header objects, its http adapter) cost more than the rest of the gateway together.
 * Measured with a bare server over the same resolvers, cache off, 32 connections (.scratch
 * variants of bench/, one target at a time): axios 750 req/s, axios with a node:http adapter
 * 951, node:http 1,252, undici 1,279.
 */
import { createHash } from 'node:crypto';

import { Pool, errors as undiciErrors } from 'undici';

import { AkGuard, type KeyVerdict } from './ak-guard';
import { UpstreamBadResponseError, UpstreamCallCancelledError, UpstreamError, UpstreamHttpError, UpstreamNetworkError, UpstreamTimeoutError } from './errors';
import { signRequest } from './signer';
import { listBackupsParts, toPathAndQuery, type ListBackupsParams } from './url';
import { parseErrorBody, parseListBackupsResponse, toRequestId, type ListBackupsResponseDTO } from './wire';

/** How a call authenticates. `none` is only ever chosen for a loopback upstream (see context.ts). */
export type UpstreamAuth =
  | { kind: 'none' }
  | { kind: 'token'; token: string }
  | { kind: 'aksk'; ak: string; sk: string; securityToken?: string };

export interface CallOptions {
  auth: UpstreamAuth;
  /** `X-Language` for the upstream's error messages. */
  language?: 'en-us' | 'zh-cn';
  /** Runs before every attempt, retries included; throwing stops the call (the upstream budget). */
  beforeAttempt?: () => Promise<void>;
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
  signal?: AbortSignal;
}

/** Who a call counts against upstream: a hash of the caller's token, the service AK, or one anonymous identity. */
export function callerIdentity(auth: UpstreamAuth): string {
  if (auth.kind === 'token') return `token:${createHash('sha256').update(auth.token).digest('hex').slice(0, 32)}`;
  if (auth.kind === 'aksk') return `ak:${auth.ak}`;
  return 'anonymous';
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
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
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
}

/** An answer larger than this is refused (the largest real page, 100 rows, is about 60 KB). */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/**
 * Undici's limit on an answer's headers (16 KB by default) turned a 60 KB `X-Request-Id` into a
 * network error, and the call into UPSTREAM_UNAVAILABLE. A larger limit lets such an answer be
 * read, and its request id dropped for its shape (wire.ts).
 */
const MAX_RESPONSE_HEADER_BYTES = 256 * 1024;

/** The request headers that carry credentials: nothing relayed from the answer may contain them. */
const CREDENTIAL_HEADERS = ['X-Auth-Token', 'Authorization', 'X-Security-Token'];

/**
 * The credential parts a request carried: a token, the security token, and the AK and signature
 * inside an `Authorization` value (`SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…`).
 * Parts shorter than 8 characters (the scheme's words) are not secrets and could match anything.
 */
function credentialParts(headers: Record<string, string>): string[] {
  return CREDENTIAL_HEADERS.flatMap((name) => headers[name]?.split(/[\s,=]+/) ?? []).filter((part) => part.length >= 8);
}

/**
 * A value the answer wants relayed (`error_code`, a request id), unless it echoes a credential of
 * the request: a proxy that copies the request into its answer must not hand the caller's token,
 * or the service's signature, to whoever reads the error or the log. The shapes (wire.ts) stop
 * most echoes; this stops one that happens to have a relayable shape.
 */
function relayable(value: string | undefined, secrets: readonly string[]): string | undefined {
  if (value === undefined) return undefined;
  return secrets.some((secret) => value.includes(secret) || secret.includes(value)) ? undefined : value;
}

/** Node's code for a failed connection (`ECONNREFUSED`, `ECONNRESET`...), or undici's, for logs and metrics. */
function networkCode(error: unknown): string | undefined {
  const own = (error as { code?: unknown } | null)?.code;
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  const code = typeof cause === 'string' ? cause : own;
  return typeof code === 'string' ? code : undefined;
}

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> => new Promise((resolve) => {
  const timer = setTimeout(done, ms);
  signal?.addEventListener('abort', done, { once: true });
  function done(): void {
    clearTimeout(timer);
    signal?.removeEventListener('abort', done);
    resolve();
  }
});

/** Settles when `signal` aborts (never without one). */
const whenAborted = (signal: AbortSignal | undefined): Promise<void> => new Promise((resolve) => {
  if (signal?.aborted) resolve();
  else signal?.addEventListener('abort', () => resolve(), { once: true });
});

/** Whether an error is worth another attempt: 5xx, 409 (instance busy), 429 and network failures; never 4xx otherwise. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof UpstreamHttpError) return error.status >= 500 || error.status === 409 || error.status === 429;
  return error instanceof UpstreamNetworkError || error instanceof UpstreamTimeoutError;
}

function retryAfterSeconds(header: unknown): number | undefined {
  if (typeof header !== 'string') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
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

export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const {
    endpoint, timeoutMs, retries, maxRetryAfterMs = 5000, backoffBaseMs = 100, random = Math.random, sleep = defaultSleep, now = () => new Date(),
    onAttempt, akFailuresBeforePause = 3, akPauseMs = 5 * 60_000,
  } = options;
  // The clock that dates signatures also times the pause: one clock for what the cloud sees.
  const akGuard = new AkGuard({ failuresBeforePause: akFailuresBeforePause, pauseMs: akPauseMs, now: () => now().getTime() });
  const base = new URL(endpoint);
  // An endpoint may carry a path prefix (a proxy in front of RDS); it is part of what is signed.
  const prefixSegments = base.pathname.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
  // One pool for the one origin; redirects are never followed (the API does not redirect) and
  // proxy variables are ignored (a proxy in front of RDS goes in RDS_ENDPOINT).
  const pool = new Pool(base.origin, { connections: 256, keepAliveTimeout: 30_000, maxResponseSize: MAX_RESPONSE_BYTES, maxHeaderSize: MAX_RESPONSE_HEADER_BYTES });
  const pathPrefix = base.pathname.replace(/\/+$/, '');

  /**
   * One HTTP exchange, aborted once `timeLeft()` is not positive (read again when it was due, as
   * it may have moved), or at once when `cancel` aborts.
   */
  async function once(path: string, headers: Record<string, string>, timeLeft: () => number, cancel: AbortSignal | undefined): Promise<ListBackupsResult> {
    if (cancel?.aborted) throw new UpstreamCallCancelledError(); // while it waited for the AK's slot or the budget
    const abort = new AbortController();
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      const left = timeLeft();
      if (left <= 0) abort.abort();
      else timer = setTimeout(arm, left);
    };
    const onCancel = (): void => abort.abort();
    cancel?.addEventListener('abort', onCancel, { once: true });
    arm();
    let status: number;
    let responseHeaders: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const response = await pool.request({ method: 'GET', path: pathPrefix + path, headers, signal: abort.signal });
      status = response.statusCode;
      responseHeaders = response.headers;
      text = await response.body.text();
    } catch (error) {
      if (cancel?.aborted) throw new UpstreamCallCancelledError();
      if (abort.signal.aborted) throw new UpstreamTimeoutError(Date.now() - started);
      if (error instanceof undiciErrors.ResponseExceededMaxSizeError) throw new UpstreamBadResponseError(`the body is larger than ${MAX_RESPONSE_BYTES} bytes`);
      throw new UpstreamNetworkError(networkCode(error));
    } finally {
      clearTimeout(timer);
      cancel?.removeEventListener('abort', onCancel);
    }
    const header = (name: string): string | undefined => {
      const value = responseHeaders[name];
      return typeof value === 'string' ? value : undefined;
    };
    const secrets = credentialParts(headers);
    const requestId = relayable(toRequestId(header('x-request-id')), secrets);
    if (status >= 200 && status < 300) return { body: parseListBackupsResponse(text, requestId), requestId };
    const err = parseErrorBody(text);
    throw new UpstreamHttpError(status, relayable(err.errorCode, secrets), requestId ?? relayable(err.requestId, secrets), retryAfterSeconds(header('retry-after')));
  }

  return {
    async listBackups(params, { auth, language, beforeAttempt, onAttempt: onThisAttempt, deadline, signal }) {
      const parts = listBackupsParts(params);
      const path = toPathAndQuery(parts);
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (language) headers['X-Language'] = language;
      if (auth.kind === 'token') headers['X-Auth-Token'] = auth.token;
      if (auth.kind === 'aksk') {
        headers['X-Project-Id'] = params.projectId;
        if (auth.securityToken) headers['X-Security-Token'] = auth.securityToken;
      }
      /** Each attempt is signed afresh: a retry must not carry an old X-Sdk-Date. */
      const attemptHeaders = (): Record<string, string> => {
        if (auth.kind !== 'aksk') return headers;
        const signed = signRequest({ method: 'GET', pathSegments: [...prefixSegments, ...parts.pathSegments], query: parts.query, headers: { ...headers, host: base.host } }, auth, now());
        return { ...headers, ...signed };
      };
      const currentDeadline = typeof deadline === 'function' ? deadline : () => deadline;
      const deadlineLeft = (): number => {
        const at = currentDeadline();
        return at === undefined ? Number.POSITIVE_INFINITY : at - Date.now();
      };
      for (let attempt = 0; ; attempt++) {
        if (signal?.aborted) throw new UpstreamCallCancelledError();
        if (deadlineLeft() <= 0) throw new UpstreamTimeoutError(0); // the operation's deadline has passed
        // The service AK waits for a slot: see ak-guard.ts. Its release says what the answer told of the key.
        const release = auth.kind === 'aksk' ? await akGuard.admit(auth.ak, deadlineLeft) : undefined;
        try {
          await beforeAttempt?.();
        } catch (error) {
          release?.('unknown');
          throw error;
        }
        const started = performance.now();
        const attemptEnds = Date.now() + timeoutMs;
        const timeLeft = (): number => Math.min(attemptEnds - Date.now(), deadlineLeft());
        const report = (info: Partial<AttemptInfo>): void => {
          const full = { instanceId: params.instanceId, offset: params.offset, limit: params.limit, attempt, ms: performance.now() - started, ...info };
          onAttempt?.(full);
          onThisAttempt?.(full);
        };
        let result: ListBackupsResult;
        try {
          result = await once(path, attemptHeaders(), timeLeft, signal);
        } catch (error) {
          release?.(keyVerdict(error));
          if (error instanceof UpstreamHttpError) report({ status: error.status, errorCode: error.errorCode, requestId: error.requestId, error: error.name });
          else report({ error: error instanceof Error ? error.name : 'unknown', requestId: error instanceof UpstreamError ? error.requestId : undefined });
          if (!(error instanceof UpstreamError) || !isRetryable(error) || attempt >= retries || signal?.aborted) throw error;
          let wait = backoffBaseMs * 2 ** attempt * (0.5 + random() / 2);
          if (error instanceof UpstreamHttpError && error.status === 429 && error.retryAfterSeconds !== undefined) {
            if (error.retryAfterSeconds * 1000 > maxRetryAfterMs) throw error; // the caller learns retryAfterSeconds instead of hanging
            wait = Math.max(wait, error.retryAfterSeconds * 1000);
          }
          if (wait >= deadlineLeft()) throw error; // no time left for another attempt
          await Promise.race([sleep(wait, signal), whenAborted(signal)]);
          continue;
        }
        release?.('accepted');
        report({ status: 200, requestId: result.requestId });
        return result;
      }
    },
    async probe(probeTimeoutMs) {
      try {
        const response = await pool.request({ method: 'GET', path: `${pathPrefix}/`, signal: AbortSignal.timeout(probeTimeoutMs) });
        await response.body.dump();
        return true; // any HTTP answer, whatever its status
      } catch {
        return false;
      }
    },
    close() {
      void pool.destroy().catch(() => undefined);
    },
  };
}
