/**
 * The retry policy: which failures are worth another attempt, how long to wait before it
 * (exponential backoff with jitter, a 429's `Retry-After` honoured up to a limit), and the wait.
 */
import type { CancelSignal } from '../cancel';
import { UpstreamError, UpstreamHttpError, UpstreamNetworkError, UpstreamTimeoutError } from './errors';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** First backoff step; each retry doubles it, with jitter. */
  backoffBaseMs: number;
  /** A 429's `Retry-After` is honoured up to this; a longer one fails at once. */
  maxRetryAfterMs: number;
  random: () => number;
}

/** Whether an error is worth another attempt: 5xx, 409 (instance busy), 429 and network failures; never 4xx otherwise. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof UpstreamHttpError) return error.status >= 500 || error.status === 409 || error.status === 429;
  return error instanceof UpstreamNetworkError || error instanceof UpstreamTimeoutError;
}

/**
 * How long to wait before the attempt after `attempt` (0 for the first) failed with `error`, or
 * undefined when that failure is final. `random` is drawn only when a retry is due.
 */
export function retryWait(policy: RetryPolicy, error: unknown, attempt: number): number | undefined {
  if (!(error instanceof UpstreamError) || !isRetryable(error) || attempt >= policy.retries) return undefined;
  const wait = policy.backoffBaseMs * 2 ** attempt * (0.5 + policy.random() / 2);
  if (error instanceof UpstreamHttpError && error.status === 429 && error.retryAfterSeconds !== undefined) {
    if (error.retryAfterSeconds * 1000 > policy.maxRetryAfterMs) return undefined; // the caller learns retryAfterSeconds instead of hanging
    return Math.max(wait, error.retryAfterSeconds * 1000);
  }
  return wait;
}

export const defaultSleep = (ms: number, signal?: CancelSignal): Promise<void> => new Promise((resolve) => {
  const timer = setTimeout(done, ms);
  signal?.addEventListener('abort', done, { once: true });
  function done(): void {
    clearTimeout(timer);
    signal?.removeEventListener('abort', done);
    resolve();
  }
});

/** Settles when `signal` aborts (never without one). */
const whenAborted = (signal: CancelSignal | undefined): Promise<void> => new Promise((resolve) => {
  if (signal?.aborted) resolve();
  else signal?.addEventListener('abort', () => resolve(), { once: true });
});

/** The backoff wait: `sleep`, cut short when `signal` aborts even if `sleep` ignores it. */
export function backOff(sleep: (ms: number, signal?: CancelSignal) => Promise<void>, ms: number, signal: CancelSignal | undefined): Promise<void> {
  return Promise.race([sleep(ms, signal), whenAborted(signal)]);
}
