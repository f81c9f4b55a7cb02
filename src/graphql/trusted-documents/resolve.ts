/**
 * Which document a request runs, given the trusted documents: pure, no GraphQL and no HTTP. A
 * request names a listed document by `documentId` (`sha256:<hex>` or the hex alone) or by
 * `extensions.persistedQuery.sha256Hash` (APQ), or carries its text in `query`:
 *
 * | request | listed | unlisted, `allow` | unlisted, `require` |
 * |---|---|---|---|
 * | `documentId` | runs it (`query`, if sent, must be its text) | PERSISTED_QUERY_NOT_FOUND | PERSISTED_QUERY_NOT_IN_LIST |
 * | APQ hash, with or without `query` | runs it (`query`, if sent, must be its text) | Apollo's APQ, as without a list | PERSISTED_QUERY_NOT_IN_LIST |
 * | `query` alone | runs it (the text is listed) | as without a list | PERSISTED_QUERY_NOT_IN_LIST |
 *
 * A text is listed when its SHA-256 is a listed id; the manifest's ids were checked to be their
 * bodies' SHA-256 (manifest.ts), so comparing texts says the same and nothing is hashed here.
 * A request that names no document at all is left to the pipeline, which refuses it as it does
 * without a list (it runs nothing).
 */

/** What a request says about its document: a POST body, a GET's parameters, a subscribe payload. */
export interface DocumentRequest {
  query?: unknown;
  documentId?: unknown;
  /** Parsed (a GET's parameter is JSON text): INVALID_JSON when it did not parse. */
  extensions?: unknown;
}

/** A GET's `extensions` parameter that is not JSON. */
export const INVALID_JSON: unique symbol = Symbol('invalid JSON');

export type RefusalCode = 'PERSISTED_QUERY_NOT_IN_LIST' | 'PERSISTED_QUERY_NOT_FOUND' | 'BAD_REQUEST';

export type Resolution<L> =
  /** Run the listed document (its text instead of whatever the request sent). */
  | { outcome: 'listed'; listed: L }
  /** `allow` mode: not listed, answered as without a list. */
  | { outcome: 'unlisted' }
  /** Names no document: answered as without a list (the pipeline refuses it). */
  | { outcome: 'absent' }
  /** HTTP 400 with this code, before anything runs. */
  | { outcome: 'refused'; code: RefusalCode; message: string };

export interface DocumentLookup<L extends { body: string }> {
  /** By lowercase hex SHA-256. */
  byId(id: string): L | undefined;
  /** By exact text. */
  byBody(text: string): L | undefined;
}

const DOCUMENT_ID = /^(?:sha256:)?([0-9a-f]{64})$/;

export const NOT_IN_LIST_MESSAGE = 'This gateway runs only the operations of its trusted documents (TRUSTED_DOCUMENTS_MODE=require): send a listed document by `documentId` or `extensions.persistedQuery.sha256Hash`.';
const NOT_FOUND_MESSAGE = 'No trusted document has this `documentId`.';
const WRONG_TEXT_MESSAGE = 'The `query` sent is not the text of the trusted document the request names.';
const BAD_DOCUMENT_ID_MESSAGE = '`documentId` must be "sha256:" and 64 lowercase hex digits, or the 64 digits alone.';
const BAD_PERSISTED_QUERY_MESSAGE = '`extensions.persistedQuery` must be {"version": 1, "sha256Hash": "<64 lowercase hex digits>"}.';

const refused = (code: RefusalCode, message: string): { outcome: 'refused'; code: RefusalCode; message: string } => ({ outcome: 'refused', code, message });

/**
 * The APQ hash of a request: undefined when it has no persisted query (Apollo's test: a falsy
 * `extensions.persistedQuery` is none), `false` when it has one Apollo would refuse.
 */
function persistedQueryHash(extensions: unknown): string | false | undefined {
  if (extensions === INVALID_JSON) return false;
  if (typeof extensions !== 'object' || extensions === null) return undefined;
  const persisted = (extensions as { persistedQuery?: unknown }).persistedQuery;
  if (!persisted) return undefined;
  const { version, sha256Hash } = persisted as { version?: unknown; sha256Hash?: unknown };
  return version === 1 && typeof sha256Hash === 'string' ? sha256Hash : false;
}

/** The listed document a request names by id, or the refusal. */
function byDocumentId<L extends { body: string }>(documentId: unknown, query: string | undefined, apq: string | false | undefined, lookup: DocumentLookup<L>, mode: 'allow' | 'require'): Resolution<L> {
  const id = typeof documentId === 'string' ? DOCUMENT_ID.exec(documentId)?.[1] : undefined;
  if (id === undefined) return refused('BAD_REQUEST', BAD_DOCUMENT_ID_MESSAGE);
  const listed = lookup.byId(id);
  if (!listed) return mode === 'require' ? refused('PERSISTED_QUERY_NOT_IN_LIST', NOT_IN_LIST_MESSAGE) : refused('PERSISTED_QUERY_NOT_FOUND', NOT_FOUND_MESSAGE);
  if (apq === false) return refused('BAD_REQUEST', BAD_PERSISTED_QUERY_MESSAGE);
  if ((query !== undefined && query !== listed.body) || (apq !== undefined && apq !== id)) return refused('BAD_REQUEST', WRONG_TEXT_MESSAGE);
  return { outcome: 'listed', listed };
}

/** The document a request runs, given the list and the mode (the table above). */
export function resolveDocument<L extends { body: string }>(request: DocumentRequest, lookup: DocumentLookup<L>, mode: 'allow' | 'require'): Resolution<L> {
  if (request.query !== undefined && request.query !== null && typeof request.query !== 'string') return refused('BAD_REQUEST', '`query` must be a string.');
  // An empty `query` is none: graphql-ws's payload must carry a string, so an id-only subscribe sends ''.
  const query = typeof request.query === 'string' && request.query !== '' ? request.query : undefined;
  const apq = persistedQueryHash(request.extensions);
  if (request.documentId !== undefined && request.documentId !== null) return byDocumentId(request.documentId, query, apq, lookup, mode);
  if (apq === false) return mode === 'require' ? refused('BAD_REQUEST', BAD_PERSISTED_QUERY_MESSAGE) : { outcome: 'unlisted' };
  if (apq !== undefined) {
    const listed = lookup.byId(apq);
    // As Apollo checks a registration: the text sent must be the one the hash names.
    if (listed) return query !== undefined && query !== listed.body ? refused('BAD_REQUEST', 'provided sha does not match query') : { outcome: 'listed', listed };
    return mode === 'require' ? refused('PERSISTED_QUERY_NOT_IN_LIST', NOT_IN_LIST_MESSAGE) : { outcome: 'unlisted' };
  }
  if (query === undefined) return { outcome: 'absent' };
  const listed = lookup.byBody(query);
  if (listed) return { outcome: 'listed', listed };
  return mode === 'require' ? refused('PERSISTED_QUERY_NOT_IN_LIST', NOT_IN_LIST_MESSAGE) : { outcome: 'unlisted' };
}

/**
 * A GET's parameters as a DocumentRequest: `documentId`, `query`, and `extensions` parsed (JSON
 * text, as Apollo reads it). Malformed percent-escapes are Apollo's to answer: URLSearchParams
 * decodes them leniently, as Apollo's own parsing does.
 */
export function documentRequestOfSearch(search: string): DocumentRequest {
  const params = new URLSearchParams(search);
  const request: DocumentRequest = { documentId: params.get('documentId') ?? undefined, query: params.get('query') ?? undefined };
  const extensions = params.get('extensions');
  if (extensions !== null) {
    try {
      request.extensions = JSON.parse(extensions);
    } catch {
      request.extensions = INVALID_JSON;
    }
  }
  return request;
}

/**
 * A GET's parameters with the listed document's text as `query`, and its `operationName` and
 * `variables` as they were (Apollo parses and checks them): what Apollo's pipeline answers when
 * the fast path does not, under its own GET rules (CSRF prevention, no mutations).
 */
export function searchWithDocument(search: string, body: string): string {
  const given = new URLSearchParams(search);
  const params = new URLSearchParams({ query: body });
  for (const name of ['operationName', 'variables']) {
    const value = given.get(name);
    if (value !== null) params.set(name, value);
  }
  return `?${params.toString()}`;
}
