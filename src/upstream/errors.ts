/**
 * What can go wrong talking to the upstream, as plain error classes. This layer knows nothing of
 * GraphQL: `errors/format.ts` maps these to public codes, once, at the edge.
 */

/** Base of every upstream failure; `requestId` is the upstream's `X-Request-Id` when it answered. */
export abstract class UpstreamError extends Error {
  constructor(message: string, readonly requestId?: string) {
    super(message);
  }
}

/** The upstream answered with a non-2xx status. `errorCode` is its `error_code` (e.g. `DBS.200045`). */
export class UpstreamHttpError extends UpstreamError {
  override name = 'UpstreamHttpError';
  constructor(
    readonly status: number,
    readonly errorCode: string | undefined,
    requestId: string | undefined,
    /** From `Retry-After`, when the upstream sent one. */
    readonly retryAfterSeconds?: number,
  ) {
    super(`upstream answered ${status}${errorCode ? ` ${errorCode}` : ''}`, requestId);
  }
}

/** No answer in `UPSTREAM_TIMEOUT_MS`. */
export class UpstreamTimeoutError extends UpstreamError {
  override name = 'UpstreamTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`upstream did not answer within ${timeoutMs} ms`);
  }
}

/**
 * Every request that wanted the call left (its client disconnected), so the call was stopped:
 * no further attempt, the one in flight cut, the backoff wait ended. To everything above the
 * client it is a call whose deadline came (the requester's deadline is now), hence the subclass:
 * it is formatted and never retried as one. Its own name tells it apart in logs and metrics.
 */
export class UpstreamCallCancelledError extends UpstreamTimeoutError {
  override name = 'UpstreamCallCancelledError';
  constructor() {
    super(0);
    this.message = 'upstream call cancelled: its requester left';
  }
}

/** The connection failed (refused, reset, DNS...). `code` is Node's error code, e.g. `ECONNREFUSED`. */
export class UpstreamNetworkError extends UpstreamError {
  override name = 'UpstreamNetworkError';
  constructor(readonly code: string | undefined) {
    super(`upstream connection failed${code ? ` (${code})` : ''}`);
  }
}

/** A 2xx answer whose body is not the documented shape. `reason` says what was wrong (never the body itself). */
export class UpstreamBadResponseError extends UpstreamError {
  override name = 'UpstreamBadResponseError';
  constructor(readonly reason: string, requestId?: string) {
    super(`upstream answer is not the documented shape: ${reason}`, requestId);
  }
}

/**
 * The service AK/SK was refused several times in a row, so the client stopped using it for a
 * while: five refusals in a row lock the key upstream for five minutes, for every caller.
 */
export class CredentialsPausedError extends UpstreamError {
  override name = 'CredentialsPausedError';
  constructor(readonly retryAfterSeconds: number) {
    super('the service AK/SK was refused repeatedly; calls with it are paused');
  }
}
