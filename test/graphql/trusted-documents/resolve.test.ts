import { createHash } from 'node:crypto';

import {
  documentRequestOfSearch, INVALID_JSON, resolveDocument, searchWithDocument, type DocumentRequest,
} from '../../../src/graphql/trusted-documents/resolve';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const LISTED = { body: 'query Listed { __typename }' };
const ID = sha(LISTED.body);
const UNLISTED = '{ instances(ids: ["a"]) { id } }';
const lookup = {
  byId: (id: string) => (id === ID ? LISTED : undefined),
  byBody: (text: string) => (text === LISTED.body ? LISTED : undefined),
};
const apq = (hash: unknown, version: unknown = 1) => ({ persistedQuery: { version, sha256Hash: hash } });

const listed = { outcome: 'listed', listed: LISTED };
const notInList = { outcome: 'refused', code: 'PERSISTED_QUERY_NOT_IN_LIST', message: expect.stringContaining('TRUSTED_DOCUMENTS_MODE=require') };
const badRequest = { outcome: 'refused', code: 'BAD_REQUEST', message: expect.any(String) };
const unlisted = { outcome: 'unlisted' };

describe('resolveDocument()', () => {
  it.each<[string, DocumentRequest, 'allow' | 'require', unknown]>([
    ['documentId sha256:<hex>, listed', { documentId: `sha256:${ID}` }, 'require', listed],
    ['documentId <hex>, listed', { documentId: ID }, 'allow', listed],
    ["documentId with the listed text as query (graphql-ws's '' counts as none)", { documentId: ID, query: '' }, 'require', listed],
    ['documentId with its own text', { documentId: ID, query: LISTED.body }, 'require', listed],
    ['documentId with another text', { documentId: ID, query: UNLISTED }, 'allow', badRequest],
    ['documentId with an APQ hash of another document', { documentId: ID, extensions: apq(sha(UNLISTED)) }, 'allow', badRequest],
    ['documentId with extensions that are not JSON (GET)', { documentId: ID, extensions: INVALID_JSON }, 'allow', { outcome: 'refused', code: 'BAD_REQUEST', message: expect.stringMatching(/^`extensions.persistedQuery` must be/) }],
    ['documentId unlisted, require', { documentId: sha(UNLISTED) }, 'require', notInList],
    ['documentId unlisted, allow', { documentId: sha(UNLISTED) }, 'allow', { outcome: 'refused', code: 'PERSISTED_QUERY_NOT_FOUND', message: expect.any(String) }],
    ['documentId that is not a hash', { documentId: 'Listed' }, 'allow', badRequest],
    ['documentId in upper case', { documentId: ID.toUpperCase() }, 'require', badRequest],
    ['APQ hash listed, no query (no registration needed)', { extensions: apq(ID) }, 'require', listed],
    ['APQ hash listed, with its text', { extensions: apq(ID), query: LISTED.body }, 'require', listed],
    ['APQ hash listed, with another text', { extensions: apq(ID), query: UNLISTED }, 'require', { outcome: 'refused', code: 'BAD_REQUEST', message: 'provided sha does not match query' }],
    ['APQ hash unlisted, require', { extensions: apq(sha(UNLISTED)) }, 'require', notInList],
    ['APQ registration of an unlisted document, require', { extensions: apq(sha(UNLISTED)), query: UNLISTED }, 'require', notInList],
    ['APQ hash unlisted, allow: Apollo\'s APQ', { extensions: apq(sha(UNLISTED)) }, 'allow', unlisted],
    ['APQ of version 2, require', { extensions: apq(ID, 2), query: UNLISTED }, 'require', badRequest],
    ['APQ of version 2, allow: Apollo answers', { extensions: apq(ID, 2) }, 'allow', unlisted],
    ['extensions that are not JSON (GET), require', { extensions: INVALID_JSON, query: UNLISTED }, 'require', badRequest],
    ['a falsy persistedQuery is none, as Apollo reads it', { extensions: { persistedQuery: null }, query: UNLISTED }, 'require', notInList],
    ['free-form listed text', { query: LISTED.body }, 'require', listed],
    ['free-form unlisted text, require', { query: UNLISTED }, 'require', notInList],
    ['free-form unlisted text, allow', { query: UNLISTED }, 'allow', unlisted],
    ['no document at all: the pipeline refuses it', {}, 'require', { outcome: 'absent' }],
    ['a query that is not a string', { query: 7 }, 'require', badRequest],
    ['a query that is not a string, beside a listed documentId', { documentId: ID, query: {} }, 'allow', badRequest],
  ])('%s', (_what, request, mode, expected) => {
    expect(resolveDocument(request, lookup, mode)).toEqual(expected);
  });
});

describe('documentRequestOfSearch()', () => {
  it('reads documentId, query and extensions (parsed) from GET parameters', () => {
    const search = `?documentId=sha256%3A${ID}&query=%7B%20a%20%7D&extensions=${encodeURIComponent(JSON.stringify(apq(ID)))}&variables=%7B%7D`;
    expect(documentRequestOfSearch(search)).toEqual({ documentId: `sha256:${ID}`, query: '{ a }', extensions: apq(ID) });
  });

  it('marks extensions that are not JSON', () => {
    expect(documentRequestOfSearch('?extensions=%7Bnope').extensions).toBe(INVALID_JSON);
    expect(documentRequestOfSearch('')).toEqual({ documentId: undefined, query: undefined });
  });
});

describe('searchWithDocument()', () => {
  it("puts the listed text as query and keeps operationName and variables as sent, nothing else", () => {
    const search = searchWithDocument(`?documentId=${ID}&operationName=Listed&variables=%7B%22a%22%3A1%7D&extensions=%7B%7D`, LISTED.body);
    const params = new URLSearchParams(search);
    expect([...params.keys()]).toEqual(['query', 'operationName', 'variables']);
    expect(params.get('query')).toBe(LISTED.body);
    expect(params.get('variables')).toBe('{"a":1}');
  });
});
