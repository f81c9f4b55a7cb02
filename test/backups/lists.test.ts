/** The per-request list of an instance's backups: which calls it makes, and which it reuses. */
import { BackupList, type Chunk, type FetchChunk } from '../../src/backups/lists';
import type { Backup } from '../../src/backups/model';

const row = (offset: number): Backup => ({ id: `b${offset}` } as Backup);

/** An upstream of `total` rows that records each call and answers only when told to. */
function fakeUpstream(total: number) {
  const calls: Array<{ offset: number; limit: number }> = [];
  const pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  const fetchChunk: FetchChunk = (_instance, _filter, offset, limit) => {
    calls.push({ offset, limit });
    return new Promise<Chunk>((resolve, reject) => {
      const rows = Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, k) => row(offset + k));
      pending.push({ resolve: () => resolve({ offset, rows, total }), reject });
    });
  };
  const answerAll = async () => {
    while (pending.length) pending.shift()!.resolve();
    await new Promise((r) => setImmediate(r));
  };
  return { calls, fetchChunk, answerAll, failNext: (e: Error) => pending.shift()!.reject(e) };
}

async function settle<T>(upstream: ReturnType<typeof fakeUpstream>, promise: Promise<T>): Promise<T> {
  await upstream.answerAll();
  return promise;
}

describe('BackupList with prefetch', () => {
  it('asks for whole chunks of 100 aligned to multiples of 100', async () => {
    const up = fakeUpstream(1234);
    const list = new BackupList('i', {}, up.fetchChunk, true);
    const { rows, total } = await settle(up, list.range(150, 230));
    expect(up.calls).toEqual([{ offset: 100, limit: 100 }, { offset: 200, limit: 100 }]);
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 80 }, (_, k) => `b${150 + k}`));
    expect(total).toBe(1234);
  });

  it('reuses chunks in flight and answered, calling only for the rest', async () => {
    const up = fakeUpstream(1234);
    const list = new BackupList('i', {}, up.fetchChunk, true);
    const first = list.range(0, 20);
    const second = list.range(10, 30); // in flight: no new call
    await settle(up, Promise.all([first, second]));
    await settle(up, list.range(50, 120));
    expect(up.calls).toEqual([{ offset: 0, limit: 100 }, { offset: 100, limit: 100 }]);
  });

  it('reads a short list whole in one call, and nothing past its end', async () => {
    const up = fakeUpstream(45);
    const list = new BackupList('i', {}, up.fetchChunk, true);
    expect((await settle(up, list.range(0, 20))).total).toBe(45);
    const rest = await list.range(40, 500);
    expect(rest.rows.map((r) => r.id)).toEqual(['b40', 'b41', 'b42', 'b43', 'b44']);
    expect(up.calls).toHaveLength(1);
  });

  it('makes one call even for an empty range, to learn the total', async () => {
    const up = fakeUpstream(0);
    const list = new BackupList('i', {}, up.fetchChunk, true);
    expect(await settle(up, list.range(0, 0))).toEqual({ rows: [], total: 0 });
    expect(up.calls).toHaveLength(1);
  });
});

describe('BackupList without prefetch', () => {
  it('asks for just the rows needed, in calls of at most 100 from where they start', async () => {
    const up = fakeUpstream(1234);
    const list = new BackupList('i', {}, up.fetchChunk, false);
    await settle(up, list.range(150, 380));
    expect(up.calls).toEqual([{ offset: 150, limit: 100 }, { offset: 250, limit: 100 }, { offset: 350, limit: 30 }]);
  });

  it('continues from where fetched rows end', async () => {
    const up = fakeUpstream(1234);
    const list = new BackupList('i', {}, up.fetchChunk, false);
    await settle(up, list.range(10, 31));
    await settle(up, list.range(11, 131)); // rows 11..30 are fetched: one call from 31
    expect(up.calls).toEqual([{ offset: 10, limit: 21 }, { offset: 31, limit: 100 }]);
  });
});

describe('BackupList.rowAt()', () => {
  it('answers only rows a call returned', async () => {
    const up = fakeUpstream(1234);
    const list = new BackupList('i', {}, up.fetchChunk, false);
    const reading = list.range(5, 8);
    expect(list.rowAt(6)).toBeUndefined(); // in flight
    await settle(up, reading);
    expect([list.rowAt(4), list.rowAt(5)?.id, list.rowAt(7)?.id, list.rowAt(8)]).toEqual([undefined, 'b5', 'b7', undefined]);
  });
});

describe('BackupList.missingChunks()', () => {
  it('is empty while the total is unknown', () => {
    const up = fakeUpstream(1234);
    expect(new BackupList('i', {}, up.fetchChunk, true).missingChunks()).toEqual([]);
  });

  it('lists the chunks a whole read still needs, skipping those fetched or in flight', async () => {
    const up = fakeUpstream(450);
    const list = new BackupList('i', {}, up.fetchChunk, true);
    await settle(up, list.range(0, 10));
    void list.range(200, 210); // in flight
    expect(list.missingChunks()).toEqual([100, 300, 400]);
  });

  it('counts a failed chunk as missing, so a lookup there fails rather than answering null', async () => {
    const up = fakeUpstream(250);
    const list = new BackupList('i', {}, up.fetchChunk, true);
    await settle(up, list.range(0, 10));
    const failing = list.range(100, 110);
    up.failNext(new Error('upstream down'));
    await expect(failing).rejects.toThrow('upstream down');
    expect(list.missingChunks()).toEqual([100, 200]);
    await expect(list.range(100, 200)).rejects.toThrow('upstream down'); // no second call for it
    expect(up.calls).toHaveLength(2);
  });
});

describe('BackupList.underway()', () => {
  it('is undefined with nothing in flight, and settles when the calls in flight have', async () => {
    const up = fakeUpstream(300);
    const list = new BackupList('i', {}, up.fetchChunk, true);
    expect(list.underway()).toBeUndefined();
    void list.range(0, 150);
    let settled = false;
    void list.underway()!.then(() => { settled = true; });
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    await up.answerAll();
    expect(settled).toBe(true);
    expect(list.underway()).toBeUndefined();
  });
});
