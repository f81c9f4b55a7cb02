/**
 * Issue 16, finding 1: distinct comment-padded documents (and distinct persisted queries) must
 * not grow the gateway without bound. A document over MAX_DOCUMENT_BYTES is refused before it is
 * parsed; a document under it is cached without its token chain; every cache per distinct
 * operation counts what its entries hold and stays within its budget.
 */
import { createHash } from 'node:crypto';

import { compiledBytes, documentBytes } from '../../src/graphql/document-memory';
import { rawRequest } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

let stack: Stack;
beforeAll(async () => { stack = await startStack({ env: { MAX_DOCUMENT_BYTES: '16384' } }); });
afterAll(() => stack.close());

const commentPadded = (i: number, lines: number): string => `{ __typename } # ${i}\n${'#\n'.repeat(lines)}`;
const post = (body: unknown) => rawRequest(stack.gateway.url, '/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('a comment-padded document', () => {
  it('over MAX_DOCUMENT_BYTES is refused with 400 BAD_REQUEST, and nothing is cached', async () => {
    const { documents, operations, persistedQueries } = stack.gateway.caches;
    const before = [documents.size, operations.size, persistedQueries.size];
    const query = commentPadded(1, 300_000);
    for (const res of [
      await post({ query }),
      await post({ query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } }),
    ]) {
      expect(res.status).toBe(400);
      expect(res.json().errors).toEqual([{ message: 'The GraphQL document is larger than 16384 bytes (MAX_DOCUMENT_BYTES).', extensions: { code: 'BAD_REQUEST' } }]);
    }
    expect([documents.size, operations.size, persistedQueries.size]).toEqual(before);
  });

  it('over MAX_DOCUMENT_BYTES by GET is refused the same way', async () => {
    const res = await rawRequest(stack.gateway.url, `/graphql?${new URLSearchParams({ query: commentPadded(2, 10_000) })}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(res.status).toBe(400);
    expect(res.json().errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('counts bytes, not characters', async () => {
    const res = await post({ query: `{ __typename } # ${'é'.repeat(9000)}` }); // 9,000 characters, 18,000 bytes
    expect(res.status).toBe(400);
  });

  it('under the limit is answered and cached without its token chain', async () => {
    const query = commentPadded(3, 7000);
    expect((await post({ query })).json()).toEqual({ data: { __typename: 'Query' } });
    const cached = stack.gateway.caches.documents.values().find((d) => d.loc!.source.body === query)!;
    expect(cached.loc!.startToken.next).toBeNull();
    expect(documentBytes(cached)).toBeLessThan(3 * query.length);
  });
});

describe('many distinct operations', () => {
  it('are held within each cache\'s byte budget, each counted at least at its estimate', async () => {
    for (let i = 0; i < 300; i++) {
      const query = `query Page${i}($id: ID!) { backups(instanceId: $id, first: 1) { totalCount nodes { id name type status sizeKb } pageInfo { endCursor } } } ${'#'.repeat(1800)}`;
      const res = await post({ query, variables: { id: 'i1' }, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } });
      expect(res.status).toBe(200);
    }
    const { documents, operations, persistedQueries } = stack.gateway.caches;
    for (const cache of [documents, persistedQueries]) {
      expect(cache.size).toBeGreaterThan(0);
      expect(cache.bytes).toBeLessThanOrEqual(cache.maxBytes);
    }
    const heldDocuments = documents.values().reduce((sum, d) => sum + documentBytes(d), 0);
    expect(documents.bytes).toBeGreaterThanOrEqual(heldDocuments);
    expect(persistedQueries.bytes).toBeGreaterThanOrEqual(persistedQueries.values().reduce((sum, text) => sum + text.length, 0));
    // Each compiled operation counts its document and its compiled function besides its text.
    const page = documents.values().find((d) => d.loc!.source.body.startsWith('query Page0('))!;
    expect(operations.bytes / operations.size).toBeGreaterThan(compiledBytes(page));
  });
});
