/**
 * Compression of answers (DESIGN.md, "Browser frontends"), as a router filter: a whole body over
 * 1 KiB goes out in brotli or gzip when the request's `Accept-Encoding` allows it (q-values
 * honoured; on a tie brotli: smaller, and no slower past a few KB), with `Vary: Accept-Encoding`.
 * Left as they are: streamed bodies (incremental delivery), server-sent events, and bodies their
 * route encoded itself (GraphiQL's assets are compressed once, at start-up).
 *
 * The settings, measured on the gateway's own answers (Node 20, this 2-core machine, one answer
 * at a time, sync; "8 KB" is a 20-row page and "97 KB" a 500-row one of the bench's query and
 * upstream, "220 KB" 500 rows of every field from the simulator), time and size left:
 *
 *   brotli quality   8 KB            97 KB           220 KB
 *   1                0.019 ms 27.0%  0.16 ms 21.9%   0.33 ms 20.0%
 *   2                0.027 ms 24.7%  0.24 ms 20.3%   0.69 ms 18.9%
 *   3 (chosen)       0.033 ms 23.9%  0.31 ms 20.3%   0.89 ms 18.8%
 *   4                0.052 ms 24.1%  0.47 ms 20.3%   1.19 ms 18.7%
 *   5                0.060 ms 23.7%  1.07 ms 20.0%   2.65 ms 18.2%
 *   11 (zlib's)      6.6 ms   21.6%  94 ms   17.0%   243 ms  15.7%
 *   gzip level
 *   1                0.021 ms 26.7%  0.31 ms 22.2%   0.84 ms 20.5%
 *   4 (chosen)       0.028 ms 26.1%  0.44 ms 21.6%   1.15 ms 19.6%
 *   6 (zlib's)       0.029 ms 25.9%  0.62 ms 21.6%   1.50 ms 19.3%
 *
 * Past quality 3, brotli's 4 and 5 save at most half a point more for 1.5 to 3 times the time,
 * and 11 three points for 200 to 300 times (it would hold the event loop a quarter of a second
 * for a 220 KB answer); gzip saves little past level 4. Sync, not zlib's async API, which hands each answer to the thread pool in 16 KB
 * chunks: through the whole gateway at latency 0 (32 connections, cache off, brotli 3), sync
 * served 2,862 req/s of 8 KB pages against 2,340 async, and 293 req/s of 97 KB pages against
 * 220 (3,547 and 405 uncompressed). On two cores shared with the upstream and the load, the
 * hand-offs cost more than they spare the event loop, which a 220 KB answer holds under 1 ms.
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
