/** toChanges(): the events between two windows of a live key, as DESIGN.md's "Live changes" defines them. */
import type { Backup } from '../../src/backups/model';
import { LIVE_WINDOW, newestFirst, toChanges, type BackupChange } from '../../src/live/changes';

const T0 = Date.UTC(2026, 0, 1);

/** Backup number `n`: begins `n` minutes after T0, so a greater n is newer. */
function backup(n: number, overrides: Partial<Backup> = {}): Backup {
  return {
    id: `b${String(n).padStart(4, '0')}`, instanceId: 'i1', name: `backup-${n}`, type: 'AUTO', status: 'COMPLETED', sizeKb: 1000 + n,
    beginTime: new Date(T0 + n * 60_000), endTime: new Date(T0 + n * 60_000 + 30_000),
    datastore: { type: 'MYSQL', version: '8.0' }, databases: [], associatedWithDdm: false, minDataVolumeCapacityForRestore: null,
    ...overrides,
  };
}

/** A window of backups numbered `from` down to `to` (newest first). */
function window(from: number, to: number): Backup[] {
  const rows: Backup[] = [];
  for (let n = from; n >= to; n--) rows.push(backup(n));
  return rows;
}

const summary = (changes: BackupChange[]): string[] => changes.map((c) => `${c.kind} ${c.backup.id}`);

describe('toChanges()', () => {
  it('yields nothing on the first poll: it is the baseline', () => {
    expect(toChanges(undefined, window(10, 1))).toEqual([]);
    expect(toChanges(undefined, [])).toEqual([]);
  });

  it('yields nothing when nothing changed', () => {
    expect(toChanges(window(10, 1), window(10, 1))).toEqual([]);
  });

  it('reports a new backup at the head as ADDED, with the row as it is now', () => {
    const changes = toChanges(window(10, 1), window(11, 1));
    expect(summary(changes)).toEqual(['ADDED b0011']);
    expect(changes[0]!.backup).toEqual(backup(11));
  });

  it.each<[string, Partial<Backup>]>([
    ['status', { status: 'BUILDING' }], ['sizeKb', { sizeKb: 1 }], ['endTime', { endTime: null }], ['name', { name: 'renamed' }],
  ])('reports a change of %s as UPDATED, with the row as it is now', (_field, change) => {
    const next = window(10, 1).map((row) => (row.id === 'b0005' ? { ...row, ...change } : row));
    const changes = toChanges(window(10, 1), next);
    expect(summary(changes)).toEqual(['UPDATED b0005']);
    expect(changes[0]!.backup).toMatchObject(change);
  });

  it('reports an endTime set on a BUILDING backup that completes as one UPDATED', () => {
    const building = window(10, 1).map((row) => (row.id === 'b0010' ? { ...row, status: 'BUILDING' as const, endTime: null } : row));
    expect(summary(toChanges(building, window(10, 1)))).toEqual(['UPDATED b0010']);
  });

  it('ignores changes of fields a subscriber is not told of (the same endTime as another Date object, databases)', () => {
    const next = window(10, 1).map((row) => ({ ...row, endTime: row.endTime && new Date(row.endTime.getTime()), databases: [{ name: 'db' }] }));
    expect(toChanges(window(10, 1), next)).toEqual([]);
  });

  it('reports a backup gone from the middle as REMOVED, as it was last seen', () => {
    const old = window(10, 1).map((row) => (row.id === 'b0004' ? { ...row, status: 'DELETING' as const } : row));
    const changes = toChanges(old, old.filter((row) => row.id !== 'b0004'));
    expect(summary(changes)).toEqual(['REMOVED b0004']);
    expect(changes[0]!.backup.status).toBe('DELETING');
  });

  it('sends the events of one poll newest first, whatever their kind', () => {
    const old = window(10, 1);
    const next = [backup(12), backup(11), ...old.filter((row) => row.id !== 'b0009' && row.id !== 'b0003').map((row) => (row.id === 'b0006' ? { ...row, sizeKb: 7 } : row))];
    expect(summary(toChanges(old, next))).toEqual(['ADDED b0012', 'ADDED b0011', 'REMOVED b0009', 'UPDATED b0006', 'REMOVED b0003']);
  });

  describe('a full window', () => {
    it('is 100 rows, the upstream\'s largest page', () => {
      expect(LIVE_WINDOW).toBe(100);
    });

    it('reports one ADDED and no REMOVED when a new row pushes the oldest out', () => {
      expect(summary(toChanges(window(100, 1), window(101, 2)))).toEqual(['ADDED b0101']);
    });

    it('reports the oldest row of the window removed, and not the row that moves up into its place', () => {
      // Row 1 was the window's oldest; row 0, past the end before, now fills the window.
      const next = [...window(100, 2), backup(0)];
      expect(summary(toChanges(window(100, 1), next))).toEqual(['REMOVED b0001']);
    });

    it('does not report a row older than the old window\'s oldest as ADDED (it came from past the end)', () => {
      const next = [...window(100, 3), backup(-5)];
      expect(summary(toChanges(window(100, 1), next))).toEqual(['REMOVED b0002', 'REMOVED b0001']);
    });

    it('does not report rows pushed out by several new ones', () => {
      expect(summary(toChanges(window(100, 1), window(103, 4)))).toEqual(['ADDED b0103', 'ADDED b0102', 'ADDED b0101']);
    });
  });

  describe('a window shorter than 100 rows is the whole list', () => {
    it('reports the removal of its oldest row, and of its last one', () => {
      expect(summary(toChanges(window(10, 1), window(10, 2)))).toEqual(['REMOVED b0001']);
      expect(summary(toChanges([backup(1)], []))).toEqual(['REMOVED b0001']);
    });

    it('reports a row older than every other as ADDED (a backup that starts matching the filter)', () => {
      expect(summary(toChanges(window(10, 5), window(10, 4)))).toEqual(['ADDED b0004']);
    });

    it('reports every row of an empty old window\'s successor as ADDED, and every row of an emptied window as REMOVED', () => {
      expect(summary(toChanges([], window(2, 1)))).toEqual(['ADDED b0002', 'ADDED b0001']);
      expect(summary(toChanges(window(2, 1), []))).toEqual(['REMOVED b0002', 'REMOVED b0001']);
      expect(toChanges([], [])).toEqual([]);
    });

    it('reports the oldest row removed when a full window of exactly the whole list shrinks to 99', () => {
      expect(summary(toChanges(window(100, 1), window(100, 2)))).toEqual(['REMOVED b0001']);
    });
  });

  describe('equal begin times: the greater id is newer', () => {
    const at = (id: string): Backup => ({ ...backup(1), id, name: id });

    it('orders rows of the same begin time by id, greatest first', () => {
      expect([at('a'), at('c'), at('b')].sort(newestFirst).map((row) => row.id)).toEqual(['c', 'b', 'a']);
    });

    it('counts a row of the bound\'s begin time with a greater id as inside the bound', () => {
      // A full window whose oldest row is `m` at T0 + 1 min; two rows of that time appear.
      const old = [...window(100, 2), at('m')];
      // `z` of the same time comes in and pushes `m` out: `z` is newer than the old bound (ADDED),
      // `m` older than the new one, `z` (pushed out, no event).
      const next = [...window(100, 2), at('z')];
      expect(summary(toChanges(old, next))).toEqual(['ADDED z']);
    });

    it('does not count a row of the bound\'s begin time with a smaller id as inside it', () => {
      const old = [...window(100, 2), at('m')];
      const next = [...window(100, 2), at('a')];
      // `m` went and `a`, past the end before, moved up: the removal of `m` is the event.
      expect(summary(toChanges(old, next))).toEqual(['REMOVED m']);
    });
  });
});
