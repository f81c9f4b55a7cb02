/**
 * Issue 16, finding 6: `_entities` on /subgraph with representations the router would never send.
 * Each bad one is BAD_USER_INPUT at its own index, the good ones beside it still resolve, the bad
 * ones reach nothing upstream, and nothing is logged at error level.
 */
import { rawRequest } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

const SECRET = 'router-only-secret-for-bad-representations';

let stack: Stack;
let instance: string;
let backup: string;

beforeAll(async () => {
  stack = await startStack({ env: { SUBGRAPH_SECRET: SECRET } });
  const first = stack.sim.store.list()[0]!;
  instance = first.id;
  backup = first.backups[0]!.id;
});
afterAll(() => stack.close());

const ENTITIES = `query($representations: [_Any!]!) {
  _entities(representations: $representations) { __typename ... on Instance { id } ... on Backup { id name } }
}`;

async function entities(representations: unknown[]) {
  const res = await rawRequest(stack.gateway.url, '/subgraph', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-subgraph-secret': SECRET },
    body: JSON.stringify({ query: ENTITIES, variables: { representations } }),
  });
  return { status: res.status, text: res.text, body: res.json() };
}

const BAD: Array<[string, unknown]> = [
  ['an unknown __typename', { __typename: 'Secret', id: 'x' }],
  ['a missing __typename', { id: 'x' }],
  ['a __typename of __proto__', JSON.parse('{"__typename": "__proto__", "id": "x"}')],
  ['a __typename of a type that is not an entity', { __typename: 'Query' }],
  ['a __typename that is not a string', { __typename: ['Instance'], id: 'x' }],
  ['an Instance without id', { __typename: 'Instance' }],
  ['an Instance with id: [...]', { __typename: 'Instance', id: ['x'] }],
  ['an Instance with a numeric id', { __typename: 'Instance', id: 5 }],
  ['a plain string representation', 'Instance'],
  ['a Backup without instanceId', { __typename: 'Backup', id: 'x' }],
  ['a Backup without id', { __typename: 'Backup', instanceId: 'x' }],
  ['a Backup with instanceId: [...]', { __typename: 'Backup', instanceId: ['x'], id: 'y' }],
];

describe('bad _entities representations', () => {
  beforeEach(() => stack.resetCalls());

  it.each(BAD)('%s: BAD_USER_INPUT at its index, the others resolved, no upstream call for it', async (_name, bad) => {
    const logsBefore = stack.logs.length;
    const good = { __typename: 'Instance', id: instance };
    const { status, text, body } = await entities([good, bad, good]);

    expect(status).toBe(200);
    expect(body.data._entities).toEqual([{ __typename: 'Instance', id: instance }, null, { __typename: 'Instance', id: instance }]);
    expect(body.errors.map((e: any) => [e.path, e.extensions.code])).toEqual([[['_entities', 1], 'BAD_USER_INPUT']]);
    expect(text).not.toMatch(/stacktrace|at Object\.|node_modules/);
    expect((await stack.calls()).count).toBe(0);
    const errors = stack.logs.slice(logsBefore).map((line) => JSON.parse(line)).filter((entry) => entry.level >= 50);
    expect(errors.map((e) => e.msg)).toEqual([]);
  });

  it('a Backup without instanceId beside a good Backup: only the good one is looked up', async () => {
    const { body } = await entities([{ __typename: 'Backup', id: backup }, { __typename: 'Backup', instanceId: instance, id: backup }]);

    expect(body.data._entities).toEqual([null, { __typename: 'Backup', id: backup, name: expect.any(String) }]);
    expect(body.errors.map((e: any) => [e.path, e.extensions.code])).toEqual([[['_entities', 0], 'BAD_USER_INPUT']]);
    const calls = await stack.calls();
    expect(calls.count).toBe(1);
    expect(calls.perInstance).toEqual({ [instance]: 1 });
  });
});
