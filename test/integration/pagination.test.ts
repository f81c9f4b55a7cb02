/** DESIGN.md's pagination semantics, over HTTP against the simulator. */
import { BACKUP_FIELDS, startStack, type Stack } from '../helpers/stack';

let stack: Stack;
let big: string; // 1,234 backups
let small: string; // 45 backups
let empty: string;

beforeAll(async () => {
  stack = await startStack({ env: { UPSTREAM_FANOUT: '4' } });
  const instances = stack.sim.store.list();
  big = instances.find((i) => i.backups.length >= 1000)!.id;
  small = instances.find((i) => i.backups.length === 45)!.id;
  empty = instances.find((i) => i.backups.length === 0)!.id;
});
afterAll(() => stack.close());
beforeEach(() => stack.resetCalls());

const PAGE = `query Page($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $filter: BackupFilter) {
  backups(instanceId: $id, first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount
    edges { cursor node { id } }
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

async function page(variables: Record<string, unknown>) {
  const res = await stack.gql(PAGE, variables);
  expect(res.body.errors).toBeUndefined();
  return res.body.data.backups;
}

const upstreamIds = (instanceId: string): string[] => stack.sim.store.get(instanceId)!.backups.map((b) => b.id);

describe('Relay pagination over offset/limit', () => {
  it('walks forward over 1,000+ backups: every backup exactly once, in upstream order', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 20; i++) {
      const p: any = await page({ id: big, first: 100, after });
      seen.push(...p.edges.map((e: any) => e.node.id));
      expect(p.pageInfo.hasPreviousPage).toBe(i > 0);
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
    }
    expect(seen).toEqual(upstreamIds(big));
  });

  it('walks backward with last/before: every backup exactly once', async () => {
    const seen: string[] = [];
    let before: string | null = null;
    for (let i = 0; i < 20; i++) {
      const p: any = await page({ id: big, last: 100, before });
      seen.unshift(...p.edges.map((e: any) => e.node.id));
      expect(p.pageInfo.hasNextPage).toBe(i > 0);
      if (!p.pageInfo.hasPreviousPage) break;
      before = p.pageInfo.startCursor;
    }
    expect(seen).toEqual(upstreamIds(big));
  });

  it('serves the first 20 when neither first nor last is given, with exact page info', async () => {
    const p = await page({ id: big });
    expect(p.nodes.map((n: any) => n.id)).toEqual(upstreamIds(big).slice(0, 20));
    expect(p.edges.map((e: any) => e.node.id)).toEqual(p.nodes.map((n: any) => n.id));
    expect(p.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false, startCursor: p.edges[0].cursor, endCursor: p.edges[19].cursor });
    expect(p.totalCount).toBe(1234);
  });

  it('answers first: 0 with totalCount and page info only, in one upstream call', async () => {
    const p = await page({ id: big, first: 0 });
    expect(p).toMatchObject({ totalCount: 1234, edges: [], nodes: [], pageInfo: { hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null } });
    expect((await stack.calls()).count).toBe(1);
  });

  it('serves first: 450 with five upstream calls, at most UPSTREAM_FANOUT in flight', async () => {
    await stack.setFaults([{ kind: 'latency', latencyMs: 150 }]);
    try {
      const p = await page({ id: big, first: 450 });
      expect(p.nodes.map((n: any) => n.id)).toEqual(upstreamIds(big).slice(0, 450));
      const log = await stack.calls();
      expect(log.count).toBe(5);
      expect(log.maxInFlight).toBe(4);
      expect(log.calls.map((c: any) => /offset=(\d+)/.exec(c.query)![1]).map(Number).sort((a: number, b: number) => a - b)).toEqual([0, 100, 200, 300, 400]);
    } finally {
      await stack.setFaults([]);
    }
  });

  it('costs one call for last without before on a short list, and at most one extra on a long one', async () => {
    const short = await page({ id: small, last: 5 });
    expect(short.nodes.map((n: any) => n.id)).toEqual(upstreamIds(small).slice(40));
    expect(short.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect((await stack.calls()).count).toBe(1);
    await stack.resetCalls();
    const tail = await page({ id: big, last: 3 });
    expect(tail.nodes.map((n: any) => n.id)).toEqual(upstreamIds(big).slice(-3));
    expect((await stack.calls()).count).toBe(2);
  });

  it('serves a later page from rows fetched for an earlier field of the same operation', async () => {
    const first = await page({ id: big, first: 10 });
    await stack.resetCalls();
    const res = await stack.gql(`query($id: ID!, $after: String) {
      a: backups(instanceId: $id, first: 10) { nodes { id } }
      b: backups(instanceId: $id, first: 10, after: $after) { nodes { id } }
    }`, { id: big, after: first.pageInfo.endCursor });
    expect(res.body.data.b.nodes.map((n: any) => n.id)).toEqual(upstreamIds(big).slice(10, 20));
    expect((await stack.calls()).count).toBe(1);
  });

  it('asks the upstream for just the rows needed when the cache is off', async () => {
    const uncached = await startStack({ env: { UPSTREAM_CACHE_TTL_MS: '0' } });
    try {
      const res = await uncached.gql(PAGE, { id: big, first: 20 });
      expect(res.body.data.backups.nodes.map((n: any) => n.id)).toEqual(upstreamIds(big).slice(0, 20));
      const after = await uncached.gql(PAGE, { id: big, first: 130, after: res.body.data.backups.pageInfo.endCursor });
      expect(after.body.data.backups.nodes.map((n: any) => n.id)).toEqual(upstreamIds(big).slice(20, 150));
      expect((await uncached.calls()).calls.map((c: any) => /limit=\d+&offset=\d+/.exec(c.query)![0])).toEqual(['limit=20&offset=0', 'limit=100&offset=19', 'limit=31&offset=119']); // from the cursor's own row (issue 5's anchor check)
    } finally {
      await uncached.close();
    }
  });

  it('supports after and before together', async () => {
    const p = await page({ id: small, first: 10 });
    const inner = await page({ id: small, after: p.edges[1].cursor, before: p.edges[6].cursor });
    expect(inner.nodes.map((n: any) => n.id)).toEqual(upstreamIds(small).slice(2, 6));
    expect(inner.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
  });

  it('answers an empty instance with an empty connection', async () => {
    const p = await page({ id: empty, first: 10 });
    expect(p).toEqual({ totalCount: 0, edges: [], nodes: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } });
  });

  it('answers past the end with an empty page and no extra call', async () => {
    const all = await page({ id: small, first: 45 });
    await stack.resetCalls();
    const res = await stack.gql(`query($id: ID!, $after: String) {
      a: backups(instanceId: $id, first: 45) { totalCount }
      b: backups(instanceId: $id, first: 5, after: $after) { nodes { id } pageInfo { hasNextPage hasPreviousPage } }
    }`, { id: small, after: all.pageInfo.endCursor });
    expect(res.body.data.b).toEqual({ nodes: [], pageInfo: { hasNextPage: false, hasPreviousPage: true } });
    expect((await stack.calls()).count).toBe(1);
  });

  it('filters by type and time range, with totalCount for the filter', async () => {
    const autos = await page({ id: big, first: 500, filter: { type: 'AUTO' } });
    const expected = stack.sim.store.get(big)!.backups.filter((b) => b.type === 'auto').map((b) => b.id);
    expect(autos.totalCount).toBe(expected.length);
    expect(autos.nodes.map((n: any) => n.id)).toEqual(expected);
    const from = new Date('2026-10-30T00:00:00+08:00');
    const to = new Date('2026-10-31T00:00:00+08:00');
    const ranged = await page({ id: big, first: 50, filter: { beginTime: from.toISOString(), endTime: to.toISOString() } });
    const inRange = stack.sim.store.get(big)!.backups.filter((b) => b.beginTime >= from.getTime() && b.beginTime <= to.getTime()).map((b) => b.id);
    expect(ranged.nodes.map((n: any) => n.id)).toEqual(inRange);
    const call = (await stack.calls()).calls.at(-1);
    expect(call.query).toContain('begin_time=2026-10-29T16%3A00%3A00%2B0000');
    expect(call.query).toContain('end_time=2026-10-30T16%3A00%3A00%2B0000');
  });

  it('returns every field of a backup, normalised', async () => {
    const sqlserver = stack.sim.store.list().find((i) => i.engine === 'SQLServer' && i.engineSpelling === 'sqlserver')!;
    const res = await stack.gql(`query($id: ID!) { backups(instanceId: $id, first: 100) { nodes { ${BACKUP_FIELDS} instance { id } } } }`, { id: sqlserver.id });
    const nodes = res.body.data.backups.nodes;
    const raw = sqlserver.backups;
    expect(nodes).toHaveLength(raw.length);
    nodes.forEach((n: any, i: number) => {
      const b = raw[i]!;
      expect(n).toEqual({
        id: b.id, instanceId: sqlserver.id, name: b.name, type: b.type.toUpperCase(), status: b.status, sizeKb: b.sizeKb,
        beginTime: new Date(b.beginTime).toISOString(), endTime: b.endTime === null ? null : new Date(b.endTime).toISOString(),
        datastore: { type: 'SQLSERVER', version: sqlserver.version }, databases: (b.databases ?? []).map((name) => ({ name })),
        associatedWithDdm: b.associatedWithDdm ?? false, minDataVolumeCapacityForRestore: b.minDataVolumeCapacityForRestore ?? null,
        instance: { id: sqlserver.id },
      });
    });
  });

  it('keeps sizes above 2^31 KB exact', async () => {
    const archive = stack.sim.store.list().find((i) => i.backups.some((b) => b.sizeKb > 2 ** 31))!;
    const p = (await stack.gql(`query($id: ID!) { backups(instanceId: $id, first: 100) { nodes { id sizeKb } } }`, { id: archive.id })).body.data.backups;
    expect(p.nodes.map((n: any) => n.sizeKb)).toEqual(archive.backups.map((b) => b.sizeKb));
    expect(Math.max(...p.nodes.map((n: any) => n.sizeKb))).toBeGreaterThan(2 ** 31);
  });

  it('pages Instance.backups the same way, and resolves node() and instances() without upstream calls', async () => {
    const res = await stack.gql(`query($id: ID!, $ids: [ID!]!) {
      node(id: $id) { id ... on Instance { backups(first: 2) { nodes { id } } } }
      instances(ids: $ids) { id }
      instance(id: $id) { id }
    }`, { id: small, ids: [small, big] });
    expect(res.body.data.node.backups.nodes.map((n: any) => n.id)).toEqual(upstreamIds(small).slice(0, 2));
    expect(res.body.data.instances).toEqual([{ id: small }, { id: big }]);
    expect((await stack.calls()).count).toBe(1);
    const backupNode = await stack.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: upstreamIds(small)[0] });
    expect(backupNode.body.data.node).toBeNull();
  });
});
