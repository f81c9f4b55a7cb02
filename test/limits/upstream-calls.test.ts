/** The upstream-call estimate: a schema, a document and variables give a number (no server). */
import { getOperationAST, parse } from 'graphql';

import { costKey, UpstreamCallLimit, upstreamCallsOf } from '../../src/limits/upstream-calls';
import { createSubgraphSchema, toPublicSchema } from '../../src/schema';

const subgraph = createSubgraphSchema();
const schema = toPublicSchema(subgraph);
const calls = (query: string, variables?: Record<string, unknown>, on = schema) => upstreamCallsOf(on, parse(query), variables);
const I = 'aec672cf5aee9078c91de1d099c4d0d3in01';

describe('upstreamCallsOf(): connections', () => {
  it('prices a first page from the top at ceil(n/100)', () => {
    expect(calls(`{ backups(instanceId: "${I}") { totalCount } }`)).toBe(1);
    expect(calls(`{ backups(instanceId: "${I}", first: 250) { totalCount } }`)).toBe(3);
  });

  it('adds the head call of `last` without `before`, and the unaligned page', () => {
    // head + rows [total-100, total) over two aligned chunks
    expect(calls(`{ backups(instanceId: "${I}", last: 100) { totalCount } }`)).toBe(3);
  });

  it('adds the cursor row and two relocation calls for `after`', () => {
    // rows [a, a+21) over up to two chunks; relocation: one call each side
    expect(calls(`query($c: String) { backups(instanceId: "${I}", first: 20, after: $c) { totalCount } }`, { c: 'x' })).toBe(2 + 2);
    expect(calls(`query($c: String) { backups(instanceId: "${I}", first: 20, after: $c) { totalCount } }`, {})).toBe(1);
  });

  it('reads a cursor that is not beside the page on its own', () => {
    // `first` with `before`: page from 0 (1 call), the before row (1), relocation (2)
    expect(calls(`{ backups(instanceId: "${I}", first: 10, before: "x") { totalCount } }`)).toBe(1 + 1 + 2);
    // both cursors: page + after row (2 chunks), before row (1), relocation of each (4)
    expect(calls(`{ backups(instanceId: "${I}", first: 10, after: "x", before: "y") { totalCount } }`)).toBe(2 + 1 + 4);
    // `last` with `after`: head, page (2 chunks), after row (1), relocation (2)
    expect(calls(`{ backups(instanceId: "${I}", last: 10, after: "x") { totalCount } }`)).toBe(1 + 2 + 1 + 2);
  });

  it('multiplies a nested connection by the rows of the outer one', () => {
    expect(calls(`{ backups(instanceId: "${I}", first: 3) { nodes { instance { backups(first: 1) { totalCount } } } } }`)).toBe(1 + 3 * 1);
  });
});

describe('upstreamCallsOf(): lookups and entities', () => {
  it('prices a lookup at one call, under aliases and instances(ids) each', () => {
    expect(calls(`{ a: backup(instanceId: "${I}", id: "x") { id } b: backup(instanceId: "${I}", id: "y") { id } }`)).toBe(2);
    expect(calls(`query($ids: [ID!]!) { instances(ids: $ids) { backup(id: "x") { id } } }`, { ids: ['a', 'b', 'c'] })).toBe(3);
  });

  it('prices _entities per representation: a Backup is a lookup, an Instance its selection', () => {
    const query = `query($r: [_Any!]!) { _entities(representations: $r) {
      ... on Instance { backups(first: 1) { totalCount } }
      ... on Backup { id } } }`;
    const representations = [
      ...Array.from({ length: 100 }, (_, k) => ({ __typename: 'Instance', id: `i${k}` })),
      ...Array.from({ length: 200 }, (_, k) => ({ __typename: 'Backup', instanceId: I, id: `b${k}` })),
    ];
    // each representation is priced at the larger selection (1), plus 1 for each Backup
    expect(calls(query, { r: representations }, subgraph)).toBe(100 * 1 + 200 * (1 + 1));
    expect(calls(query, { r: [{ __typename: 'Instance', id: 'a' }] }, subgraph)).toBe(1);
  });
});

describe('UpstreamCallLimit.check()', () => {
  const document = (query: string) => parse(query);

  it('refuses 100 Instance and 200 Backup representations at a limit of 20', () => {
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Backup { id } } }`;
    const r = Array.from({ length: 200 }, (_, k) => ({ __typename: 'Backup', instanceId: I, id: `b${k}` }));
    const refusal = new UpstreamCallLimit(20).check(subgraph, document(query), 'k', undefined, { r });
    expect(refusal?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', upstreamCalls: 200, maxUpstreamCalls: 20 });
  });

  it('fails closed: an estimate that throws refuses the operation with a code', () => {
    // 10,000 fields: graphql-query-complexity stops its walk with an error
    const query = `{ ${Array.from({ length: 10_000 }, (_, k) => `f${k}: __typename`).join(' ')} }`;
    const refusal = new UpstreamCallLimit(20).check(schema, document(query), 'k', undefined, undefined);
    expect(refusal?.message).toMatch(/could not be estimated/);
    expect(refusal?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } });
  });

  it('leaves variables that do not coerce to execution', () => {
    const query = 'query($n: Int) { backups(instanceId: "x", first: $n) { totalCount } }';
    expect(new UpstreamCallLimit(20).check(schema, document(query), 'k', undefined, { n: 'ten' })).toBeUndefined();
  });

  it('does not reuse a cost across variables that change it', () => {
    const limit = new UpstreamCallLimit(3);
    const query = document('query($n: Int, $c: String) { backups(instanceId: "x", first: $n, after: $c) { totalCount } }');
    expect(limit.check(schema, query, 'k', undefined, { n: 250 })).toBeUndefined();
    expect(limit.check(schema, query, 'k', undefined, { n: 250, c: 'cursor' })?.extensions.upstreamCalls).toBe(4 + 2); // 251 rows from anywhere: 4 chunks
    expect(limit.check(schema, query, 'k', undefined, { n: 350 })?.extensions.upstreamCalls).toBe(4);
  });
});

describe('costKey()', () => {
  const operation = getOperationAST(parse('query($f: BackupFilter, $ids: [ID!], $c: String, $n: Int) { __typename }'))!;

  it('stays short whatever the size of the variables', () => {
    const huge = { f: { backupId: 'x'.repeat(400_000) }, ids: Array.from({ length: 10_000 }, () => 'y'.repeat(40)), c: 'z'.repeat(100_000), n: 5, undeclared: { a: 'b'.repeat(400_000) } };
    expect(costKey(operation, 'hash', undefined, huge)!.length).toBeLessThanOrEqual(256);
    expect(costKey(operation, 'hash', 'N'.repeat(100_000), huge)!.length).toBeLessThanOrEqual(256);
  });

  it('does not walk a deep variable', () => {
    let deep: unknown = {};
    for (let k = 0; k < 100_000; k++) deep = { a: deep };
    let deepList: unknown = [];
    for (let k = 0; k < 100_000; k++) deepList = [deepList];
    expect(() => costKey(operation, 'hash', undefined, { f: deep, ids: ['a'], undeclared: deep })).not.toThrow();
    expect(costKey(operation, 'hash', undefined, { ids: deepList })).toBeUndefined();
  });

  it('tells apart what changes the cost, and only that', () => {
    const key = (v: Record<string, unknown>) => costKey(operation, 'hash', undefined, v);
    expect(key({ ids: ['a', 'b'], c: 'one', f: { type: 'MANUAL' } })).toBe(key({ ids: ['c', 'd'], c: 'two', f: { type: 'AUTO' } }));
    expect(key({ c: 'one' })).not.toBe(key({}));
    expect(key({ c: null })).not.toBe(key({}));
    expect(key({ n: 1 })).not.toBe(key({ n: 2 }));
    expect(key({ ids: ['a'] })).not.toBe(key({ ids: ['a', 'b'] }));
  });
});
