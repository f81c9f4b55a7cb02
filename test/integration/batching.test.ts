/** DataLoader batching and per-request deduplication, counted at the simulator. */
import { BACKUP_FIELDS, startStack, type Stack } from '../helpers/stack';

let stack: Stack;
let big: string; // 1,234 backups: ceil(total/100) = 13
let small: string; // 45 backups: one chunk
let other: string;

beforeAll(async () => {
  // Lookups are counted as one call each by the operation limit: raise it to test the batching itself.
  stack = await startStack({ env: { MAX_UPSTREAM_CALLS_PER_OPERATION: '100', MAX_ALIASES: '100' } });
  const instances = stack.sim.store.list();
  big = instances.find((i) => i.backups.length >= 1000)!.id;
  small = instances.find((i) => i.backups.length === 45)!.id;
  other = instances.find((i) => i.backups.length === 60)!.id;
});
afterAll(() => stack.close());
beforeEach(() => stack.resetCalls());

const ids = (instanceId: string): string[] => stack.sim.store.get(instanceId)!.backups.map((b) => b.id);
/** One operation with a `backup(instanceId, id)` field per id, aliased. */
const lookups = (pairs: Array<[string, string]>) =>
  stack.gql(`query { ${pairs.map(([i, id], n) => `b${n}: backup(instanceId: "${i}", id: "${id}") { ${BACKUP_FIELDS} }`).join('\n')} }`);
/**
 * What n lookups on one instance may cost (backups/lookups.ts): n calls at most; when the operation also
 * reads the instance's list (which pays for its own calls), at most the chunks of the list it
 * has not read, if that is fewer.
 */
const bound = (n: number, total: number, unreadChunks?: number) => (unreadChunks === undefined ? n : Math.min(n, unreadChunks));
const chunks = (total: number) => Math.ceil(total / 100);

describe('lookups by id', () => {
  it('costs one call for one lookup', async () => {
    const id = ids(big)[700]!;
    const res = await lookups([[big, id]]);
    expect(res.body.data.b0).toMatchObject({ id, instanceId: big });
    expect((await stack.calls()).count).toBe(1);
  });

  it('costs n calls for two lookups deep in a long list', async () => {
    const res = await lookups([[big, ids(big)[500]!], [big, ids(big)[900]!]]);
    expect(res.body.data.b1.id).toBe(ids(big)[900]);
    expect((await stack.calls()).count).toBeLessThanOrEqual(bound(2, 1234));
  });

  it('costs n calls for three lookups past row 100 (no call on speculation)', async () => {
    const wanted = [ids(big)[150]!, ids(big)[600]!, ids(big)[1100]!];
    const res = await lookups(wanted.map((id) => [big, id]));
    expect(Object.values(res.body.data).map((b: any) => b.id)).toEqual(wanted);
    expect((await stack.calls()).count).toBe(3);
  });

  it('costs one call per lookup on a short list that the operation does not read', async () => {
    const wanted = ids(small).slice(0, 5);
    const res = await lookups(wanted.map((id) => [small, id]));
    expect(Object.values(res.body.data).map((b: any) => b.id)).toEqual(wanted);
    expect((await stack.calls()).count).toBe(5);
  });

  it('costs nothing more for many lookups on a short list that the operation also lists', async () => {
    const wanted = ids(small).slice(10, 40);
    const res = await stack.gql(`query { list: backups(instanceId: "${small}", first: 1) { totalCount }
      ${wanted.map((id, n) => `b${n}: backup(instanceId: "${small}", id: "${id}") { id }`).join('\n')} }`);
    expect(Object.keys(res.body.data).filter((k) => k !== 'list').map((k) => res.body.data[k].id)).toEqual(wanted);
    expect((await stack.calls()).count).toBe(1);
  });

  it('reads the rest of a long list that the operation lists when that is cheaper than n lookups', async () => {
    const all = ids(big);
    const wanted = Array.from({ length: 30 }, (_, k) => all[k * 41]!);
    const res = await stack.gql(`query { list: backups(instanceId: "${big}", first: 1) { totalCount }
      ${wanted.map((id, n) => `b${n}: backup(instanceId: "${big}", id: "${id}") { id }`).join('\n')} }`);
    expect(Object.keys(res.body.data).filter((k) => k !== 'list').map((k) => res.body.data[k].id)).toEqual(wanted);
    // the listing's head, then the 12 chunks it did not read (fewer than 30 lookups)
    expect((await stack.calls()).count).toBe(1 + bound(30, 1234, chunks(1234) - 1));
  });

  it.each([
    ['one past row 100', [150]], ['two deep', [500, 900]], ['three in the head', [1, 2, 3]],
    ['five spread', [0, 260, 520, 780, 1040]], ['fourteen spread', Array.from({ length: 14 }, (_, k) => k * 88)],
    ['twenty in one chunk', Array.from({ length: 20 }, (_, k) => 400 + k)],
  ])('keeps within the bound for %s, with and without a listing', async (_name, rows) => {
    const wanted = (rows as number[]).map((r) => ids(big)[r]!);
    await lookups(wanted.map((id) => [big, id]));
    expect((await stack.calls()).count).toBe(bound(wanted.length, 1234));
    await stack.resetCalls();
    const res = await stack.gql(`query { list: backups(instanceId: "${big}", first: 3) { totalCount }
      ${wanted.map((id, n) => `b${n}: backup(instanceId: "${big}", id: "${id}") { id }`).join('\n')} }`);
    expect(wanted.map((_, n) => res.body.data[`b${n}`].id)).toEqual(wanted);
    expect((await stack.calls()).count).toBeLessThanOrEqual(1 + bound(wanted.length, 1234, chunks(1234) - 1));
  });

  it('answers lookups of backups that a list in the same operation fetched without further calls', async () => {
    const wanted = ids(big).slice(3, 8);
    const res = await stack.gql(`query { list: backups(instanceId: "${big}", first: 10) { nodes { id } }
      ${wanted.map((id, n) => `b${n}: backup(instanceId: "${big}", id: "${id}") { id name }`).join('\n')} }`);
    expect(res.body.data.b4.id).toBe(wanted[4]);
    expect((await stack.calls()).count).toBe(1);
  });

  it('batches per instance, and a missing backup is null next to found ones', async () => {
    const res = await lookups([[small, ids(small)[1]!], [other, ids(other)[2]!], [small, 'ffffffffffffffffffffffffffffffffbr01'], [other, ids(other)[3]!]]);
    expect(res.body.data).toEqual({
      b0: expect.objectContaining({ id: ids(small)[1] }), b1: expect.objectContaining({ id: ids(other)[2] }),
      b2: null, b3: expect.objectContaining({ id: ids(other)[3] }),
    });
    const log = await stack.calls();
    expect(log.perInstance[small]).toBeLessThanOrEqual(2);
    expect(log.perInstance[other]).toBeLessThanOrEqual(2);
  });

  it('resolves Instance.backup through the same loader', async () => {
    const res = await stack.gql(`query { instance(id: "${small}") { a: backup(id: "${ids(small)[0]}") { id } b: backup(id: "${ids(small)[44]}") { id } } }`);
    expect(res.body.data.instance).toEqual({ a: { id: ids(small)[0] }, b: { id: ids(small)[44] } });
    expect((await stack.calls()).count).toBeLessThanOrEqual(2);
  });
});

describe('deduplication within an operation', () => {
  it('costs one call for identical fields under aliases', async () => {
    const res = await stack.gql(`query { a: backups(instanceId: "${big}", first: 5) { totalCount } b: backups(instanceId: "${big}", first: 5) { nodes { id } } c: backups(instanceId: "${big}") { totalCount } }`);
    expect(res.body.data.a.totalCount).toBe(1234);
    expect((await stack.calls()).count).toBe(1);
  });

  it('costs one call per instance for the same instance repeated under instances()', async () => {
    const res = await stack.gql(`query { instances(ids: ["${small}", "${other}", "${small}"]) { id backups(first: 3) { totalCount } } }`);
    expect(res.body.data.instances.map((i: any) => i.backups.totalCount)).toEqual([45, 60, 45]);
    expect((await stack.calls()).perInstance).toEqual({ [small]: 1, [other]: 1 });
  });

  it('does not share rows between operations when the cache has expired', async () => {
    await stack.gql(`query { backups(instanceId: "${small}", first: 3) { totalCount } }`);
    await stack.gql(`query { backups(instanceId: "${small}", first: 3) { totalCount } }`);
    expect((await stack.calls()).count).toBe(2);
  });
});
