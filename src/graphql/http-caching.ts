/**
 * HTTP caching of GraphQL answers (DESIGN.md, "Browser frontends"), as an answer decorator: a
 * GET query answered without errors gets a strong `ETag`, `Cache-Control: private, max-age=N`
 * from the freshness left of the upstream pages it was made of, and `Vary`; `If-None-Match` with
 * that ETag gets a 304. Every other answer (POST, errors, refusals) gets `no-store`.
 */
import { createHash } from 'node:crypto';

import type { GatewayContext } from '../context';
import { contentCodingOf, isCompressible } from '../http/compression';
import type { Reply } from '../http/reply';
import type { Exchange } from '../http/router';
import { withVary } from '../http/vary';
import type { AnswerDecorator } from './endpoint';

/**
 * The request headers a GET answer depends on: `Accept` (its content type), the credentials
 * (`Authorization`, `X-Auth-Token`: whose rows) and `X-Project-Id`. Not `Accept-Language`: only
 * error messages are in the caller's language, and answers with errors are never stored.
 * `Accept-Encoding` is added to those compression varies on.
 */
export const VARY = ['Accept', 'Authorization', 'X-Auth-Token', 'X-Project-Id'];

type CacheableReply = Reply & { body: string | Buffer };

/**
 * Whether an answer may be kept by the browser: a GET, answered 200 by a pipeline (so after a
 * context was made), whole, without errors. Both pipelines write `errors` first (Apollo's
 * orderExecutionResultFields, the fast path's literal), so the start of the body says it.
 */
function isCacheable(x: Exchange, reply: Reply): reply is CacheableReply {
  if (x.method !== 'GET' || reply.status !== 200) return false;
  const { body } = reply;
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) return false;
  return !(typeof body === 'string' ? body : body.toString('latin1', 0, 16)).startsWith('{"errors"');
}

/**
 * A strong validator of the representation that goes out: a hash of its content type (one body
 * goes out as application/json or application/graphql-response+json, by `Accept`) and body, and
 * the coding compression will send it in (the same answer in brotli is another representation).
 */
function toETag(x: Exchange, reply: CacheableReply): string {
  const coding = contentCodingOf(x, reply);
  const hash = createHash('sha256').update(`${reply.headers['content-type'] ?? ''}\n`).update(reply.body).digest('base64url').slice(0, 22);
  return coding ? `"${hash}-${coding}"` : `"${hash}"`;
}

/** `If-None-Match` (a list of entity tags, or `*`) against one ETag, compared weakly as RFC 9110 says. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

/**
 * `max-age` is the least freshness left of the pages the answer used, in whole seconds rounded
 * down (a browser never keeps an answer longer than the gateway would serve its pages). An
 * answer with no upstream page behind it (`{ __typename }`, introspection) is `no-cache` too:
 * nothing vouches for how long it holds (the schema changes with a deployment), and revalidating
 * costs the browser a 304 and the upstream nothing. `private` throughout: answers are per caller,
 * and a shared cache would not know that `X-Auth-Token` is a credential.
 */
function cacheControlOf(context: GatewayContext): string {
  const { count, freshForMs } = context.upstreamPages;
  const seconds = count === 0 ? 0 : Math.floor(freshForMs / 1000);
  return seconds > 0 ? `private, max-age=${seconds}` : 'private, no-cache';
}

export function createHttpCaching(): AnswerDecorator {
  return (x, context, reply) => {
    if (context === undefined || !isCacheable(x, reply)) return { ...reply, headers: { ...reply.headers, 'cache-control': 'no-store' } };
    const etag = toETag(x, reply);
    // Accept-Encoding as compression will add it to the 200, so that a 304 carries it too.
    const vary = isCompressible(reply) ? [...VARY, 'Accept-Encoding'] : VARY;
    const headers = withVary({ ...reply.headers, etag, 'cache-control': cacheControlOf(context) }, ...vary);
    if (!matches(x.header('if-none-match'), etag)) return { ...reply, headers };
    // What the 200 would have carried, minus the body and what describes it (RFC 9110, 15.4.5).
    const { 'content-type': _type, 'content-length': _length, ...validators } = headers;
    return { status: 304, headers: validators };
  };
}
