/**
 * The shared upstream on its own: a scripted client whose every attempt waits until the test
 * answers it, an injected cache/budget clock, and jest's fake timers for deadlines (epoch ms
 * read from Date.now(), as the client reads them). No real waiting anywhere.
 */
import { BudgetExhaustedError } from '../../src/errors/domain';
import type { Logger } from '../../src/logger';
import { createSharedUpstream, type SharedUpstreamOptions } from '../../src/shared-upstream/client';
import { MemoryStore } from '../../src/shared-upstream/memory-store';
import { callerIdentity, type AttemptInfo, type CallOptions, type ListBackupsResult, type ServedPage, type UpstreamClient } from '../../src/upstream/client';
import { UpstreamHttpError, UpstreamTimeoutError } from '../../src/upstream/errors';
import { listBackupsPath, type ListBackupsParams } from '../../src/upstream/url';
import type { ListBackupsResponseDTO } from '../../src/upstream/wire';

const PARAMS: ListBackupsParams = { projectId: 'p1', instanceId: 'i1', offset: 0, limit: 100 };
const alice = { kind: 'token', token: 'alice' } as const;
const bob = { kind: 'token', token: 'bob' } as const;
const page = (total: number): ListBackupsResponseDTO => ({ backups: [], total_count: total });

interface Attempt {
  params: ListBackupsParams;
  options: CallOptions;
  answer(body: ListBackupsResponseDTO): void;
  /** Fails the attempt; with `retry`, the client tries again (taking the budget again). */
  fail(error: Error, retry?: boolean): void;
}

/** Keeps the client's contract (budget before each attempt, each attempt reported), the answers left to the test. */
function scriptedUpstream() {
  const attempts: Attempt[] = [];
  const arrivals: Array<() => void> = [];
  const client: UpstreamClient = {
    async listBackups(params, options): Promise<ListBackupsResult> {
      for (let n = 0; ; n++) {
        await options.beforeAttempt?.();
        const outcome = await new Promise<{ body?: ListBackupsResponseDTO; error?: Error; retry?: boolean }>((settle) => {
          attempts.push({ params, options, answer: (body) => settle({ body }), fail: (error, retry) => settle({ error, retry }) });
          arrivals.splice(0).forEach((wake) => wake());
        });
        options.onAttempt?.({ instanceId: params.instanceId, offset: params.offset, limit: params.limit, attempt: n, ms: 0, status: outcome.body ? 200 : 503 });
        if (outcome.body) return { body: outcome.body, requestId: `up-${attempts.length}` };
        if (!outcome.retry) throw outcome.error;
      }
    },
    close() {},
  };
  /** Resolves once attempt number `n` (from 0) has reached the upstream. */
  const attempt = async (n: number): Promise<Attempt> => {
    while (attempts.length <= n) await new Promise<void>((wake) => arrivals.push(wake));
    return attempts[n]!;
  };
  return { client, attempts, attempt };
}

function setup(options: Partial<SharedUpstreamOptions> = {}) {
  let clock = 1_000_000;
  const upstream = scriptedUpstream();
  const store = new MemoryStore(undefined, { now: () => clock });
  const refreshes: string[] = [];
  const refreshed: Array<() => void> = [];
  // The shared upstream says at debug when a background refresh ends; the tests wait on that.
  const logger = { debug: (...args: unknown[]) => { refreshes.push(String(args.at(-1))); refreshed.splice(0).forEach((wake) => wake()); } } as unknown as Logger;
  const lookups: string[] = [];
  const shared = createSharedUpstream({
    client: upstream.client, store, ttlMs: 1000, staleMs: 1000, budgetPerMinute: 1000, now: () => clock, logger,
    onLookup: (outcome) => lookups.push(outcome), ...options,
  });
  return {
    shared, upstream, store, lookups, refreshes,
    advance: (ms: number) => { clock += ms; },
    /** Resolves once `n` background refreshes have ended. */
    refreshesEnded: async (n: number) => { while (refreshes.length < n) await new Promise<void>((wake) => refreshed.push(wake)); },
  };
}

describe('createSharedUpstream(): coalescing', () => {
  it('sends identical concurrent calls once, and answers each caller', async () => {
    const { shared, upstream, lookups } = setup({ ttlMs: 0, staleMs: 0 });
    const answers = Promise.all([1, 2, 3].map(() => shared.listBackups(PARAMS, { auth: alice })));
    (await upstream.attempt(0)).answer(page(7));
    expect((await answers).map((a) => a.body.total_count)).toEqual([7, 7, 7]);
    expect(upstream.attempts).toHaveLength(1);
    expect(lookups).toEqual(['miss', 'coalesced', 'coalesced']);
  });

  it('never shares a call between identities, nor between different calls of one identity', async () => {
    const { shared, upstream } = setup({ ttlMs: 0, staleMs: 0 });
    const answers = Promise.all([
      shared.listBackups(PARAMS, { auth: alice }),
      shared.listBackups(PARAMS, { auth: bob }),
      shared.listBackups({ ...PARAMS, offset: 100 }, { auth: alice }),
    ]);
    await upstream.attempt(2);
    upstream.attempts.forEach((a, k) => a.answer(page(k)));
    expect((await answers).map((a) => a.body.total_count)).toEqual([0, 1, 2]);
    expect(upstream.attempts.map((a) => [a.options.auth, a.params.offset])).toEqual([[alice, 0], [bob, 0], [alice, 100]]);
  });

  it('tells each attempt to every caller waiting: as its own to the one it was made for, as shared to the others', async () => {
    const { shared, upstream } = setup({ ttlMs: 0, staleMs: 0 });
    const seen: Array<Array<Partial<AttemptInfo>>> = [[], [], []];
    const answers = Promise.all(seen.map((mine) => shared.listBackups(PARAMS, { auth: alice, onAttempt: (a) => mine.push(a) })));
    (await upstream.attempt(0)).answer(page(1));
    await answers;
    expect(seen.map((mine) => mine.map((a) => a.shared ?? false))).toEqual([[false], [true], [true]]);
  });
});

describe('createSharedUpstream(): each caller\'s own deadline', () => {
  const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
  beforeEach(() => { jest.useFakeTimers({ now: T0 }); });
  afterEach(() => { jest.useRealTimers(); });

  it('lets a joiner with a shorter deadline go at its deadline with a timeout, while the call goes on for the first caller', async () => {
    const { shared, upstream } = setup({ ttlMs: 0, staleMs: 0 });
    const firstSeen: AttemptInfo[] = [];
    const first = shared.listBackups(PARAMS, { auth: alice, deadline: T0 + 10_000, onAttempt: (a) => firstSeen.push(a) });
    const attempt = await upstream.attempt(0);
    const joiner = shared.listBackups(PARAMS, { auth: alice, deadline: T0 + 1000 }).catch((e: unknown) => e);

    await jest.advanceTimersByTimeAsync(1000);
    expect(await joiner).toBeInstanceOf(UpstreamTimeoutError);
    attempt.answer(page(5));
    expect((await first).body.total_count).toBe(5);
    expect(firstSeen).toHaveLength(1);
    expect(upstream.attempts).toHaveLength(1);
  });

  it('does not cut the call short for a joiner at the first caller\'s shorter deadline', async () => {
    const { shared, upstream } = setup({ ttlMs: 0, staleMs: 0 });
    const firstSeen: AttemptInfo[] = [];
    const joinerSeen: AttemptInfo[] = [];
    const first = shared.listBackups(PARAMS, { auth: alice, deadline: T0 + 1000, onAttempt: (a) => firstSeen.push(a) }).catch((e: unknown) => e);
    const attempt = await upstream.attempt(0);
    const joiner = shared.listBackups(PARAMS, { auth: alice, deadline: T0 + 10_000, onAttempt: (a) => joinerSeen.push(a) });

    await jest.advanceTimersByTimeAsync(1000);
    expect(await first).toBeInstanceOf(UpstreamTimeoutError);
    // The client is told the latest deadline of those who asked, read when it checks.
    const deadline = attempt.options.deadline;
    expect(typeof deadline === 'function' ? deadline() : deadline).toBe(T0 + 10_000);
    attempt.answer(page(5));
    expect((await joiner).body.total_count).toBe(5);
    // The first caller had gone: the attempt served only the joiner, so it counts as the joiner's own.
    expect(firstSeen).toEqual([]);
    expect(joinerSeen.map((a) => a.shared ?? false)).toEqual([false]);
  });

  it('runs without a deadline when one caller has none', async () => {
    const { shared, upstream } = setup({ ttlMs: 0, staleMs: 0 });
    const first = shared.listBackups(PARAMS, { auth: alice, deadline: T0 + 1000 }).catch((e: unknown) => e);
    const attempt = await upstream.attempt(0);
    const patient = shared.listBackups(PARAMS, { auth: alice });
    await jest.advanceTimersByTimeAsync(60_000);
    expect(await first).toBeInstanceOf(UpstreamTimeoutError);
    const deadline = attempt.options.deadline;
    expect(typeof deadline === 'function' ? deadline() : deadline).toBeUndefined();
    attempt.answer(page(2));
    expect((await patient).body.total_count).toBe(2);
  });
});

describe('createSharedUpstream(): the cache', () => {
  it('serves a fresh page without calling, then a stale one at once while one refresh runs, then the refreshed one', async () => {
    const { shared, upstream, advance, refreshesEnded, lookups } = setup();
    const first = shared.listBackups(PARAMS, { auth: alice });
    (await upstream.attempt(0)).answer(page(1));
    expect((await first).body.total_count).toBe(1);
    advance(1000); // still fresh
    expect((await shared.listBackups(PARAMS, { auth: alice })).body.total_count).toBe(1);
    expect(upstream.attempts).toHaveLength(1);

    advance(500); // stale: served at once, refreshed in the background, once for both callers
    expect((await shared.listBackups(PARAMS, { auth: alice })).body.total_count).toBe(1);
    expect((await shared.listBackups(PARAMS, { auth: alice })).body.total_count).toBe(1);
    (await upstream.attempt(1)).answer(page(2));
    await refreshesEnded(1);
    expect(upstream.attempts).toHaveLength(2);
    expect((await shared.listBackups(PARAMS, { auth: alice })).body.total_count).toBe(2);
    expect(lookups).toEqual(['miss', 'hit', 'stale', 'stale', 'hit']);
  });

  it('keeps serving the stale page when its refresh fails, and tries again on the next call', async () => {
    const { shared, upstream, advance, refreshesEnded, refreshes } = setup();
    const first = shared.listBackups(PARAMS, { auth: alice });
    (await upstream.attempt(0)).answer(page(1));
    await first;
    advance(1500);
    expect((await shared.listBackups(PARAMS, { auth: alice })).body.total_count).toBe(1);
    (await upstream.attempt(1)).fail(new UpstreamHttpError(503, 'DBS.108000', 'r'));
    await refreshesEnded(1);
    expect(refreshes[0]).toMatch(/refresh failed/);
    expect((await shared.listBackups(PARAMS, { auth: alice })).body.total_count).toBe(1);
    await upstream.attempt(2); // the next refresh
  });

  it('calls every time when the TTL is 0, and stores nothing', async () => {
    const { shared, upstream, store } = setup({ ttlMs: 0, staleMs: 0 });
    const getPage = jest.spyOn(store, 'getPage');
    const setPage = jest.spyOn(store, 'setPage');
    for (let n = 0; n < 2; n++) {
      const answer = shared.listBackups(PARAMS, { auth: alice });
      (await upstream.attempt(n)).answer(page(n));
      expect((await answer).body.total_count).toBe(n);
    }
    expect(upstream.attempts).toHaveLength(2);
    expect(store.identityCount).toBe(1); // the budget is kept
    expect(getPage).not.toHaveBeenCalled();
    expect(setPage).not.toHaveBeenCalled();
  });
});

describe('createSharedUpstream(): the freshness of each page served (HTTP caching)', () => {
  /** Calls with an `onServed` that records what it is told. */
  const served = (shared: UpstreamClient, told: ServedPage[]) => shared.listBackups(PARAMS, { auth: alice, onServed: (p) => told.push(p) });

  it('says the whole TTL for a page just fetched or joined, what is left of it for a cached one, 0 for a stale one', async () => {
    const { shared, upstream, advance, refreshesEnded } = setup();
    const told: ServedPage[] = [];
    const both = Promise.all([served(shared, told), served(shared, told)]);
    (await upstream.attempt(0)).answer(page(1));
    await both;
    expect(told).toEqual([{ freshForMs: 1000 }, { freshForMs: 1000 }]);
    advance(400);
    await served(shared, told);
    expect(told[2]).toEqual({ freshForMs: 600 });
    advance(700); // past the TTL, within the stale time
    await served(shared, told);
    expect(told[3]).toEqual({ freshForMs: 0 });
    (await upstream.attempt(1)).answer(page(2)); // its background refresh tells no one
    await refreshesEnded(1);
    expect(told).toHaveLength(4);
  });

  it('says 0 with the cache off', async () => {
    const { shared, upstream } = setup({ ttlMs: 0, staleMs: 0 });
    const told: ServedPage[] = [];
    const answer = served(shared, told);
    (await upstream.attempt(0)).answer(page(1));
    await answer;
    expect(told).toEqual([{ freshForMs: 0 }]);
  });

  it('never says more than the TTL, even for a page dated ahead of its clock (another replica\'s, through Redis)', async () => {
    const { shared, store } = setup();
    await store.setPage(`${callerIdentity(alice)}|${listBackupsPath(PARAMS)}`, { body: page(3), fetchedAt: 1_000_000 + 5000 }, 10_000);
    const told: ServedPage[] = [];
    expect((await served(shared, told)).body.total_count).toBe(3);
    expect(told).toEqual([{ freshForMs: 1000 }]);
  });
});

describe('createSharedUpstream(): the budget', () => {
  it('refuses calls past the identity\'s budget with BudgetExhaustedError and when to retry; another identity has its own', async () => {
    const { shared, upstream, advance } = setup({ ttlMs: 0, staleMs: 0, budgetPerMinute: 2 });
    for (let n = 0; n < 2; n++) {
      const answer = shared.listBackups({ ...PARAMS, offset: n }, { auth: alice });
      (await upstream.attempt(n)).answer(page(n));
      await answer;
      advance(10_000);
    }
    const refused = await shared.listBackups({ ...PARAMS, offset: 2 }, { auth: alice }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BudgetExhaustedError);
    expect((refused as BudgetExhaustedError).retryAfterSeconds).toBe(40); // the first call leaves the window 40 s from now
    expect(upstream.attempts).toHaveLength(2);
    const other = shared.listBackups(PARAMS, { auth: bob });
    (await upstream.attempt(2)).answer(page(9));
    expect((await other).body.total_count).toBe(9);
  });

  it('counts retries against the budget', async () => {
    const { shared, upstream } = setup({ ttlMs: 0, staleMs: 0, budgetPerMinute: 2 });
    const retried = shared.listBackups(PARAMS, { auth: alice });
    (await upstream.attempt(0)).fail(new UpstreamHttpError(503, 'DBS.108000', 'r'), true);
    (await upstream.attempt(1)).answer(page(1));
    await retried;
    await expect(shared.listBackups({ ...PARAMS, offset: 100 }, { auth: alice })).rejects.toBeInstanceOf(BudgetExhaustedError);
    expect(upstream.attempts).toHaveLength(2);
  });
});

describe('createSharedUpstream(): fresh reads (live polls)', () => {
  it('calls upstream past a fresh cached page, and stores its answer for the next reads', async () => {
    const { shared, upstream, lookups } = setup();
    const first = shared.listBackups(PARAMS, { auth: alice });
    (await upstream.attempt(0)).answer(page(1));
    await first;
    const fresh = shared.listBackups(PARAMS, { auth: alice, fresh: true });
    (await upstream.attempt(1)).answer(page(2));
    expect((await fresh).body.total_count).toBe(2);
    expect((await shared.listBackups(PARAMS, { auth: alice })).body.total_count).toBe(2); // the refreshed page, from the cache
    expect(upstream.attempts).toHaveLength(2);
    expect(lookups).toEqual(['miss', 'miss', 'hit']);
  });

  it('joins an identical call in flight rather than sending a second one', async () => {
    const { shared, upstream } = setup();
    const query = shared.listBackups(PARAMS, { auth: alice });
    const fresh = shared.listBackups(PARAMS, { auth: alice, fresh: true });
    (await upstream.attempt(0)).answer(page(3));
    expect((await Promise.all([query, fresh])).map((r) => r.body.total_count)).toEqual([3, 3]);
    expect(upstream.attempts).toHaveLength(1);
  });

  it('is charged to the budget, and sends nothing when the budget cannot pay', async () => {
    const { shared, upstream } = setup({ budgetPerMinute: 1 });
    const first = shared.listBackups(PARAMS, { auth: alice, fresh: true });
    (await upstream.attempt(0)).answer(page(1));
    await first;
    await expect(shared.listBackups(PARAMS, { auth: alice, fresh: true })).rejects.toBeInstanceOf(BudgetExhaustedError);
    expect(upstream.attempts).toHaveLength(1);
  });
});
