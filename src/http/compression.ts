/**
 * Compression of answers (DESIGN.md, "Browser frontends"), as a router filter: a whole body over
 * 1 KiB goes out in brotli or gzip when the request's `Accept-Encoding` allows it (q-values
 * honoured; on a tie brotli, the smaller and here the cheaper), with `Vary: Accept-Encoding`.
 * Left as they are: streamed bodies (incremental delivery), server-sent events, and bodies their
 * route encoded itself (GraphiQL's assets are compressed once, at start-up).
 *
 * The settings, measured on the gateway's own answers (Node 20, this 2-core machine, one answer
 * at a time; "8 KB" is a 20-row page, "97 KB"/"220 KB" are `first: 500` against the bench's
 * upstream and the simulator):
 *
 *   brotli quality   8 KB          97 KB          220 KB
 *   2                0.03 ms 24.7%  0.24 ms 20.3%  0.68 ms 18.9%
 *   3 (chosen)       0.03 ms 23.9%  0.33 ms 20.3%  0.89 ms 18.8%
 *   4                0.05 ms 24.1%  0.47 ms 20.3%  1.17 ms 18.7%
 *   5                0.06 ms 23.7%  1.07 ms 20.0%  2.56 ms 18.2%
 *   11 (default)     7.2 ms  21.6%  96 ms   17.0%  239 ms  15.7%
 *   gzip level
 *   1                0.02 ms 26.7%  0.33 ms 22.2%  0.83 ms 20.5%
 *   4 (chosen)       0.03 ms 26.1%  0.45 ms 21.6%  1.16 ms 19.6%
 *   6 (default)      0.03 ms 25.9%  0.64 ms 21.6%  1.52 ms 19.3%
 *
 * Past quality 3 brotli buys a fraction of a point for two to three hundred times the time
 * (11 would cost a 500-row answer a quarter of a second); gzip gains little past level 4. Both
 * are sync: zlib's async API hands each answer to the thread pool in 16 KB chunks, and on two
 * cores that cost more than it spared the event loop (brotli, 32 answers at once: 0.29 ms of
 * wall time per 8 KB answer async against 0.05 ms sync; 1.6 ms against 0.5 ms per 97 KB
 * answer). A 220 KB answer holds the event loop under a millisecond, less than executing it.
 */
import zlib from 'node:zlib';

import Negotiator from 'negotiator';

import type { Reply } from './reply';
import type { Exchange, HttpFilter } from './router';
import { withVary } from './vary';

export type ContentCoding = 'br' | 'gzip';

/** Bodies up to this many bytes go out as they are: the saving would be smaller than a packet. */
export const MIN_COMPRESSED_BYTES = 1024;

export const BROTLI_QUALITY = 3;
export const GZIP_LEVEL = 4;

/** In the server's order of preference, for ties between equal q-values. */
const CODINGS = ['br', 'gzip', 'identity'];

/** negotiator 1.x breaks ties in the server's order (`preferred`); its 0.6 types do not have the option. */
type EncodingInOrder = (this: Negotiator, available: string[], options: { preferred: string[] }) => string | undefined;

/** Whether a Reply's body is one to compress (or not) by `Accept-Encoding`: whole, over the threshold, not encoded yet, not an event stream. */
export function isCompressible(reply: Reply): reply is Reply & { body: string | Buffer } {
  const { body, headers } = reply;
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) return false;
  if (body.length <= MIN_COMPRESSED_BYTES && Buffer.byteLength(body) <= MIN_COMPRESSED_BYTES) return false;
  return headers['content-encoding'] === undefined && !/^\s*text\/event-stream\b/i.test(headers['content-type'] ?? '');
}

/**
 * The coding a Reply goes out in for this request, or undefined: as it is (too small, not
 * compressible, or the request accepts neither coding). HTTP caching asks too: a strong ETag
 * names one representation, so it differs per coding (graphql/http-caching.ts).
 */
export function contentCodingOf(x: Pick<Exchange, 'header'>, reply: Reply): ContentCoding | undefined {
  const accepted = x.header('accept-encoding');
  if (accepted === undefined || !isCompressible(reply)) return undefined;
  const negotiator = new Negotiator({ headers: { 'accept-encoding': accepted } });
  const chosen = (negotiator.encoding as EncodingInOrder).call(negotiator, CODINGS, { preferred: CODINGS });
  return chosen === 'br' || chosen === 'gzip' ? chosen : undefined;
}

function compress(coding: ContentCoding, body: string | Buffer): Buffer {
  const input = typeof body === 'string' ? Buffer.from(body) : body;
  if (coding === 'gzip') return zlib.gzipSync(input, { level: GZIP_LEVEL });
  return zlib.brotliCompressSync(input, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: input.length,
    },
  });
}

/** The filter: list it last in server.ts, so that it encodes the body every other filter has settled. */
export function createCompressionFilter(): HttpFilter {
  return {
    reply(x, reply) {
      if (!isCompressible(reply)) return reply;
      // Whether compressed or not, this answer's bytes depend on Accept-Encoding.
      const headers = withVary(reply.headers, 'Accept-Encoding');
      const coding = contentCodingOf(x, reply);
      if (coding === undefined) return { ...reply, headers };
      return { ...reply, headers: { ...headers, 'content-encoding': coding }, body: compress(coding, reply.body) };
    },
  };
}
