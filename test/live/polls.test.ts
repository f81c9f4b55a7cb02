/**
 * LivePolls: one shared poll per key (identity, project, instance, filter), paced within half the
 * identity's budget, ended by NOT_FOUND/UNAUTHENTICATED/FORBIDDEN, retried otherwise. Real
 * contexts, BackupService and shared upstream (cache, coalescing, budget) over a scripted
 * upstream that records every call; a manual scheduler drives the polls, so nothing waits.
 */
import type { GraphQLError } from 'graphql';

import { loadConfig } from '../../src/config';
import { createContextFactory, type GatewayContext } from '../../src/context';
import { createLogger } from '../../src/logger';
import { LivePolls, type LivePollOutcome } from '../../src/live/polls';
import type { BackupChangeEvent } from '../../src/live/source';
import { createSharedUpstream } from '../../src/shared-upstream/client';
import { MemoryStore } from '../../src/shared-upstream/memory-store';
import { UpstreamHttpError } from '../../src/upstream/errors';
import { backupDto as dto, scriptedUpstream } from '../helpers/live';
import { ManualScheduler, settle } from '../helpers/scheduler';

const INTERVAL = 10_000;

function setup({ budgetPerMinute = 60, maxKeys = 1000 } = {}) {
  const scheduler = new ManualScheduler();
  const upstream = scriptedUpstream();
  const shared = createSharedUpstream({
    client: upstream.client, store: new MemoryStore(undefined, { now: () => scheduler.now() }), ttlMs: 5000, staleMs: 5000, budgetPerMinute, now: () => scheduler.now(),
  });
  const config = loadConfig({ UPSTREAM_BUDGET_PER_MINUTE: String(budgetPerMinute) });
  const contexts = createContextFactory({ config, client: shared, endpoint: 'http://127.0.0.1:9', defaultProjectId: 'p1', logger: createLogger('silent') });
  const context = (token = 'alice'): GatewayContext => contexts({ requestId: 'req', started: 0, header: (name) => (name === 'x-auth-token' ? token : undefined) });
  const outcomes: LivePollOutcome[] = [];
  const pollers: number[] = [];
  const polls = new LivePolls({
    intervalMs: INTERVAL, budgetPerMinute, maxKeys, scheduler, onPoll: (outcome) => outcomes.push(outcome), onPollers: (active) => pollers.push(active),
  });
  return { polls, scheduler, upstream, context, outcomes, pollers, shared };
}

/** Everything a watcher has received so far, without waiting for more. */
async function received(watcher: AsyncIterableIterator<BackupChangeEvent>): Promise<string[]> {
  const seen: string[] = [];
  for (;;) {
    const next = await Promise.race([watcher.next(), settle().then(() => 'none' as const)]);
    if (next === 'none' || next.done) return seen;
    seen.push(`${next.value.kind} ${next.value.backup.id} total=${next.value.totalCount}`);
  }
}

/** The error a watcher ends with (its next `next()` rejects). */
const endError = async (watcher: AsyncIterableIterator<BackupChangeEvent>): Promise<GraphQLError> => watcher.next().then(
  (result) => { throw new Error(`expected the watch to end with an error, got ${JSON.stringify(result)}`); },
  (error: GraphQLError) => error,
);

describe('LivePolls: one poll per key', () => {
  it('makes one fresh upstream call per interval for 200 watchers of one key, and tells each of them every change', async () => {
    const { polls, scheduler, upstream, context } = setup();
    upstream.rows.set('i1', [dto('i1', 2), dto('i1', 1)]);
    const watchers = Array.from({ length: 200 }, () => polls.watch(context(), 'i1', {}));
    await scheduler.advance(0); // the baseline, at once
    expect(upstream.calls).toEqual([{ projectId: 'p1', instanceId: 'i1', offset: 0, limit: 100, fresh: true, token: 'alice' }]);
    upstream.rows.set('i1', [dto('i1', 3), dto('i1', 2, 'FAILED'), dto('i1', 1)]);
    await scheduler.advance(INTERVAL);
    expect(upstream.calls).toHaveLength(2);
    const seen = await Promise.all(watchers.map(received));
    expect(new Set(seen.map((s) => JSON.stringify(s)))).toEqual(new Set([JSON.stringify(['ADDED i1-b3 total=3', 'UPDATED i1-b2 total=3'])]));
    await scheduler.advance(3 * INTERVAL);
    expect(upstream.calls).toHaveLength(5);
    expect(polls.activeKeys).toBe(1);
  });

  it('stops polling when the last watcher leaves, and says so', async () => {
    const { polls, scheduler, upstream, context, pollers } = setup();
    const watchers = Array.from({ length: 200 }, () => polls.watch(context(), 'i1', {}));
    await scheduler.advance(INTERVAL);
    expect(upstream.calls).toHaveLength(2);
    await Promise.all(watchers.slice(1).map((w) => w.return!()));
    await scheduler.advance(INTERVAL);
    expect(upstream.calls).toHaveLength(3); // one watcher still there
    await watchers[0]!.return!();
    await scheduler.advance(10 * INTERVAL);
    expect(upstream.calls).toHaveLength(3);
    expect(polls.activeKeys).toBe(0);
    expect(pollers).toEqual([1, 0]);
    expect(await watchers[0]!.next()).toEqual({ done: true, value: undefined });
  });

  it('cancels the poll in flight when the last watcher leaves', async () => {
    const { polls, scheduler, context, shared } = setup();
    let signalled: { aborted: boolean } | undefined;
    const listBackups = jest.spyOn(shared, 'listBackups').mockImplementation((_params, options) => {
      signalled = options.signal;
      return new Promise(() => undefined);
    });
    const watcher = polls.watch(context(), 'i1', {});
    await scheduler.advance(0);
    expect(signalled?.aborted).toBe(false);
    await watcher.return!();
    expect(signalled?.aborted).toBe(true);
    await scheduler.advance(5 * INTERVAL);
    expect(listBackups).toHaveBeenCalledTimes(1);
  });

  it('polls each identity, project, instance and filter apart', async () => {
    const { polls, scheduler, upstream, context } = setup();
    polls.watch(context('alice'), 'i1', {});
    polls.watch(context('alice'), 'i1', {});
    polls.watch(context('bob'), 'i1', {});
    polls.watch(context('alice'), 'i2', {});
    polls.watch(context('alice'), 'i1', { status: 'BUILDING' });
    await scheduler.advance(0);
    expect(polls.activeKeys).toBe(4);
    expect(upstream.calls.map((c) => `${c.token} ${c.instanceId} ${c.status ?? ''}`).sort()).toEqual(['alice i1 ', 'alice i1 BUILDING', 'alice i2 ', 'bob i1 ']);
  });

  it('starts afresh when a key is watched again after its last watcher left: a new baseline, no stale events', async () => {
    const { polls, scheduler, upstream, context } = setup();
    upstream.rows.set('i1', [dto('i1', 1)]);
    await polls.watch(context(), 'i1', {}).return!();
    await scheduler.advance(0);
    upstream.rows.set('i1', [dto('i1', 2), dto('i1', 1)]);
    const again = polls.watch(context(), 'i1', {});
    await scheduler.advance(INTERVAL);
    expect(await received(again)).toEqual([]);
  });
});

describe('LivePolls: the budget', () => {
  /** The most upstream calls in any minute, its both ends included (stricter than the budget's window, which leaves out a call exactly a minute old). */
  const busiestMinute = (times: number[]): number => Math.max(...times.map((t) => times.filter((u) => u >= t - 60_000 && u <= t).length));

  it.each([
    ['all at once', 0],
    ['one every 2 s (the early ones polled at shorter intervals before the others came)', 2000],
  ])('keeps 30 instances of one identity within half its budget, each still polled about once a minute: watched %s', async (_how, everyMs) => {
    const { polls, scheduler, upstream, context, outcomes } = setup({ budgetPerMinute: 60 });
    const times: number[] = [];
    const record = upstream.client.listBackups.bind(upstream.client);
    upstream.client.listBackups = (params, options) => { times.push(scheduler.now()); return record(params, options); };
    for (let n = 0; n < 30; n++) {
      polls.watch(context(), `i${n}`, {});
      await scheduler.advance(everyMs);
    }
    await scheduler.advance(10 * 60_000);
    expect(busiestMinute(times)).toBeLessThanOrEqual(30);
    const perInstance = [...new Set(upstream.calls.map((c) => c.instanceId))].map((i) => upstream.calls.filter((c) => c.instanceId === i).length);
    expect(perInstance).toHaveLength(30);
    expect(Math.min(...perInstance)).toBeGreaterThanOrEqual(9);
    expect(outcomes.filter((o) => o !== 'ok')).toEqual([]);
  });

  it('stretches the interval of one identity\'s keys only: another identity polls at the base interval', async () => {
    const { polls, scheduler, upstream, context } = setup({ budgetPerMinute: 60 });
    for (let n = 0; n < 30; n++) polls.watch(context('alice'), `i${n}`, {});
    polls.watch(context('bob'), 'i0', {});
    await scheduler.advance(60_000);
    expect(upstream.calls.filter((c) => c.token === 'bob')).toHaveLength(7); // at 0, 10 s, ... 60 s
  });

  it('skips a poll the budget cannot pay, sending nothing, and polls again once it can', async () => {
    const { polls, scheduler, upstream, context, outcomes, shared } = setup({ budgetPerMinute: 4 }); // polls: 2 a minute, every 30 s
    upstream.rows.set('i1', [dto('i1', 1)]);
    const watcher = polls.watch(context(), 'i1', {});
    await scheduler.advance(0);
    // The identity's queries spend the rest of its budget.
    const auth = { kind: 'token', token: 'alice' } as const;
    for (let offset = 1; offset <= 3; offset++) await shared.listBackups({ projectId: 'p1', instanceId: 'i1', offset, limit: 1 }, { auth });
    expect(upstream.calls).toHaveLength(4);
    await scheduler.advance(30_000);
    expect(upstream.calls).toHaveLength(4);
    expect(outcomes).toEqual(['ok', 'skipped']);
    upstream.rows.set('i1', [dto('i1', 2), dto('i1', 1)]);
    await scheduler.advance(31_000); // the first calls have left the budget's minute
    expect(upstream.calls).toHaveLength(5);
    expect(outcomes).toEqual(['ok', 'skipped', 'ok']);
    expect(await received(watcher)).toEqual(['ADDED i1-b2 total=2']);
  });
});

describe('LivePolls: failures', () => {
  it.each([
    [404, 'DBS.200823', 'NOT_FOUND'], [401, 'APIGW.0301', 'UNAUTHENTICATED'], [403, 'DBS.200001', 'FORBIDDEN'],
  ])('ends every watcher with %s (%s) as %s, and stops polling', async (status, errorCode, code) => {
    const { polls, scheduler, upstream, context, outcomes } = setup();
    const watchers = [polls.watch(context(), 'i1', {}), polls.watch(context(), 'i1', {})];
    await scheduler.advance(0);
    upstream.failures.set('i1', new UpstreamHttpError(status, errorCode, 'r'));
    await scheduler.advance(INTERVAL);
    for (const watcher of watchers) {
      const error = await endError(watcher);
      expect(error.extensions).toMatchObject({ code, upstream: { status, errorCode } });
      expect(await watcher.next()).toEqual({ done: true, value: undefined });
    }
    await scheduler.advance(5 * INTERVAL);
    expect(upstream.calls).toHaveLength(2);
    expect(polls.activeKeys).toBe(0);
    expect(outcomes).toEqual(['ok', 'ended']);
  });

  it('retries other failures at the next interval, counting them, and goes on from the last window seen', async () => {
    const { polls, scheduler, upstream, context, outcomes } = setup();
    upstream.rows.set('i1', [dto('i1', 1)]);
    const watcher = polls.watch(context(), 'i1', {});
    await scheduler.advance(0);
    upstream.failures.set('i1', new UpstreamHttpError(503, 'DBS.108000', 'r'));
    await scheduler.advance(2 * INTERVAL);
    expect(outcomes).toEqual(['ok', 'failed', 'failed']);
    upstream.failures.delete('i1');
    upstream.rows.set('i1', [dto('i1', 2), dto('i1', 1)]);
    await scheduler.advance(INTERVAL);
    expect(outcomes).toEqual(['ok', 'failed', 'failed', 'ok']);
    expect(await received(watcher)).toEqual(['ADDED i1-b2 total=2']);
    expect(upstream.calls).toHaveLength(4);
  });

  it('refuses a bad instance id and missing credentials before any call, through the iterator', async () => {
    const { polls, scheduler, upstream, context } = setup();
    expect((await endError(polls.watch(context(), 'no such id!', {}))).extensions.code).toBe('BAD_USER_INPUT');
    expect((await endError(polls.watch(context(' '), 'i1', {}))).extensions.code).toBe('UNAUTHENTICATED');
    await scheduler.advance(INTERVAL);
    expect(upstream.calls).toEqual([]);
    expect(polls.activeKeys).toBe(0);
  });
});

describe('LivePolls: MAX_LIVE_WATCHES', () => {
  it('refuses a watch of one key more than the cap with RATE_LIMITED, while more watchers of a polled key are welcome', async () => {
    const { polls, scheduler, upstream, context } = setup({ maxKeys: 2 });
    const first = polls.watch(context(), 'i1', {});
    polls.watch(context(), 'i2', {});
    const refused = polls.watch(context(), 'i3', {});
    const error = await endError(refused);
    expect(error.extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 10 });
    polls.watch(context(), 'i1', {});
    await scheduler.advance(0);
    expect(upstream.calls.map((c) => c.instanceId).sort()).toEqual(['i1', 'i2']);
    await first.return!(); // i1 still has a watcher: still no room
    expect((await endError(polls.watch(context(), 'i3', {}))).extensions.code).toBe('RATE_LIMITED');
  });

  it('has room again once a key stops', async () => {
    const { polls, context } = setup({ maxKeys: 1 });
    await polls.watch(context(), 'i1', {}).return!();
    const watcher = polls.watch(context(), 'i2', {});
    expect(polls.activeKeys).toBe(1);
    await watcher.return!();
  });
});

describe('LivePolls.close()', () => {
  it('ends every watch without an error and stops every poll', async () => {
    const { polls, scheduler, upstream, context } = setup();
    const watchers = [polls.watch(context(), 'i1', {}), polls.watch(context('bob'), 'i1', {})];
    await scheduler.advance(0);
    polls.close();
    for (const watcher of watchers) expect(await watcher.next()).toEqual({ done: true, value: undefined });
    await scheduler.advance(5 * INTERVAL);
    expect(upstream.calls).toHaveLength(2);
    expect(polls.activeKeys).toBe(0);
  });
});
