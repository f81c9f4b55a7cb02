import { MemoryStore } from '../../src/shared-upstream/memory-store';

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

  it('slides a window of 60,000 calls a minute one call at a time, exactly', async () => {
    const store = new MemoryStore();
    const perMinute = 60_000;
    // 60,000 calls 1 ms apart fill the window; each later call lets exactly the oldest leave.
    for (let t = 0; t < perMinute; t++) await store.takeBudget('a', perMinute, t);
    expect(await store.takeBudget('a', perMinute, 59_999)).toEqual({ ok: false, retryAfterSeconds: 1 });
    for (let t = 60_000; t < 61_000; t++) expect(await store.takeBudget('a', perMinute, t)).toEqual({ ok: true, remaining: 0 });
    expect(await store.readBudget('a', perMinute, 60_999)).toEqual({ remaining: 0, resetSeconds: 1 });
    expect(await store.readBudget('a', perMinute, 120_000)).toEqual({ remaining: perMinute - 999, resetSeconds: 1 }); // 60,001 to 60,999 are left
  });
});

describe('MemoryStore.readBudget()', () => {
  it('reads what is left and when the oldest call leaves the window, spending nothing', async () => {
    const store = new MemoryStore();
    const t0 = 1_000_000;
    expect(await store.readBudget('a', 3, t0)).toEqual({ remaining: 3, resetSeconds: 0 }); // never seen
    await store.takeBudget('a', 3, t0);
    await store.takeBudget('a', 3, t0 + 10_000);
    expect(await store.readBudget('a', 3, t0 + 15_000)).toEqual({ remaining: 1, resetSeconds: 45 });
    expect(await store.readBudget('a', 3, t0 + 15_000)).toEqual({ remaining: 1, resetSeconds: 45 }); // reading spent nothing
    expect(await store.readBudget('b', 3, t0 + 15_000)).toEqual({ remaining: 3, resetSeconds: 0 }); // identities are apart
    await store.takeBudget('a', 3, t0 + 20_000);
    expect(await store.readBudget('a', 3, t0 + 25_000)).toEqual({ remaining: 0, resetSeconds: 35 }); // = takeBudget's retryAfterSeconds
    expect(await store.takeBudget('a', 3, t0 + 25_000)).toEqual({ ok: false, retryAfterSeconds: 35 });
    expect(await store.readBudget('a', 3, t0 + 60_000)).toEqual({ remaining: 1, resetSeconds: 10 }); // the first call left the window
    expect(await store.readBudget('a', 3, t0 + 200_000)).toEqual({ remaining: 3, resetSeconds: 0 });
  });

  it('does not make an identity recently active: reading does not keep it from being pushed out', async () => {
    const store = new MemoryStore(undefined, { maxIdentities: 2 });
    await store.takeBudget('a', 3, 1);
    await store.takeBudget('b', 3, 2);
    await store.readBudget('a', 3, 3);
    await store.takeBudget('c', 3, 4); // pushes out the least recently active: still a
    expect(await store.readBudget('a', 3, 5)).toEqual({ remaining: 3, resetSeconds: 0 });
    expect(await store.readBudget('b', 3, 5)).toEqual({ remaining: 2, resetSeconds: 60 });
  });
});

describe('MemoryStore budget memory', () => {
  const t0 = 1_000_000;

  it('remembers at most maxIdentities windows after 100k identities, pushing out the least recently active', async () => {
    const store = new MemoryStore(undefined, { maxIdentities: 1000 });
    expect(await store.takeBudget('steady', 2, t0)).toEqual({ ok: true, remaining: 1 });
    expect(await store.takeBudget('steady', 2, t0)).toEqual({ ok: true, remaining: 0 });
    const answers = [];
    for (let i = 0; i < 100_000; i++) answers.push(await store.takeBudget(`random-token-${i}`, 2, t0 + 1000));
    expect(store.identityCount).toBe(1000);
    // Newcomers are never refused for the others' sake: random tokens cannot lock callers out.
    expect(answers.every((a) => a.ok)).toBe(true);
    // The most recent 1000 are remembered: the last one's window holds its call.
    expect(await store.takeBudget('random-token-99999', 2, t0 + 1000)).toEqual({ ok: true, remaining: 0 });
    // 'steady' was the least recent: pushed out, it starts afresh.
    expect(await store.takeBudget('steady', 2, t0 + 1000)).toEqual({ ok: true, remaining: 1 });
    // A minute later every window is empty; the idle identities are forgotten as new ones come.
    expect(await store.takeBudget('newcomer', 2, t0 + 61_001)).toEqual({ ok: true, remaining: 1 });
    expect(store.identityCount).toBe(1);
  });

  it('forgets identities idle for a minute as time goes on, so 100k identities over ten minutes stay near one minute\'s worth', async () => {
    const store = new MemoryStore(undefined, { maxIdentities: 1_000_000 });
    let most = 0;
    let refused = 0;
    for (let i = 0; i < 100_000; i++) {
      if (!(await store.takeBudget(`token-${i}`, 60, t0 + i * 6)).ok) refused += 1; // one every 6 ms: 10,000 a minute
      most = Math.max(most, store.identityCount);
    }
    expect(refused).toBe(0);
    expect(most).toBeLessThanOrEqual(10_001);
  });

  it('does not walk the remembered identities on every call, however many there are', async () => {
    const store = new MemoryStore(undefined, { maxIdentities: 20_000 });
    for (let i = 0; i < 10_100; i++) await store.takeBudget(`token-${i}`, 60, t0 + i);
    // Count the steps taken over Map iterators (the only way to walk the map) during 200 more calls.
    const mapIterator = Object.getPrototypeOf(new Map().entries()) as { next: () => unknown };
    const steps = jest.spyOn(mapIterator, 'next');
    try {
      for (let i = 0; i < 200; i++) await store.takeBudget(`token-${i % 50}`, 60, t0 + 20_000 + i);
      expect(steps.mock.calls.length).toBeLessThanOrEqual(200 * 2);
    } finally {
      steps.mockRestore();
    }
  });
});

describe('MemoryStore pages', () => {
  it('keeps a page for its time, then forgets it', async () => {
    let clock = 5_000;
    const store = new MemoryStore(undefined, { now: () => clock });
    const page = { body: { backups: [], total_count: 0 }, fetchedAt: 1 };
    await store.setPage('k', page, 50);
    clock += 50;
    expect(await store.getPage('k')).toEqual(page);
    clock += 1;
    expect(await store.getPage('k')).toBeUndefined();
  });
});
