import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { ConfigError, loadConfig } from '../../../src/config';
import { createOperationConcerns } from '../../../src/graphql/operation';
import { createTrustedDocuments, loadTrustedDocuments, MAX_TRUSTED_DOCUMENTS, type TrustedDocumentsDeps } from '../../../src/graphql/trusted-documents/list';
import type { ManifestEntry } from '../../../src/graphql/trusted-documents/manifest';
import { createLogger } from '../../../src/logger';
import { createMetrics } from '../../../src/observability/metrics';
import { createSubgraphSchema, toPublicSchema } from '../../../src/schema';
import { configErrorOf } from '../../helpers/config-error';

const FILE = 'manifest.json';
const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const entry = (body: string, name: string | null = null, type: string | null = null): ManifestEntry => ({ id: sha(body), name, type, body });

const config = loadConfig({ MAX_DEPTH: '4' });
const outcomes: string[] = [];
const deps: TrustedDocumentsDeps = {
  schema: toPublicSchema(createSubgraphSchema()),
  validate: createOperationConcerns({ config, logger: createLogger('silent'), metrics: createMetrics() }).validate,
  limits: config.limits,
  onResolved: (outcome) => outcomes.push(outcome),
};

const PAGE = 'query Page($id: ID!) { instance(id: $id) { id } } query Other { __typename }';
const WATCH = 'subscription Watch($id: ID!) { backupChanges(instanceId: $id) { kind } }';

const problemOf = (entries: ManifestEntry[]): string => configErrorOf(() => createTrustedDocuments(entries, 'require', FILE, deps));

describe('createTrustedDocuments()', () => {
  it('compiles each operation of each document, found by the operation a request names (or the only one)', () => {
    const trusted = createTrustedDocuments([entry(PAGE), entry(WATCH, 'Watch', 'subscription')], 'allow', FILE, deps);
    expect(trusted.size).toBe(2);
    const resolved = trusted.resolve({ documentId: sha(PAGE) });
    if (resolved.outcome !== 'listed') throw new Error(`not listed: ${resolved.outcome}`);
    expect(resolved.listed.operation('Page')).toMatchObject({ operationName: 'Page', compiled: { query: expect.any(Function) } });
    expect(resolved.listed.operation('Other')?.operationName).toBe('Other');
    expect(resolved.listed.operation(undefined)).toBeUndefined(); // two operations, none named: Apollo answers
    expect(resolved.listed.operation('Nope')).toBeUndefined();
    const watch = trusted.resolve({ query: WATCH });
    expect(watch.outcome === 'listed' && watch.listed.operation(null)?.operationName).toBe('Watch');
    // Ids differ from each other: the upstream-call limit caches costs by them.
    const ids = [resolved.listed.operation('Page')!.id, resolved.listed.operation('Other')!.id, watch.outcome === 'listed' && watch.listed.operation(null)!.id];
    expect(new Set(ids).size).toBe(3);
  });

  it('counts each resolution by outcome; a request that names no document is not counted', () => {
    const trusted = createTrustedDocuments([entry(PAGE)], 'allow', FILE, deps);
    outcomes.length = 0;
    trusted.resolve({ query: PAGE });
    trusted.resolve({ query: '{ __typename }' });
    trusted.resolve({ documentId: sha('{ __typename }') });
    trusted.resolve({});
    expect(outcomes).toEqual(['listed', 'unlisted', 'refused']);
  });

  it.each([
    ['a document that does not parse', entry('query Broken {', 'Broken'), /: entry "[0-9a-f]{64}" \(operation "Broken"\): the document does not parse: Syntax Error: /],
    ['a field the schema does not have', entry('query Nope { nope }', 'Nope'), /\(operation "Nope"\): the document does not validate against the schema: Cannot query field "nope" on type "Query"\./],
    ['an operation over MAX_DEPTH', entry('query Deep($id: ID!) { instance(id: $id) { backups { edges { node { datastore { type } } } } } }', 'Deep'),
      /\(operation "Deep"\): the document does not validate against the schema: .*depth/i],
    ['a mutation (there are none)', entry('mutation M { __typename }'), /\(no operation name\): the document does not validate against the schema: /],
    ['fragments only', entry('fragment F on Query { __typename }'), /the document does not validate against the schema: Fragment "F" is never used\.$/],
    ["a name the document's operations do not have", entry('query Page { __typename }', 'Other'), /\(operation "Other"\): the document has no operation named "Other"$/],
    ['a type other than the operation\'s', entry('query Page { __typename }', 'Page', 'subscription'), /the operation is a query, not a "subscription" as the manifest says$/],
    ['a type other than its one operation\'s, with no name', entry('{ __typename }', null, 'subscription'), /\(no operation name\): the operation is a query, not a "subscription" as the manifest says$/],
    ['a document over MAX_DOCUMENT_BYTES', entry(`query Big { __typename } ${'#'.repeat(70_000)}`, 'Big'), /the document is larger than MAX_DOCUMENT_BYTES \(65536\)$/],
  ])('stops start-up on %s, in one line naming the file and the entry', (_what, bad, expected) => {
    const message = problemOf([entry(PAGE), bad]);
    expect(message).toMatch(/^TRUSTED_DOCUMENTS "manifest.json": entry /);
    expect(message).toMatch(expected);
    expect(message).not.toContain('\n');
  });
});

describe('createTrustedDocuments() with introspection off (GRAPHIQL off, as in production)', () => {
  const withoutIntrospection: TrustedDocumentsDeps = {
    ...deps, validate: createOperationConcerns({ config: loadConfig({ MAX_DEPTH: '4', GRAPHIQL: 'false' }), logger: createLogger('silent'), metrics: createMetrics() }).validate,
  };
  it('stops start-up on a manifest of more than MAX_TRUSTED_DOCUMENTS documents, before checking any', () => {
    const many = Array.from({ length: MAX_TRUSTED_DOCUMENTS + 1 }, (_, i) => entry(`query Q${i} { __typename }`));
    expect(configErrorOf(() => createTrustedDocuments(many, 'require', FILE, deps))).toBe(`TRUSTED_DOCUMENTS "manifest.json": lists ${MAX_TRUSTED_DOCUMENTS + 1} documents, more than the ${MAX_TRUSTED_DOCUMENTS} a gateway takes (split the list: one gateway per frontend)`);
  });

  it('stops start-up on a listed introspection document, as Apollo would refuse it on every request', () => {
    const message = configErrorOf(() => createTrustedDocuments([entry('{ __schema { types { name } } }')], 'require', FILE, withoutIntrospection));
    expect(message).toMatch(/^TRUSTED_DOCUMENTS "manifest.json": entry "[0-9a-f]{64}" \(no operation name\): the document does not validate against the schema: GraphQL introspection/);
    expect(createTrustedDocuments([entry('{ __typename }')], 'require', FILE, withoutIntrospection).size).toBe(1);
  });
});

describe('loadTrustedDocuments()', () => {
  it('reads the file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trusted-'));
    const file = path.join(dir, 'persisted-documents.json');
    writeFileSync(file, JSON.stringify({ [`sha256:${sha(PAGE)}`]: PAGE }));
    expect(loadTrustedDocuments({ file, mode: 'require' }, deps).size).toBe(1);
  });

  it('stops start-up on a file it cannot read, naming it', () => {
    expect(() => loadTrustedDocuments({ file: '/nonexistent/manifest.json', mode: 'allow' }, deps))
      .toThrow(new ConfigError('TRUSTED_DOCUMENTS "/nonexistent/manifest.json": cannot be read (ENOENT)'));
  });
});
