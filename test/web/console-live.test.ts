import { applyChange, type Backup, type BackupList } from '../../web/console/backups';
import { toWebSocketUrl } from '../../web/console/client';

const backup = (id: string, beginTime: string, status: Backup['status'] = 'COMPLETED'): Backup => ({ id, name: `b-${id}`, type: 'AUTO', status, sizeKb: 1024, beginTime });

function list(rows: Backup[], hasNextPage = false): BackupList {
  return { totalCount: rows.length, edges: rows.map((node, i) => ({ cursor: `c${i}`, node })), pageInfo: { hasNextPage, endCursor: `c${rows.length - 1}` } };
}
const ids = (l: BackupList) => l.edges.map((e) => e.node.id);

const shown = list([backup('c', '2026-11-01T03:00:00Z'), backup('b', '2026-11-01T02:00:00Z'), backup('a', '2026-11-01T01:00:00Z')]);

describe('applyChange()', () => {
  it('puts ADDED rows in begin-time order: a poll\'s events come newest first, so prepending each would reverse them', () => {
    const first = applyChange(shown, { kind: 'ADDED', backup: backup('e', '2026-11-01T05:00:00Z'), totalCount: 4 });
    const second = applyChange(first, { kind: 'ADDED', backup: backup('d', '2026-11-01T04:00:00Z'), totalCount: 5 });
    expect(ids(second)).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect(second.totalCount).toBe(5);
    expect(second.edges[0]).toEqual({ __typename: 'BackupEdge', cursor: '', node: backup('e', '2026-11-01T05:00:00Z') });
    expect(second.pageInfo).toEqual(shown.pageInfo);
  });

  it('adds a row once, when the list already has it (read by a query after the subscription began)', () => {
    expect(ids(applyChange(shown, { kind: 'ADDED', backup: backup('c', '2026-11-01T03:00:00Z'), totalCount: 3 }))).toEqual(['c', 'b', 'a']);
  });

  it('leaves a row older than every row shown to its page when more pages follow, and counts it', () => {
    const older = backup('z', '2026-10-31T00:00:00Z');
    const paged = applyChange(list(shown.edges.map((e) => e.node), true), { kind: 'ADDED', backup: older, totalCount: 40 });
    expect(ids(paged)).toEqual(['c', 'b', 'a']);
    expect(paged.totalCount).toBe(40);
    expect(ids(applyChange(shown, { kind: 'ADDED', backup: older, totalCount: 4 }))).toEqual(['c', 'b', 'a', 'z']);
  });

  it('drops a REMOVED row\'s edge and takes the event\'s count', () => {
    const removed = applyChange(shown, { kind: 'REMOVED', backup: backup('b', '2026-11-01T02:00:00Z'), totalCount: 2 });
    expect(ids(removed)).toEqual(['c', 'a']);
    expect(removed.totalCount).toBe(2);
  });

  it('keeps the edges on UPDATED (the cache rewrites the row by its id) and takes the count', () => {
    const updated = applyChange(shown, { kind: 'UPDATED', backup: backup('b', '2026-11-01T02:00:00Z', 'FAILED'), totalCount: 7 });
    expect(updated.edges).toBe(shown.edges);
    expect(updated.totalCount).toBe(7);
  });
});

describe('toWebSocketUrl()', () => {
  it('keeps the host and path and swaps the scheme', () => {
    expect(toWebSocketUrl('http://127.0.0.1:4000/graphql')).toBe('ws://127.0.0.1:4000/graphql');
    expect(toWebSocketUrl('https://api.example.com/bff/graphql?x=1')).toBe('wss://api.example.com/bff/graphql?x=1');
  });
});
