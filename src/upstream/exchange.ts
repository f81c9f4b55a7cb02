/**
 * One HTTP exchange with the upstream over the client's keep-alive pool (undici): send the GET,
 * read the whole answer, and turn a failure to get one into a typed error (timeout, cancelled,
 * too large, network). What the answer says is read by answer.ts.
 */
import { Pool, errors as undiciErrors } from 'undici';

import { UpstreamBadResponseError, UpstreamCallCancelledError, UpstreamNetworkError, UpstreamTimeoutError } from './errors';

/** An answer larger than this is refused (the largest real page, 100 rows, is about 60 KB). */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/**
 * Undici's limit on an answer's headers (16 KB by default) turned a 60 KB `X-Request-Id` into a
 * network error, and the call into UPSTREAM_UNAVAILABLE. A larger limit lets such an answer be
 * read, and its request id dropped for its shape (wire.ts).
 */
const MAX_RESPONSE_HEADER_BYTES = 256 * 1024;

/** An answer as it came: status, headers and the whole body as text. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One pool for the one origin; redirects are never followed (the API does not redirect) and
 * proxy variables are ignored (a proxy in front of RDS goes in RDS_ENDPOINT).
 */
export function createPool(origin: string): Pool {
  return new Pool(origin, { connections: 256, keepAliveTimeout: 30_000, maxResponseSize: MAX_RESPONSE_BYTES, maxHeaderSize: MAX_RESPONSE_HEADER_BYTES });
}

/** Node's code for a failed connection (`ECONNREFUSED`, `ECONNRESET`...), or undici's, for logs and metrics. */
function networkCode(error: unknown): string | undefined {
  const own = (error as { code?: unknown } | null)?.code;
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  const code = typeof cause === 'string' ? cause : own;
  return typeof code === 'string' ? code : undefined;
}

/**
 * One HTTP exchange, aborted once `timeLeft()` is not positive (read again when it was due, as
 * it may have moved), or at once when `cancel` aborts.
 */
export async function exchange(pool: Pool, path: string, headers: Record<string, string>, timeLeft: () => number, cancel: AbortSignal | undefined): Promise<RawAnswer> {
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
  try {
    const response = await pool.request({ method: 'GET', path, headers, signal: abort.signal });
    return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
  } catch (error) {
    if (cancel?.aborted) throw new UpstreamCallCancelledError();
    if (abort.signal.aborted) throw new UpstreamTimeoutError(Date.now() - started);
    if (error instanceof undiciErrors.ResponseExceededMaxSizeError) throw new UpstreamBadResponseError(`the body is larger than ${MAX_RESPONSE_BYTES} bytes`);
    throw new UpstreamNetworkError(networkCode(error));
  } finally {
    clearTimeout(timer);
    cancel?.removeEventListener('abort', onCancel);
  }
}

/** Whether the upstream answers HTTP at all (any status) within `timeoutMs`. */
export async function probe(pool: Pool, path: string, timeoutMs: number): Promise<boolean> {
  try {
    const response = await pool.request({ method: 'GET', path, signal: AbortSignal.timeout(timeoutMs) });
    await response.body.dump();
    return true; // any HTTP answer, whatever its status
  } catch {
    return false;
  }
}
