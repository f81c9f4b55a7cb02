/** Cursors that survive new and deleted backups: no repeated or skipped rows while paging. */
import { rawRequest } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

const PAGE = `query Page($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  backups(instanceId: $id, first: $first, after: $after, last: $last, before: $before) {
    totalCount nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

describe.each([
  ['with the cache on (100-row prefetch)', {}],
  ['with the cache off (exact limits)', { UPSTREAM_CACHE_TTL_MS: '0' }],
])('stable paging %s', (_mode, env) => {
  let stack: Stack;
  let big: string;
  beforeAll(async () => {
    stack = await startStack({ env });
    big = stack.sim.store.list().find((i) => i.backups.length >= 1000)!.id;
  });
  afterAll(() => stack.close());
  beforeEach(async () => {
    await rawRequest(stack.sim.url, '/__admin/reset', { method: 'POST' });
  });

  const ids = (): string[] => stack.sim.store.get(big)!.backups.map((b) => b.id);
  const insert = (count: number) => rawRequest(stack.sim.url, `/__admin/instances/${big}/backups`, { method: 'POST', body: JSON.stringify({ count }) });
  const remove = (id: string) => rawRequest(stack.sim.url, `/__admin/instances/${big}/backups/${id}`, { method: 'DELETE' });
  async function page(variables: Record<string, unknown>) {
    await stack.resetCalls();
    const res = await stack.gql(PAGE, { id: big, ...variables });
    return { body: res.body, data: res.body.data?.backups, calls: (await stack.calls()).count };
  }
  const nodeIds = (p: any): string[] => p.nodes.map((n: any) => n.id);

  it('costs no extra call when nothing moved', async () => {
    const first = await page({ first: 20 });
    const second = await page({ first: 20, after: first.data.pageInfo.endCursor });
    expect(nodeIds(second.data)).toEqual(ids().slice(20, 40));
    expect(second.calls).toBe(1);
    const back = await page({ last: 20, before: second.data.pageInfo.startCursor });
    expect(nodeIds(back.data)).toEqual(ids().slice(0, 20));
    expect(back.calls).toBe(1);
  });

  it.each([1, 5, 99])('continues forward right after the cursor when %i backups arrive at the head', async (n) => {
    const before = ids();
    const first = await page({ first: 20 });
    await insert(n);
    const second = await page({ first: 20, after: first.data.pageInfo.endCursor });
    const union = [...nodeIds(first.data), ...nodeIds(second.data)];
    expect(union).toEqual(before.slice(0, 40)); // no duplicate, no gap
    expect(second.data.totalCount).toBe(before.length + n);
    expect(second.data.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
    expect(second.calls).toBeLessThanOrEqual(3); // the page, plus at most two to find the cursor's backup
  });

  it.each([1, 5, 99])('continues backward right before the cursor when %i backups arrive at the head', async (n) => {
    const before = ids();
    const last = await page({ last: 20 });
    expect(nodeIds(last.data)).toEqual(before.slice(-20));
    await insert(n);
    const previous = await page({ last: 20, before: last.data.pageInfo.startCursor });
    expect([...nodeIds(previous.data), ...nodeIds(last.data)]).toEqual(before.slice(-40));
    expect(previous.data.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
    expect(previous.calls).toBeLessThanOrEqual(3);
  });

  it('continues right after the cursor when backups already served are deleted', async () => {
    const before = ids();
    const first = await page({ first: 20 });
    for (const id of before.slice(2, 5)) await remove(id);
    const second = await page({ first: 20, after: first.data.pageInfo.endCursor });
    expect(nodeIds(second.data)).toEqual(before.slice(20, 40));
  });

  it('answers CURSOR_STALE when the backup a cursor points at is deleted', async () => {
    const first = await page({ first: 20 });
    await remove(ids()[19]!);
    const second = await page({ first: 20, after: first.data.pageInfo.endCursor });
    expect(second.data).toBeNull();
    expect(second.body.errors[0].extensions.code).toBe('CURSOR_STALE');
    expect(second.body.errors[0].message).toMatch(/restart paging/);
    const last = await page({ last: 5 });
    await remove(ids().at(-5)!);
    const earlier = await page({ last: 5, before: last.data.pageInfo.startCursor });
    expect(earlier.body.errors[0].extensions.code).toBe('CURSOR_STALE');
  });

  it('answers CURSOR_STALE when the backup moved further than the search window', async () => {
    const first = await page({ first: 10 });
    await insert(150);
    const second = await page({ first: 10, after: first.data.pageInfo.endCursor });
    expect(second.body.errors[0].extensions.code).toBe('CURSOR_STALE');
    expect(second.calls).toBeLessThanOrEqual(3);
  });

  it('walks the whole list with an insertion between every page: every backup that existed at the start, exactly once', async () => {
    const before = ids();
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 30; i++) {
      const p: any = await page({ first: 100, after });
      expect(p.body.errors).toBeUndefined();
      seen.push(...nodeIds(p.data));
      if (!p.data.pageInfo.hasNextPage) break;
      after = p.data.pageInfo.endCursor;
      await insert(1 + (i % 7));
    }
    expect(seen).toEqual(before);
  });
});
