/**
 * What a parsed document costs once cached: its nodes and text, not the lexer's token chain,
 * with error locations unchanged for graphql-js and graphql-jit alike.
 */
import { GraphQLError, parse, validate, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';

import { createDocumentStore, createPersistedQueryCache } from '../../src/graphql/bounded-caches';
import { compiledBytes, documentBytes, releaseTokenChain, resolvedFieldCount } from '../../src/graphql/document-memory';
import { OperationStore } from '../../src/graphql/operation-store';
import { createSubgraphSchema, toPublicSchema } from '../../src/schema';

const schema = toPublicSchema(createSubgraphSchema());
const commentPadded = (i: number, lines: number): string => `{ __typename } # ${i}\n${'#\n'.repeat(lines)}`;
const tokensOf = (document: DocumentNode): number => {
  let count = 0;
  for (let t = document.loc!.startToken; t; t = t.next!) count += 1;
  return count;
};
const page = (i: number): string => `query Page${i}($id: ID!) { backups(instanceId: $id, first: 5) { totalCount nodes { id name type status } pageInfo { endCursor } } }`;

describe('releaseTokenChain', () => {
  it('lets go of every comment token, keeping the tokens the nodes start and end on', () => {
    const document = parse(commentPadded(0, 1000));
    expect(tokensOf(document)).toBeGreaterThan(1000);
    releaseTokenChain(document);
    expect(document.loc!.startToken.next).toBeNull();
    expect(tokensOf(document)).toBe(1);
  });

  it('keeps the locations graphql-js reports', () => {
    const document = parse('{\n  __typename\n  secret\n}');
    releaseTokenChain(document);
    expect(validate(schema, document).map((e) => e.locations)).toEqual([[{ line: 3, column: 3 }]]);
  });

  it('keeps what graphql-jit compiles from (it reads the start token of each node)', () => {
    const document = parse('query($id: ID!) {\n  instance(id: $id) { id }\n}');
    releaseTokenChain(document);
    const compiled = compileQuery(schema, document);
    expect(isCompiledQuery(compiled)).toBe(true);
    const field = (document.definitions[0] as OperationDefinitionNode).selectionSet.selections[0]!;
    expect(field.loc!.startToken).toMatchObject({ line: 2, column: 3, value: 'instance' });
  });
});

describe('the estimates', () => {
  it('count a document of comments by its text alone, and one of fields by its nodes', () => {
    const comments = parse(commentPadded(0, 30_000));
    expect(documentBytes(comments)).toBeLessThan(3 * comments.loc!.source.body.length);
    expect(documentBytes(parse(page(0)))).toBeGreaterThan(50 * page(0).length);
  });

  it('count a fragment wherever it is spread', () => {
    const once = parse('{ backups(instanceId: "i") { nodes { ...B } } } fragment B on Backup { id name type }');
    const twice = parse('{ backups(instanceId: "i") { nodes { ...B } edges { node { ...B } } } } fragment B on Backup { id name type }');
    expect(resolvedFieldCount(once)).toBe(2 + 3);
    expect(resolvedFieldCount(twice)).toBe(4 + 6);
    expect(compiledBytes(twice)).toBeGreaterThan(compiledBytes(once));
  });
});

describe('the bounded caches', () => {
  it('hold documents up to their byte budget, counting each by its estimate', async () => {
    const store = createDocumentStore(1024 * 1024);
    for (let i = 0; i < 200; i++) await store.set(`h${i}`, parse(page(i)));
    expect(store.bytes).toBeLessThanOrEqual(1024 * 1024);
    expect(store.size).toBeLessThan(200);
    const held = store.values().reduce((sum, document) => sum + documentBytes(document), 0);
    expect(held).toBeLessThanOrEqual(store.bytes);
  });

  it('do not keep a document larger than the whole budget', async () => {
    const store = createDocumentStore(64 * 1024);
    await store.set('big', parse(commentPadded(0, 100_000)));
    expect(await store.get('big')).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('hold persisted-query texts up to their byte budget', async () => {
    const cache = createPersistedQueryCache(100_000);
    for (let i = 0; i < 100; i++) await cache.set(`h${i}`, `${'x'.repeat(2000)}${i}`);
    expect(cache.bytes).toBeLessThanOrEqual(100_000);
    expect(cache.size).toBeLessThanOrEqual(25);
  });
});

describe('OperationStore', () => {
  const compile = (document: DocumentNode) => {
    const compiled = compileQuery(schema, document);
    if (!isCompiledQuery(compiled)) throw new Error('not compiled');
    return compiled;
  };

  it('counts each operation by its document and compiled function, not by its text', () => {
    const store = new OperationStore(1000, 1024 * 1024);
    for (let i = 0; i < 100; i++) {
      const document = parse(page(i));
      store.add(page(i), null, { compiled: compile(document), document, operationName: `Page${i}` });
    }
    const perOperation = documentBytes(parse(page(0))) + compiledBytes(parse(page(0)));
    expect(perOperation).toBeGreaterThan(100 * page(0).length);
    expect(store.bytes).toBeLessThanOrEqual(1024 * 1024);
    expect(store.size).toBe(Math.floor(1024 * 1024 / (perOperation + 2 * `\u0000${page(0)}`.length + 2)));
  });

  it('is capped in count too', () => {
    const store = new OperationStore(10);
    for (let i = 0; i < 50; i++) {
      const document = parse(page(i));
      store.add(page(i), null, { compiled: compile(document), document, operationName: `Page${i}` });
    }
    expect(store.size).toBe(10);
  });
});

it('GraphQLError locations need only the source and the offset', () => {
  const document = parse('{ a }');
  releaseTokenChain(document);
  expect(new GraphQLError('x', { nodes: [document.definitions[0]!] }).locations).toEqual([{ line: 1, column: 1 }]);
});
