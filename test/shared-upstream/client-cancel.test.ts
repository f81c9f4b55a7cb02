/**
 * The shared upstream when requesters leave (their clients disconnected): a shared call is
 * cancelled only when its last waiter has left, never while a background refresh is part of it,
 * and a request arriving after the cancellation starts a call of its own. A scripted client
 * whose attempts wait until the test answers them; no real waiting.
 */
import { createSharedUpstream } from '../../src/shared-upstream/client';
import { MemoryStore } from '../../src/shared-upstream/memory-store';
import type { CallOptions, ListBackupsResult, UpstreamClient } from '../../src/upstream/client';
import { UpstreamCallCancelledError } from '../../src/upstream/errors';
import type { ListBackupsParams } from '../../src/upstream/url';
import type { ListBackupsResponseDTO } from '../../src/upstream/wire';

const PARAMS: ListBackupsParams = { projectId: 'p1', instanceId: 'i1', offset: 0, limit: 100 };
const alice = { kind: 'token', token: 'alice' } as const;
const page = (total: number): ListBackupsResponseDTO => ({ backups: [], total_count: total });

interface Call { options: CallOptions; answer(body: ListBackupsResponseDTO): void }

/** A client whose every call waits for the test's answer, and ends as cancelled when its signal aborts (as the real one does). */
function setup(ttlMs = 0) {
  const calls: Call[] = [];
  const client: UpstreamClient = {
    listBackups: (_params, options) => new Promise<ListBackupsResult>((resolve, reject) => {
      calls.push({ options, answer: (body) => resolve({ body }) });
      options.signal?.addEventListener('abort', () => reject(new UpstreamCallCancelledError()), { once: true });
    }),
    close() {},
  };
  let clock = 1_000_000;
  const shared = createSharedUpstream({ client, store: new MemoryStore(undefined, { now: () => clock }), ttlMs, staleMs: ttlMs, budgetPerMinute: 1000, now: () => clock });
  return { shared, calls, advance: (ms: number) => { clock += ms; } };
}

/** Lets the shared upstream's awaits (budget, store) run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('createSharedUpstream(): requesters that leave', () => {
  it('cancels the call when its only waiter leaves', async () => {
    const { shared, calls } = setup();
    const left = new AbortController();
    const answer = shared.listBackups(PARAMS, { auth: alice, signal: left.signal });
    await settle();
    left.abort();
    await expect(answer).rejects.toBeInstanceOf(UpstreamCallCancelledError);
    expect(calls[0]!.options.signal?.aborted).toBe(true);
  });

  it('goes on while another waiter stays, and answers it', async () => {
    const { shared, calls } = setup();
    const left = new AbortController();
    const leaving = shared.listBackups(PARAMS, { auth: alice, signal: left.signal });
    const staying = shared.listBackups(PARAMS, { auth: alice, signal: new AbortController().signal });
    await settle();
    left.abort();
    await expect(leaving).rejects.toBeInstanceOf(UpstreamCallCancelledError);
    expect(calls[0]!.options.signal?.aborted).toBe(false);
    calls[0]!.answer(page(3));
    expect((await staying).body.total_count).toBe(3);
    expect(calls).toHaveLength(1);
  });

  it('starts a call of its own for a request arriving after the cancellation', async () => {
    const { shared, calls } = setup();
    const left = new AbortController();
    const leaving = shared.listBackups(PARAMS, { auth: alice, signal: left.signal });
    await settle();
    left.abort();
    const next = shared.listBackups(PARAMS, { auth: alice });
    await expect(leaving).rejects.toBeInstanceOf(UpstreamCallCancelledError);
    await settle();
    expect(calls).toHaveLength(2);
    calls[1]!.answer(page(4));
    expect((await next).body.total_count).toBe(4);
  });

  it('never cancels a background refresh, even when a request that joined it leaves', async () => {
    const { shared, calls, advance } = setup(1000);
    const first = shared.listBackups(PARAMS, { auth: alice });
    await settle();
    calls[0]!.answer(page(1));
    await first;
    advance(1500); // stale: served at once, refreshed in the background
    expect((await shared.listBackups(PARAMS, { auth: alice })).body.total_count).toBe(1);
    advance(1000); // past stale too: this request joins the refresh in flight, then leaves
    const left = new AbortController();
    const joining = shared.listBackups(PARAMS, { auth: alice, signal: left.signal });
    await settle();
    left.abort();
    await expect(joining).rejects.toBeInstanceOf(UpstreamCallCancelledError);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.options.signal?.aborted).toBe(false);
  });

  it('makes no call for a request whose client left before it asked', async () => {
    const { shared, calls } = setup();
    await expect(shared.listBackups(PARAMS, { auth: alice, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(UpstreamCallCancelledError);
    await settle();
    expect(calls).toHaveLength(0);
  });
});
