/**
 * Whether an `Accept` header lets the gateway answer with JSON, decided as Apollo Server decides
 * it. Apollo negotiates the response type only after it has executed the operation (its
 * `chooseContentTypeForSingleResultResponse`), so a request it refuses with 406 has already made
 * its upstream calls and been logged as `ok`; the gateway asks this first and refuses up front.
 * It asks the same library with the same types as Apollo (which does not export its function),
 * so the two cannot disagree.
 */
import Negotiator from 'negotiator';

/** The types Apollo answers a single result with (its MEDIA_TYPES), in its order. */
const JSON_TYPES = [
  'application/json; charset=utf-8',
  'application/graphql-response+json; charset=utf-8',
  'application/json; callbackSpec=1.0; charset=utf-8',
];

/** Whether an answer in JSON (any of the types Apollo sends a single result as) is acceptable. */
export function acceptsJson(accept: string | undefined): boolean {
  // What nearly every client sends, answered without parsing the header.
  if (accept === undefined || accept === '' || accept === '*/*' || accept === 'application/json') return true;
  return new Negotiator({ headers: { accept } }).mediaType(JSON_TYPES) !== undefined;
}
