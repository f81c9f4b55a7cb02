/**
 * The upstream as every request shares it: identical calls in flight are sent once, pages are
 * cached per caller identity, and each identity has an upstream budget (the cloud throttles at
 * 60 calls per minute per user). Same interface as the client it wraps, so the per-request
 * service does not know it is there.
 */
import { BudgetExhaustedError } from '../errors/domain';
import type { Logger } from '../logger';
import { UpstreamTimeoutError } from '../upstream/errors';
import { callerIdentity, type AttemptInfo, type CallOptions, type ListBackupsResult, type UpstreamClient } from '../upstream/client';
import { listBackupsPath, type ListBackupsParams } from '../upstream/url';
import type { BudgetAnswer, SharedStore } from './store';

export interface SharedUpstreamOptions {
  client: UpstreamClient;
  store: SharedStore;
  /** A cached page is fresh this long; 0 turns the cache off (coalescing and budget stay). */
  ttlMs: number;
  /** Past its TTL, a page is still served this long while one refresh runs in the background. */
  staleMs: number;
  /** Upstream calls per caller identity per minute, retries included. */
  budgetPerMinute: number;
  now?: () => number;
  logger?: Logger;
  /** Told, once per call, whether it was a cache hit, a stale hit, a miss (it called upstream) or coalesced (it joined a call in flight): metrics. */
  onLookup?: (outcome: 'hit' | 'stale' | 'miss' | 'coalesced') => void;
  /** Told of every budget decision, by identity (metrics: by identity class only). */
  onBudget?: (identity: string, answer: BudgetAnswer) => void;
}

/** One request waiting on a shared call. */
interface Waiter {
  /** Epoch ms (`Date.now()`, as the client reads deadlines); undefined: waits as long as the call runs. */
  deadline: number | undefined;
  onAttempt?: (attempt: AttemptInfo) => void;
}

/** An upstream call in flight, shared by every request for the same key while it runs. */
interface SharedCall {
  promise: Promise<ListBackupsResult>;
  /** Requests waiting on it, in the order they came; the first is the one it is made for now. */
  waiters: Waiter[];
  /**
   * The latest deadline of every request that asked for it (Infinity for one without): the
   * call goes on, retries included, as long as someone may still wait for it. A request that
   * gave up has passed its deadline, so it never holds the call longer than a waiter does.
   */
  latestDeadline: number;
}

const deadlineOf = (options: CallOptions): number | undefined => (typeof options.deadline === 'function' ? options.deadline() : options.deadline);

export function createSharedUpstream(options: SharedUpstreamOptions): UpstreamClient {
  const { client, store, ttlMs, staleMs, budgetPerMinute, now = Date.now, logger, onLookup, onBudget } = options;
  const inFlight = new Map<string, SharedCall>();

  function startCall(identity: string, key: string, params: ListBackupsParams, callOptions: CallOptions): SharedCall {
    const beforeAttempt = async (): Promise<void> => {
      const budget = await store.takeBudget(identity, budgetPerMinute, now());
      onBudget?.(identity, budget);
      if (!budget.ok) throw new BudgetExhaustedError(budget.retryAfterSeconds);
    };
    const call: SharedCall = { promise: undefined as never, waiters: [], latestDeadline: deadlineOf(callOptions) ?? Number.POSITIVE_INFINITY };
    // Each attempt is told to every request waiting: as its own to the first, as shared to the others.
    const onAttempt = (attempt: AttemptInfo): void => {
      call.waiters.forEach((waiter, i) => waiter.onAttempt?.(i === 0 ? attempt : { ...attempt, shared: true }));
    };
    const deadline = (): number | undefined => (Number.isFinite(call.latestDeadline) ? call.latestDeadline : undefined);
    call.promise = (async () => {
      const result = await client.listBackups(params, { ...callOptions, beforeAttempt, onAttempt, deadline });
      if (ttlMs > 0) await store.setPage(key, { body: result.body, requestId: result.requestId, fetchedAt: now() }, ttlMs + staleMs);
      return result;
    })().finally(() => inFlight.delete(key));
    inFlight.set(key, call);
    return call;
  }

  /**
   * One upstream call for `key`, shared by everyone who asks while it is in flight. Each request
   * waits until its own deadline at most (then UpstreamTimeoutError, while the call goes on for
   * the others); a background refresh (`waits: false`) lends the call its deadline but waits on nothing.
   */
  function fetchShared(identity: string, key: string, params: ListBackupsParams, callOptions: CallOptions, waits: boolean): Promise<ListBackupsResult> {
    const waiter: Waiter = { deadline: deadlineOf(callOptions), onAttempt: callOptions.onAttempt };
    let call = inFlight.get(key);
    if (call) {
      call.latestDeadline = Math.max(call.latestDeadline, waiter.deadline ?? Number.POSITIVE_INFINITY);
      if (waits) onLookup?.('coalesced');
    } else {
      call = startCall(identity, key, params, callOptions);
      if (waits) onLookup?.('miss');
    }
    return waits ? waitOn(call, waiter) : call.promise;
  }

  function waitOn(call: SharedCall, waiter: Waiter): Promise<ListBackupsResult> {
    call.waiters.push(waiter);
    const leave = (): void => {
      const i = call.waiters.indexOf(waiter);
      if (i >= 0) call.waiters.splice(i, 1);
    };
    return new Promise((resolve, reject) => {
      const timer = waiter.deadline === undefined ? undefined : setTimeout(() => {
        leave();
        reject(new UpstreamTimeoutError(0)); // this request's deadline; the call goes on for the others
      }, Math.max(0, waiter.deadline - Date.now()));
      call.promise.then(
        (result) => { clearTimeout(timer); leave(); resolve(result); },
        (error: unknown) => { clearTimeout(timer); leave(); reject(error); },
      );
    });
  }

  return {
    async listBackups(params, callOptions) {
      // Never shared between identities: the key starts with the caller's (hashed) identity.
      const identity = callerIdentity(callOptions.auth);
      const key = `${identity}|${listBackupsPath(params)}`;
      if (ttlMs > 0) {
        const cached = await store.getPage(key);
        const age = cached ? now() - cached.fetchedAt : Number.POSITIVE_INFINITY;
        if (cached && age <= ttlMs) {
          onLookup?.('hit');
          return { body: cached.body, requestId: cached.requestId };
        }
        if (cached && age <= ttlMs + staleMs) {
          onLookup?.('stale');
          fetchShared(identity, key, params, callOptions, false).then(
            () => logger?.debug('background refresh stored'),
            (error: unknown) => logger?.debug({ err: error instanceof Error ? error.name : 'unknown' }, 'background refresh failed; the stale page stays'),
          );
          return { body: cached.body, requestId: cached.requestId };
        }
      }
      return fetchShared(identity, key, params, callOptions, true);
    },
    probe: client.probe ? (timeoutMs) => client.probe!(timeoutMs) : undefined,
    close() {
      client.close();
    },
  };
}
