/**
 * Issue 19's acceptance over the real composition (startApp's LivePolls over the simulator), with
 * the real graphql-ws and graphql-sse clients: each kind of event after the matching simulator
 * change; 200 subscribers of one key costing one upstream call per poll, and none after they
 * leave; 30 keys of one identity within half its budget with no upstream 429; a refused origin
 * making no upstream call; a missing instance ending with NOT_FOUND after one call. The two
 * replicas sharing Redis are in live-replicas.test.ts.
 *
 * Nothing here waits for a time: each wait is for an event, a count in the simulator's call log
 * or a value of the gateway's /metrics.
 */
import { createClient as createSseClient } from 'graphql-sse';
import type { Client } from 'graphql-ws';

import { rawRequest } from '../helpers/http';
import { liveClient, metric, until, WATCH } from '../helpers/live-clients';
import { startStack, type Stack } from '../helpers/stack';

type Change = { kind: string; totalCount: number; backup: { id: string; instanceId: string; status: string } };
type Events = AsyncIterableIterator<{ data?: { backupChanges: Change } | null; errors?: unknown }>;

const admin = async (stack: Stack, path: string, method: string, body?: unknown): Promise<any> => {
  const res = await rawRequest(stack.sim.url, `/__admin/instances/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.json();
};

const okPolls = (stack: Stack): Promise<number> => metric(stack.gateway.url, 'live_polls_total', 'outcome="ok"');
const subscriptions = (stack: Stack, transport: 'ws' | 'sse'): Promise<number> => metric(stack.gateway.url, 'graphql_active_subscriptions', `transport="${transport}"`);
const pollers = (stack: Stack): Promise<number> => metric(stack.gateway.url, 'live_pollers');

async function nextChange(events: Events): Promise<Change> {
  const { value, done } = await events.next();
  if (done || !value.data) throw new Error(`expected a change, got ${JSON.stringify(value)}`);
  return value.data.backupChanges;
}

/** A gateway and simulator for one test, closed after it with every client the test opened. */
function withStack(options: Parameters<typeof startStack>[0]): { stack: Stack; clients: Client[] } {
  const state = { clients: [] } as unknown as { stack: Stack; clients: Client[] };
  beforeEach(async () => {
    state.clients = [];
    state.stack = await startStack(options);
  });
  afterEach(async () => {
    await Promise.all(state.clients.map((c) => c.dispose()));
    await state.stack.close();
  });
  return state;
}

describe('each kind of event after the matching simulator change', () => {
  const on = withStack({ env: { LIVE_POLL_INTERVAL_MS: '100' } });

  it('ADDED after a new backup, UPDATED after its status changes, REMOVED after it is deleted, over graphql-ws and graphql-sse', async () => {
    const { stack } = on;
    const instanceId = stack.sim.store.list()[1]!.id;
    const ws = liveClient(stack.gateway.url);
    on.clients.push(ws);
    const sse = createSseClient({ url: `${stack.gateway.url}/graphql`, retryAttempts: 0 });
    try {
      const overWs = ws.iterate({ query: WATCH, variables: { id: instanceId } }) as Events;
      const overSse = sse.iterate({ query: WATCH, variables: { id: instanceId } }) as Events;
      const firstWs = nextChange(overWs);
      const firstSse = nextChange(overSse);
      // Both watch the key, and its first poll (the baseline) has read the rows as they are.
      await until(async () => (await subscriptions(stack, 'ws')) === 1 && (await subscriptions(stack, 'sse')) === 1 && (await okPolls(stack)) >= 1);

      const [added] = await admin(stack, `${instanceId}/backups`, 'POST', { status: 'BUILDING' });
      for (const change of [await firstWs, await firstSse]) {
        expect(change).toEqual({ kind: 'ADDED', totalCount: 241, backup: { id: added.id, instanceId, status: 'BUILDING' } });
      }

      await admin(stack, `${instanceId}/backups/${added.id}`, 'PATCH', { status: 'COMPLETED' });
      for (const events of [overWs, overSse]) {
        expect(await nextChange(events)).toEqual({ kind: 'UPDATED', totalCount: 241, backup: { id: added.id, instanceId, status: 'COMPLETED' } });
      }

      await admin(stack, `${instanceId}/backups/${added.id}`, 'DELETE');
      for (const events of [overWs, overSse]) {
        // As last seen; the count is the one of the poll that saw it go.
        expect(await nextChange(events)).toEqual({ kind: 'REMOVED', totalCount: 240, backup: { id: added.id, instanceId, status: 'COMPLETED' } });
      }
      await overSse.return!();
    } finally {
      sse.dispose();
    }
  });
});

describe('one poll for all watchers of a key', () => {
  const on = withStack({ env: { LIVE_POLL_INTERVAL_MS: '100' } });

  /**
   * Samples the ok polls, the instance's calls, the ok polls again, until both samples agree:
   * then no poll answered while the log was read, and the calls are those polls plus at most the
   * one in flight. Every sample must be within that; the last one must be exact.
   */
  async function expectOneCallPerPoll(stack: Stack, instanceId: string): Promise<number> {
    for (;;) {
      const before = await okPolls(stack);
      const { count } = await stack.calls(instanceId);
      const after = await okPolls(stack);
      expect(count).toBeGreaterThanOrEqual(before);
      expect(count).toBeLessThanOrEqual(after + 1);
      if (before === after && count === before) return count;
    }
  }

  it('200 subscribers on 20 connections cost one upstream call per poll, each gets the change, and none after they leave', async () => {
    const { stack } = on;
    const instanceId = stack.sim.store.list()[1]!.id;
    const watches: Events[] = [];
    for (let c = 0; c < 20; c++) {
      const client = liveClient(stack.gateway.url);
      on.clients.push(client);
      for (let s = 0; s < 10; s++) watches.push(client.iterate({ query: WATCH, variables: { id: instanceId } }) as Events);
    }
    const firsts = watches.map(nextChange);
    await until(async () => (await subscriptions(stack, 'ws')) === 200 && (await okPolls(stack)) >= 1);
    expect(await pollers(stack)).toBe(1);

    const [added] = await admin(stack, `${instanceId}/backups`, 'POST', {});
    for (const change of await Promise.all(firsts)) expect(change).toMatchObject({ kind: 'ADDED', backup: { id: added.id } });
    // A few more polls, so that a second call per poll (or per connection) would show.
    const seen = await okPolls(stack);
    await until(async () => (await okPolls(stack)) >= seen + 3);
    const calls = await expectOneCallPerPoll(stack, instanceId);
    expect(calls).toBeGreaterThanOrEqual(seen + 3);

    await Promise.all(on.clients.map((c) => c.dispose()));
    await until(async () => (await pollers(stack)) === 0 && (await subscriptions(stack, 'ws')) === 0);
    const { count: afterLeaving } = await stack.calls(instanceId);
    // At most the poll in flight when the last one left (aborted, so not counted ok).
    expect(afterLeaving - (await okPolls(stack))).toBeLessThanOrEqual(1);

    // Another key's polls, at the same interval, are the clock: three of them, and still no call for the first.
    const other = stack.sim.store.list()[2]!.id;
    const witness = liveClient(stack.gateway.url);
    on.clients.push(witness);
    void witness.iterate({ query: WATCH, variables: { id: other } }).next().catch(() => undefined);
    await until(async () => (await stack.calls(other)).count >= 3);
    expect((await stack.calls(instanceId)).count).toBe(afterLeaving);
  });
});

describe('an identity watching 30 keys, with a budget of 60 a minute and the upstream throttling at 60', () => {
  const on = withStack({
    // 2 s: one key's interval at this budget anyway (half of 60 a minute); a shorter base would
    // only shorten each poll's timeout (its interval), and 30 baselines at once take longer here.
    env: { LIVE_POLL_INTERVAL_MS: '2000', UPSTREAM_BUDGET_PER_MINUTE: '60' },
    simulator: { rateLimitPerMinute: 60, auth: { tokens: ['alice', 'witness'] } },
  });

  it('polls within half the budget, skips none and meets no 429', async () => {
    const { stack } = on;
    const instances = stack.sim.store.list();
    // 30 distinct keys: the simulator has 7 instances, so each watched with its own filter.
    const keys = Array.from({ length: 30 }, (_, k) => ({
      id: instances[k % instances.length]!.id,
      filter: { beginTime: `2020-01-01T00:00:${String(k).padStart(2, '0')}Z`, endTime: '2030-01-01T00:00:00Z' },
    }));
    const clients = Array.from({ length: 3 }, () => liveClient(stack.gateway.url, { connectionParams: { 'X-Auth-Token': 'alice' } }));
    on.clients.push(...clients);
    // One after the other, each once the previous one's baseline was sent: the first keys' intervals
    // are computed with few keys (2 s for the first), so only the minute's log of calls (pace.ts)
    // keeps them from polling again within the window below.
    for (const [k, key] of keys.entries()) {
      void clients[k % 3]!.iterate({ query: WATCH, variables: key }).next().catch(() => undefined);
      await until(async () => (await stack.calls()).count >= k + 1);
    }
    // The simulator names a caller by a hash of its token; alice is the only one so far.
    const aliceCaller = (await stack.calls()).calls[0].caller;
    const callsOf = async (alice: boolean): Promise<any[]> => (await stack.calls()).calls.filter((call) => (call.caller === aliceCaller) === alice);

    // Another identity's poll (one key: every 2 s, half of its own budget of 60) is the clock:
    // after two of its intervals, a pace of more than 30 calls a minute for alice would show.
    const witness = liveClient(stack.gateway.url, { connectionParams: { 'X-Auth-Token': 'witness' } });
    on.clients.push(witness);
    void witness.iterate({ query: WATCH, variables: { id: instances[0]!.id } }).next().catch(() => undefined);
    await until(async () => (await callsOf(false)).length >= 3);

    const alice = await callsOf(true);
    expect(alice.map((call) => call.query)).toHaveLength(30);
    // Each key's baseline, and no second poll of any: the interval stretched to 30 keys × 2 s.
    expect(new Set(alice.map((call) => call.query)).size).toBe(30);
    expect(await metric(stack.gateway.url, 'live_polls_total', 'outcome="failed"')).toBe(0);
    const all = (await stack.calls()).calls;
    expect(all.filter((call) => call.status === 429)).toEqual([]);
    expect(await metric(stack.gateway.url, 'live_polls_skipped_total')).toBe(0);
    expect(await pollers(stack)).toBe(31);
  });
});

describe('a refused origin', () => {
  const on = withStack({ env: { LIVE_POLL_INTERVAL_MS: '100', CORS_ORIGINS: 'https://console.example' } });

  it('gets 403 on the upgrade, and the simulator sees no call; an allowed origin is served', async () => {
    const { stack } = on;
    const instanceId = stack.sim.store.list()[1]!.id;
    const refusedStatus = new Promise<number>((resolve) => {
      const client = liveClient(stack.gateway.url, { origin: 'https://evil.example' });
      on.clients.push(client);
      // ws reports the refused upgrade as "Unexpected server response: 403".
      client.on('error', (error) => resolve(/\b403\b/.test((error as { message?: string }).message ?? '') ? 403 : 0));
      void client.iterate({ query: WATCH, variables: { id: instanceId } }).next().catch(() => undefined);
    });
    expect(await refusedStatus).toBe(403);
    expect((await stack.calls()).count).toBe(0);
    expect(await metric(stack.gateway.url, 'live_polls_total', 'outcome="ok"')).toBe(0);

    // The same subscription from the allowed origin does call: the zero above is the refusal's.
    const allowed = liveClient(stack.gateway.url, { origin: 'https://console.example' });
    on.clients.push(allowed);
    void allowed.iterate({ query: WATCH, variables: { id: instanceId } }).next().catch(() => undefined);
    await until(async () => (await stack.calls(instanceId)).count >= 1);
  });
});

describe('a missing instance', () => {
  const on = withStack({ env: { LIVE_POLL_INTERVAL_MS: '100' } });

  it('ends the subscription with NOT_FOUND after exactly one upstream call', async () => {
    const { stack } = on;
    const missing = 'ffffffffffffffffffffffffffffffffin01';
    const client = liveClient(stack.gateway.url);
    on.clients.push(client);
    const events = client.iterate({ query: WATCH, variables: { id: missing } }) as Events;
    const { value } = await events.next();
    expect(value).toEqual({ data: null, errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'NOT_FOUND' }) })] });
    expect((await events.next()).done).toBe(true);
    await until(async () => (await pollers(stack)) === 0);
    expect(await metric(stack.gateway.url, 'live_polls_total', 'outcome="ended"')).toBe(1);
    expect((await stack.calls(missing)).calls.map((call) => call.status)).toEqual([404]);
  });
});
