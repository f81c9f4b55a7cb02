/**
 * The edge: turns any error into the formatted GraphQL error a client sees. This is the one
 * place where error classes meet public codes. It should not throw.
 */
import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';

import {
  CredentialsPausedError, UpstreamBadResponseError, UpstreamHttpError, UpstreamNetworkError, UpstreamTimeoutError,
} from '../upstream/errors';
import { ErrorCode } from './codes';
import {
  BudgetExhaustedError, CursorStaleError, InvalidInputError, LiveUnavailableError, MalformedCredentialsError, MissingCredentialsError,
} from './domain';

interface Mapped {
  code: ErrorCode;
  message: string;
  extensions?: Record<string, unknown>;
}

/** Codes Apollo Server and graphql-js produce themselves, passed through as they are. */
const FRAMEWORK_CODES = new Set([
  'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE',
  // The trusted documents' refusal (graphql/trusted-documents/), Apollo Router's code for it.
  'PERSISTED_QUERY_NOT_IN_LIST',
]);

/**
 * The public codes a GraphQLError of the gateway's own may carry as it is (a LiveSource ends a
 * watch with one, live/source.ts): anything but INTERNAL_SERVER_ERROR, whose message is masked.
 */
const OWN_CODES = new Set<string>(Object.values(ErrorCode).filter((code) => code !== ErrorCode.INTERNAL_SERVER_ERROR));

/** Upstream status → public code and the message shown (never the upstream's own text or body). */
function fromUpstreamStatus(e: UpstreamHttpError): Mapped {
  const upstream = { status: e.status, errorCode: e.errorCode ?? null, requestId: e.requestId ?? null };
  const m = (code: ErrorCode, message: string, extra: Record<string, unknown> = {}): Mapped => ({ code, message, extensions: { upstream, ...extra } });
  if (e.status === 401) return m(ErrorCode.UNAUTHENTICATED, 'The upstream refused the credentials.');
  if (e.status === 403) return m(ErrorCode.FORBIDDEN, 'The upstream does not allow this request for these credentials.');
  // APIG(W).0101 is "this API does not exist": a wrong endpoint, not a missing instance.
  if (e.status === 404 && /^APIGW?\.0101$/.test(e.errorCode ?? '')) return m(ErrorCode.UPSTREAM_UNAVAILABLE, 'The upstream endpoint does not serve this API.');
  if (e.status === 404) return m(ErrorCode.NOT_FOUND, 'The instance does not exist.');
  if (e.status === 429) return m(ErrorCode.RATE_LIMITED, 'The upstream is throttling calls; retry later.', { retryAfterSeconds: e.retryAfterSeconds ?? 5 });
  if (e.status === 400) return m(ErrorCode.BAD_USER_INPUT, 'The upstream refused a parameter of this request.');
  if (e.status >= 500 || e.status === 409) return m(ErrorCode.UPSTREAM_UNAVAILABLE, 'The upstream is unavailable; retry later.');
  return m(ErrorCode.UPSTREAM_BAD_RESPONSE, `The upstream answered with an unexpected status ${e.status}.`);
}

/** Maps a known error to its public code; undefined for anything unknown (masked by the caller). */
export function toPublicError(error: unknown): Mapped | undefined {
  if (error instanceof InvalidInputError) return { code: ErrorCode.BAD_USER_INPUT, message: error.message };
  if (error instanceof CursorStaleError) return { code: ErrorCode.CURSOR_STALE, message: error.message };
  if (error instanceof MissingCredentialsError) return { code: ErrorCode.UNAUTHENTICATED, message: error.message };
  if (error instanceof MalformedCredentialsError) return { code: ErrorCode.UNAUTHENTICATED, message: error.message };
  if (error instanceof LiveUnavailableError) return { code: ErrorCode.INTERNAL_SERVER_ERROR, message: error.message };
  if (error instanceof BudgetExhaustedError) return { code: ErrorCode.RATE_LIMITED, message: error.message, extensions: { retryAfterSeconds: error.retryAfterSeconds } };
  if (error instanceof UpstreamHttpError) return fromUpstreamStatus(error);
  if (error instanceof CredentialsPausedError) {
    return { code: ErrorCode.UNAUTHENTICATED, message: 'The upstream refused the service credentials repeatedly; they are paused to avoid locking them.', extensions: { retryAfterSeconds: error.retryAfterSeconds } };
  }
  if (error instanceof UpstreamTimeoutError) return { code: ErrorCode.UPSTREAM_UNAVAILABLE, message: 'The upstream did not answer in time; retry later.' };
  if (error instanceof UpstreamNetworkError) return { code: ErrorCode.UPSTREAM_UNAVAILABLE, message: 'The upstream could not be reached; retry later.' };
  if (error instanceof UpstreamBadResponseError) {
    return { code: ErrorCode.UPSTREAM_BAD_RESPONSE, message: `The upstream answered in an unexpected shape (${error.reason}).`,
      extensions: { upstream: { status: 200, errorCode: null, requestId: error.requestId ?? null } } };
  }
  return undefined;
}

/**
 * An error Apollo Server raises about the request itself with a 4xx status but no code, which it
 * would then call INTERNAL_SERVER_ERROR: a persisted query of an unsupported `version` (or not an
 * object at all), or whose `sha256Hash` does not match its text. Its message is Apollo's own.
 */
function isUncodedClientError(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.originalError || error.extensions.code !== undefined) return false;
  const status = (error.extensions.http as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

export interface FormatErrorOptions {
  /** Receives every error that gets masked, with the original, for the log. */
  onMasked?: (error: unknown) => void;
  /**
   * Drop graphql-js's "Did you mean ...?" from every message: with introspection off they would
   * tell the schema's names to anyone who guesses near them. @default false
   */
  hideSuggestions?: boolean;
}

/**
 * graphql-js ends a message with its suggestions (`... Did you mean the enum value "AUTO"?`, `Did
 * you mean "type" or "status"?`); graphql-armor's blockFieldSuggestion leaves `[Suggestion
 * hidden]?` in their place. Apollo's hideSchemaDetailsFromClientErrors strips them from
 * validation errors only, not from the coercion of variables at execution, hence this, for
 * every message whatever wrote it.
 */
const SUGGESTION = /\s*(?:Did you mean\b.*|\[Suggestion hidden\])\?$/s;

/** A message without the schema names graphql-js suggests at its end. */
export function withoutSuggestions(message: string): string {
  return message.replace(SUGGESTION, '');
}

/** Apollo's `formatError`: known errors get their code; unknown ones become INTERNAL_SERVER_ERROR. Never a stack trace. */
export function createFormatError({ onMasked, hideSuggestions = false }: FormatErrorOptions = {}) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    // Apollo unwraps resolver errors that carry a path; graphql-jit's located errors may not, so
    // any GraphQLError wrapping an original is unwrapped here too.
    let original = unwrapResolverError(error);
    if (original instanceof GraphQLError && original.originalError) original = original.originalError;
    const message = hideSuggestions ? withoutSuggestions(formatted.message) : formatted.message;
    const base = { message, ...(formatted.locations ? { locations: formatted.locations } : {}), ...(formatted.path ? { path: formatted.path } : {}) };
    const mapped = toPublicError(original);
    if (mapped) return { ...base, message: mapped.message, extensions: { code: mapped.code, ...mapped.extensions } };
    const code = formatted.extensions?.code;
    if (original instanceof GraphQLError && typeof code === 'string' && (FRAMEWORK_CODES.has(code) || OWN_CODES.has(code))) {
      const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
      return { ...base, extensions };
    }
    if (isUncodedClientError(original)) return { ...base, extensions: { code: 'BAD_REQUEST' } };
    try { onMasked?.(original); } catch { /* logging must not break the response */ }
    return { ...base, message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  };
}
