/**
 * One HTTP exchange with the upstream over the client's keep-alive pool (undici): send the GET,
 * read the whole answer, and turn a failure to get one into a typed error (timeout, cancelled,
 * too large, network). What the answer says is read by answer.ts.
 */
import { type Dispatcher, Pool, ProxyAgent, errors as undiciErrors } from 'undici';

import type { CancelSignal } from '../cancel';
import { UpstreamBadResponseError, UpstreamCallCancelledError, UpstreamNetworkError, UpstreamTimeoutError } from './errors';
import type { UpstreamProxy } from './proxy';

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

/** Every pool to the upstream, proxied or not. */
const POOL_OPTIONS: Pool.Options = { connections: 256, keepAliveTimeout: 30_000, maxResponseSize: MAX_RESPONSE_BYTES, maxHeaderSize: MAX_RESPONSE_HEADER_BYTES };

/**
 * One pool for the one origin; redirects are never followed (the API does not redirect). undici
 * reads no proxy variable here: whether a proxy is used was decided at start-up (proxy.ts).
 */
export function createPool(origin: string): Pool {
  return new Pool(origin, POOL_OPTIONS);
}

/**
 * A client to the proxy for CONNECT. undici 7 retries a CONNECT whose socket the proxy closes
 * before answering, at once and for ever, with the request queued where no timeout can stop it
 * (nodejs/undici#3897; undici 8 fails it: #5441): here such a failure fails the request, as any
 * other failure to reach the proxy does. A proxy that never answers CONNECT is given the
 * upstream timeout.
 */
function createTunnelClient(origin: URL, options: object, timeoutMs: number): Dispatcher {
  const pool = new Pool(origin, { ...options, headersTimeout: timeoutMs });
  const connect = pool.connect.bind(pool) as (options: Dispatcher.ConnectOptions) => Promise<Dispatcher.ConnectData>;
  return Object.assign(pool, {
    connect: (options: Dispatcher.ConnectOptions) => connect(options).catch((error: unknown) => {
      if ((error as { code?: unknown } | null)?.code !== 'UND_ERR_SOCKET') throw error;
      throw Object.assign(new Error('the proxy closed the connection before it answered CONNECT'), { code: 'PROXY_CONNECT_CLOSED' });
    }),
  });
}

/**
 * The upstream's pool behind a forward proxy: an https upstream through a CONNECT tunnel, an
 * http one as absolute-form requests (`GET http://host/path`), as curl does (undici tunnels both
 * by default; proxies often refuse CONNECT to port 80). Each pool, to the upstream through a
 * tunnel or to the proxy, has the options of the direct one. `dispatch()` through an Agent needs
 * the request's origin; the request's headers are copied, as ProxyAgent adds `host` to them.
 */
export function createProxiedPool(origin: string, proxy: UpstreamProxy, timeoutMs: number): Dispatcher {
  const agent = new ProxyAgent({
    ...POOL_OPTIONS,
    uri: proxy.origin,
    ...(proxy.authorization === undefined ? {} : { token: proxy.authorization }),
    proxyTunnel: new URL(origin).protocol === 'https:' || new URL(proxy.origin).protocol === 'https:',
    factory: (target, options) => new Pool(target, { ...POOL_OPTIONS, ...options }),
    clientFactory: (target, options) => createTunnelClient(target, options, timeoutMs),
  });
  return agent.compose((dispatch) => (options, handler) => dispatch({ ...options, origin, headers: { ...(options.headers as Record<string, string> | undefined) } }, handler));
}

/** Node's code for a failed connection (`ECONNREFUSED`, `ECONNRESET`...), or undici's, for logs and metrics. */
function networkCode(error: unknown): string | undefined {
  const own = (error as { code?: unknown } | null)?.code;
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  const code = typeof cause === 'string' ? cause : own;
  return typeof code === 'string' ? code : undefined;
}

/**
 * `PROXY_407` and the like when the proxy refused the request: undici says so only in its
 * messages, "Proxy Authentication Required (407)" (a forwarded request) and "Proxy response
 * (407) !== 200 when HTTP Tunneling" (a CONNECT), with a code that names no proxy.
 */
function proxyRefusal(error: unknown): string | undefined {
  const message = (error as { message?: unknown } | null)?.message;
  const status = typeof message === 'string' ? /^Proxy (?:Authentication Required|response) \((\d{3})\)/.exec(message)?.[1] : undefined;
  return status === undefined ? undefined : `PROXY_${status}`;
}

/**
 * One HTTP exchange, aborted once `timeLeft()` is not positive (read again when it was due, as
 * it may have moved), or at once when `cancel` aborts.
 *
 * Sent with `dispatch()` and a handler that gathers the body, rather than `request()`: that one
 * wraps every answer in a Readable stream, an AsyncResource and an AbortSignal listener, which
 * took about 5% of a page request's CPU (`node --cpu-prof` under bench/) for a body that is
 * always read whole. The handler is undici's documented DispatchHandler.
 */
export function exchange(pool: Dispatcher, path: string, headers: Record<string, string>, timeLeft: () => number, cancel: CancelSignal | undefined): Promise<RawAnswer> {
  if (cancel?.aborted) return Promise.reject(new UpstreamCallCancelledError()); // while it waited for the AK's slot or the budget
  const started = Date.now();
  return new Promise<RawAnswer>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let stopped: 'timeout' | 'cancelled' | undefined;
    let timer: NodeJS.Timeout | undefined;
    const stop = (why: 'timeout' | 'cancelled'): void => {
      stopped ??= why;
      controller?.abort(new Error(why));
    };
    const arm = (): void => {
      const left = timeLeft();
      if (left <= 0) stop('timeout');
      else timer = setTimeout(arm, left);
    };
    const onCancel = (): void => stop('cancelled');
    const done = (): void => {
      clearTimeout(timer);
      cancel?.removeEventListener('abort', onCancel);
    };
    let status = 0;
    let answerHeaders: RawAnswer['headers'] = {};
    const chunks: Buffer[] = [];
    cancel?.addEventListener('abort', onCancel, { once: true });
    arm();
    pool.dispatch({ method: 'GET', path, headers }, {
      onRequestStart(c) {
        controller = c;
        if (stopped !== undefined) c.abort(new Error(stopped));
      },
      onResponseStart(_c, statusCode, responseHeaders) {
        status = statusCode;
        answerHeaders = responseHeaders;
      },
      onResponseData(_c, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        done();
        resolve({ status, headers: answerHeaders, text: (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8') });
      },
      onResponseError(_c, error) {
        done();
        if (stopped === 'cancelled' || cancel?.aborted) reject(new UpstreamCallCancelledError());
        else if (stopped === 'timeout') reject(new UpstreamTimeoutError(Date.now() - started));
        else if (error instanceof undiciErrors.ResponseExceededMaxSizeError) reject(new UpstreamBadResponseError(`the body is larger than ${MAX_RESPONSE_BYTES} bytes`));
        else reject(new UpstreamNetworkError(proxyRefusal(error) ?? networkCode(error)));
      },
    });
  });
}

/** Whether the upstream answers HTTP at all (any status) within `timeoutMs`. */
export async function probe(pool: Dispatcher, path: string, timeoutMs: number): Promise<boolean> {
  try {
    const response = await pool.request({ method: 'GET', path, signal: AbortSignal.timeout(timeoutMs) });
    await response.body.dump();
    return true; // any HTTP answer, whatever its status
  } catch {
    return false;
  }
}
