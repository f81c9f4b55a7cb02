import { createHash } from 'node:crypto';

import { parseManifest } from '../../../src/graphql/trusted-documents/manifest';
import { configErrorOf } from '../../helpers/config-error';

const FILE = '/etc/gateway/manifest.json';
const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const QUERY = 'query Page($id: ID!) { instance(id: $id) { id } }';
const OTHER = 'query Other { __typename }';

const problemOf = (text: string): string => configErrorOf(() => parseManifest(text, FILE));

describe('parseManifest()', () => {
  it("reads Apollo's persisted query manifest", () => {
    const text = JSON.stringify({
      format: 'apollo-persisted-query-manifest', version: 1,
      operations: [{ id: sha(QUERY), name: 'Page', type: 'query', body: QUERY }, { id: sha(OTHER), name: 'Other', type: 'query', body: OTHER }],
    });
    expect(parseManifest(text, FILE)).toEqual([
      { id: sha(QUERY), name: 'Page', type: 'query', body: QUERY },
      { id: sha(OTHER), name: 'Other', type: 'query', body: OTHER },
    ]);
  });

  it("reads a flat map, keyed by GraphQL Code Generator's sha256:<hex> or by the hex alone (Relay)", () => {
    const text = JSON.stringify({ [`sha256:${sha(QUERY)}`]: QUERY, [sha(OTHER)]: OTHER });
    expect(parseManifest(text, FILE)).toEqual([
      { id: sha(QUERY), name: null, type: null, body: QUERY },
      { id: sha(OTHER), name: null, type: null, body: OTHER },
    ]);
  });

  it('keeps one entry per id when a document is listed twice', () => {
    expect(parseManifest(JSON.stringify({ [`sha256:${sha(QUERY)}`]: QUERY, [sha(QUERY)]: QUERY }), FILE)).toHaveLength(1);
  });

  it.each([
    ['text that is not JSON', '{"a": ', /^TRUSTED_DOCUMENTS "\/etc\/gateway\/manifest.json": not JSON \(/],
    ['JSON that is not an object', '[]', /: not a manifest: neither an apollo-persisted-query-manifest nor a map of ids to documents \(a JSON object\)$/],
    ['another format', JSON.stringify({ format: 'relay', operations: [] }), /: not a manifest: "format" must be "apollo-persisted-query-manifest", got "relay"$/],
    ['operations without a format', JSON.stringify({ operations: [] }), /: "format" must be "apollo-persisted-query-manifest", got undefined$/],
    ['another version', JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 2, operations: [] }), /of version 2: only version 1 is read$/],
    ['no operations array', JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1 }), /must have an array "operations"$/],
    ['an operation without a body', JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: sha(QUERY), name: 'Page' }] }),
      new RegExp(`: entry "${sha(QUERY)}" \\(operation "Page"\\): "body" must be a string \\(the document\\)$`)],
    ['a map value that is not a string', JSON.stringify({ [sha(QUERY)]: { body: QUERY } }), new RegExp(`: entry "${sha(QUERY)}" \\(no operation name\\): not a manifest`)],
    ['an empty list', '{}', /: the manifest lists no documents$/],
    ['an id that is not hex', JSON.stringify({ 'md5:abc': QUERY }), /: entry "md5:abc" \(no operation name\): the id must be the SHA-256 of the body in lowercase hex/],
    ['an id in upper case', JSON.stringify({ [sha(QUERY).toUpperCase()]: QUERY }), /the id must be the SHA-256 of the body in lowercase hex/],
  ])('refuses %s, in one line naming the variable and the file', (_what, text, expected) => {
    const message = problemOf(text);
    expect(message).toMatch(/^TRUSTED_DOCUMENTS "\/etc\/gateway\/manifest.json": /);
    expect(message).toMatch(expected);
    expect(message).not.toContain('\n');
  });

  it('refuses an id that is not the SHA-256 of its body, naming the entry (id and operation) and the hash of the body', () => {
    const wrong = sha(OTHER);
    const text = JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: wrong, name: 'Page', type: 'query', body: QUERY }] });
    expect(problemOf(text)).toBe(`TRUSTED_DOCUMENTS "${FILE}": entry "${wrong}" (operation "Page"): the id is not the SHA-256 of the body (which is ${sha(QUERY)})`);
  });
});
