import { MemoryStore } from '../../src/sharing/memory-store';

describe('MemoryStore.takeBudget()', () => {
  it('admits perMinute calls in any 60 s window, then says when the oldest leaves it', async () => {
    const store = new MemoryStore();
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) expect(await store.takeBudget('a', 3, t0 + i * 10_000)).toEqual({ ok: true, remaining: 2 - i });
    expect(await store.takeBudget('a', 3, t0 + 25_000)).toEqual({ ok: false, retryAfterSeconds: 35 });
    expect(await store.takeBudget('b', 3, t0 + 25_000)).toEqual({ ok: true, remaining: 2 }); // identities are apart
    expect(await store.takeBudget('a', 3, t0 + 60_000)).toEqual({ ok: true, remaining: 0 }); // the first call left the window
    expect(await store.takeBudget('a', 3, t0 + 60_001)).toEqual({ ok: false, retryAfterSeconds: 10 });
  });
});

describe('MemoryStore pages', () => {
  it('keeps a page for its time, then forgets it', async () => {
    const store = new MemoryStore();
    const page = { body: { backups: [], total_count: 0 }, fetchedAt: 1 };
    await store.setPage('k', page, 50);
    expect(await store.getPage('k')).toEqual(page);
    await new Promise((r) => setTimeout(r, 80));
    expect(await store.getPage('k')).toBeUndefined();
  });
});
