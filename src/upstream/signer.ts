/**
 * AK/SK request signing, `SDK-HMAC-SHA256`, as Huawei Cloud's SDKs do it (NOTES.md).
 *
 * Written on node:crypto rather than taken from `@huaweicloud/huaweicloud-sdk-core`, whose signer
 * brings about 23 MB of dependencies (moment, lodash, ramda); that package is the test oracle
 * (test/upstream/signer.test.ts signs hundreds of random requests with both).
 *
 * Hazards a reader might "fix" into a lock-out (five bad signatures lock the AK for five minutes):
 * - the canonical URI always ends in `/`, although the request line does not;
 * - query keys and values are RFC 3986-encoded (`encodeRfc3986`), the same encoding the wire
 *   uses, so the server's decode-then-encode gives back exactly what was signed; they are sorted
 *   by the raw key before encoding (`é` sorts after `z` raw, before it encoded);
 * - only the headers listed in SignedHeaders are signed; whatever the HTTP client adds later
 *   (User-Agent, Accept, Accept-Encoding) is not, and must not be listed. Nor are `traceparent`
 *   and `tracestate` (tracing, added to each attempt after signing, client.ts): a retry is a new
 *   span with a new id, and the signature stays what the cloud computes over the listed headers.
 */
import { createHash, createHmac } from 'node:crypto';

import { encodeRfc3986 } from './url';

export const SIGNING_ALGORITHM = 'SDK-HMAC-SHA256';

export interface AkSk {
  ak: string;
  sk: string;
}

export interface SignableRequest {
  method: string;
  /** Path segments, not encoded: `['v3', projectId, 'backups']`. */
  pathSegments: readonly string[];
  /** Query parameters, not encoded, in any order. */
  query: ReadonlyArray<readonly [string, string]>;
  /** Headers to sign, with `host` among them; names in any case. */
  headers: Readonly<Record<string, string>>;
  body?: string;
}

/** `X-Sdk-Date`: basic ISO 8601 in UTC, `YYYYMMDDTHHMMSSZ`. */
export function toSdkDate(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
}

export function canonicalRequest(req: SignableRequest, sdkDate: string): { text: string; signedHeaders: string } {
  const uri = `/${req.pathSegments.map(encodeRfc3986).join('/')}/`.replace(/\/\/$/, '/');
  // Sorted by the raw key, then value (as the SDKs do), and encoded after sorting.
  const query = [...req.query]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${encodeRfc3986(k)}=${encodeRfc3986(v)}`)
    .join('&');
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(req.headers)) headers.set(name.toLowerCase(), value.trim());
  headers.set('x-sdk-date', sdkDate);
  const names = [...headers.keys()].sort();
  const canonicalHeaders = names.map((n) => `${n}:${headers.get(n)}\n`).join('');
  const signedHeaders = names.join(';');
  const bodyHash = createHash('sha256').update(req.body ?? '').digest('hex');
  return { text: [req.method.toUpperCase(), uri, query, canonicalHeaders, signedHeaders, bodyHash].join('\n'), signedHeaders };
}

/** The headers that sign a request: `X-Sdk-Date` and `Authorization`. Add them to the others as they are. */
export function signRequest(req: SignableRequest, key: AkSk, now: Date = new Date()): { 'X-Sdk-Date': string; Authorization: string } {
  const sdkDate = toSdkDate(now);
  const { text, signedHeaders } = canonicalRequest(req, sdkDate);
  const stringToSign = `${SIGNING_ALGORITHM}\n${sdkDate}\n${createHash('sha256').update(text).digest('hex')}`;
  const signature = createHmac('sha256', key.sk).update(stringToSign).digest('hex');
  return { 'X-Sdk-Date': sdkDate, Authorization: `${SIGNING_ALGORITHM} Access=${key.ak}, SignedHeaders=${signedHeaders}, Signature=${signature}` };
}
