/**
 * Reading an answer: a 2xx becomes the checked list-backups DTO (wire.ts), anything else an
 * UpstreamHttpError with its `error_code`, request id and `Retry-After`; nothing relayed from
 * the answer may echo a credential the request carried.
 */
import type { ListBackupsResult } from './client';
import { UpstreamHttpError } from './errors';
import type { RawAnswer } from './exchange';
import { parseErrorBody, parseListBackupsResponse, toRequestId } from './wire';

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

function retryAfterSeconds(header: unknown): number | undefined {
  if (typeof header !== 'string') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/**
 * The result a 2xx answer carries; throws UpstreamHttpError for any other status, and
 * UpstreamBadResponseError for a 2xx body that is not the documented shape.
 * `requestHeaders` are the headers the request was sent with (for its credentials).
 */
export function toListBackupsResult(answer: RawAnswer, requestHeaders: Record<string, string>): ListBackupsResult {
  const header = (name: string): string | undefined => {
    const value = answer.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  const secrets = credentialParts(requestHeaders);
  const requestId = relayable(toRequestId(header('x-request-id')), secrets);
  const { status, text } = answer;
  if (status >= 200 && status < 300) return { body: parseListBackupsResponse(text, requestId), requestId };
  const err = parseErrorBody(text);
  throw new UpstreamHttpError(status, relayable(err.errorCode, secrets), requestId ?? relayable(err.requestId, secrets), retryAfterSeconds(header('retry-after')));
}
