/**
 * The upstream as every request shares it: identical calls in flight are sent once, pages are
 * cached per caller identity, and each identity has an upstream budget (the cloud throttles at
 * 60 calls per minute per user). Same interface as the client it wraps, so the per-request
 * service does not know it is there.
 */
import { Canceller, type CancelSignal } from '../cancel';
import { BudgetExhaustedError } from '../errors/domain';
import type { Logger } from '../logger';
import { UpstreamCallCancelledError, UpstreamTimeoutError } from '../upstream/errors';
import { callerIdentity, type AttemptIds, type AttemptInfo, type CacheOutcome, type CallOptions, type CallTrace, type ListBackupsResult, type UpstreamClient } from '../upstream/client';
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
  onLookup?: (outcome: CacheOutcome) => void;
  /** Told of every budget decision, by identity (metrics: by identity class only). */
  onBudget?: (identity: string, answer: BudgetAnswer) => void;
}

/** One request waiting on a shared call. */
interface Waiter {
  /** Epoch ms (`Date.now()`, as the client reads deadlines); undefined: waits as long as the call runs. */
  deadline: number | undefined;
  onAttempt?: (attempt: AttemptInfo) => void;
  /** Aborted when its client left: it stops waiting, and the call stops when no one else waits. */
  signal?: CancelSignal;
  /** Ends this wait with a timeout; set while it waits. */
  expire?: () => void;
  /** Armed only while the call may outlast this waiter's deadline (see armIfOutlasted). */
  timer?: ReturnType<typeof setTimeout>;
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
  /** Stops the call: once no request waits on it any more (each one left early). */
  cancel: Canceller;
  /** A background refresh is part of it: it goes on with no one waiting, to refresh the cache. */
  kept: boolean;
  /** Its latest attempt's span (tracing on): a request that joins it says so on its own span. */
  attempt?: AttemptIds;
}

const deadlineOf = (options: CallOptions): number | undefined => (typeof options.deadline === 'function' ? options.deadline() : options.deadline);

/**
 * Arms a waiter's own timer once the call may run past its deadline (a later joiner raised the
 * call's). Until then the client ends the call at that deadline itself, so the common case, a
 * call with one waiter, costs no timer of its own here.
 */
function armIfOutlasted(call: SharedCall, waiter: Waiter): void {
  if (waiter.expire === undefined || waiter.timer !== undefined || waiter.deadline === undefined || waiter.deadline >= call.latestDeadline) return;
  waiter.timer = setTimeout(waiter.expire, Math.max(0, waiter.deadline - Date.now()));
}

class SharedUpstream implements UpstreamClient {
  private readonly inFlight = new Map<string, SharedCall>();
  private readonly now: () => number;
  readonly probe: UpstreamClient['probe'];

  constructor(private readonly options: SharedUpstreamOptions) {
    this.now = options.now ?? Date.now;
    const { client } = options;
    this.probe = client.probe ? (timeoutMs) => client.probe!(timeoutMs) : undefined;
  }

  async listBackups(params: ListBackupsParams, callOptions: CallOptions): Promise<ListBackupsResult> {
    const { store, ttlMs, staleMs, logger } = this.options;
    // Never shared between identities: the key starts with the caller's (hashed) identity.
    const identity = callerIdentity(callOptions.auth);
    const key = `${identity}|${listBackupsPath(params)}`;
    // A fresh read (a live poll) skips the lookup only: it still coalesces, and stores its answer.
    if (ttlMs > 0 && callOptions.fresh !== true) {
      const cached = await store.getPage(key);
      const age = cached ? this.now() - cached.fetchedAt : Number.POSITIVE_INFINITY;
      if (cached && age <= ttlMs) {
        this.lookedUp('hit', callOptions);
        // At most the TTL: with Redis, another replica's clock dated the page and may run ahead.
        callOptions.onServed?.({ freshForMs: Math.min(ttlMs, ttlMs - age) });
        return { body: cached.body, requestId: cached.requestId };
      }
      if (cached && age <= ttlMs + staleMs) {
        this.lookedUp('stale', callOptions);
        callOptions.onServed?.({ freshForMs: 0 });
        // Not this request's work (its answer is sent): the refresh's attempts are not spans of its operation.
        this.fetchShared(identity, key, params, { ...callOptions, trace: undefined }, false).then(
          () => logger?.debug('background refresh stored'),
          (error: unknown) => logger?.debug({ err: error instanceof Error ? error.name : 'unknown' }, 'background refresh failed; the stale page stays'),
        );
        return { body: cached.body, requestId: cached.requestId };
      }
    }
    const result = await this.fetchShared(identity, key, params, callOptions, true);
    callOptions.onServed?.({ freshForMs: ttlMs }); // fetched just now (or joined a call that was): fresh for the whole TTL, none with the cache off
    return result;
  }

  close(): void {
    this.options.client.close();
  }

  /** Takes a call out of the map, unless a newer call for the key has replaced it there. */
  private forget(key: string, call: SharedCall): void {
    if (this.inFlight.get(key) === call) this.inFlight.delete(key);
  }

  /** How a lookup was served, told to the metrics and to the requesting operation's span. */
  private lookedUp(outcome: CacheOutcome, callOptions: CallOptions, joined?: AttemptIds): void {
    this.options.onLookup?.(outcome);
    callOptions.trace?.served?.(outcome, joined);
  }

  private startCall(identity: string, key: string, params: ListBackupsParams, callOptions: CallOptions): SharedCall {
    const { client, store, ttlMs, staleMs, budgetPerMinute, onBudget } = this.options;
    const beforeAttempt = async (): Promise<number> => {
      const budget = await store.takeBudget(identity, budgetPerMinute, this.now());
      onBudget?.(identity, budget);
      if (!budget.ok) throw new BudgetExhaustedError(budget.retryAfterSeconds);
      return budget.remaining;
    };
    const call: SharedCall = {
      promise: undefined as never, waiters: [], latestDeadline: deadlineOf(callOptions) ?? Number.POSITIVE_INFINITY, cancel: new Canceller(), kept: false,
    };
    // Each attempt is told to every request waiting: as its own to the first, as shared to the others.
    const onAttempt = (attempt: AttemptInfo): void => {
      call.waiters.forEach((waiter, i) => waiter.onAttempt?.(i === 0 ? attempt : { ...attempt, shared: true }));
    };
    const deadline = (): number | undefined => (Number.isFinite(call.latestDeadline) ? call.latestDeadline : undefined);
    // Its attempts are spans of its first requester's operation; their ids are kept for those who join.
    const own = callOptions.trace;
    const trace: CallTrace | undefined = own && {
      startAttempt: (target) => {
        const attempt = own.startAttempt(target);
        call.attempt = attempt;
        return attempt;
      },
    };
    call.promise = (async () => {
      // The call's own signal, not its first requester's: it stops when every requester has left.
      const result = await client.listBackups(params, { ...callOptions, beforeAttempt, onAttempt, deadline, signal: call.cancel.signal, trace });
      if (ttlMs > 0) await store.setPage(key, { body: result.body, requestId: result.requestId, fetchedAt: this.now() }, ttlMs + staleMs);
      return result;
    })().finally(() => this.forget(key, call));
    this.inFlight.set(key, call);
    return call;
  }

  /**
   * One upstream call for `key`, shared by everyone who asks while it is in flight. Each request
   * waits until its own deadline at most (then UpstreamTimeoutError, while the call goes on for
   * the others); a background refresh (`waits: false`) lends the call its deadline but waits on nothing.
   */
  private fetchShared(identity: string, key: string, params: ListBackupsParams, callOptions: CallOptions, waits: boolean): Promise<ListBackupsResult> {
    if (waits && callOptions.signal?.aborted) return Promise.reject(new UpstreamCallCancelledError()); // its client left while it queued
    const waiter: Waiter = { deadline: deadlineOf(callOptions), onAttempt: callOptions.onAttempt, signal: callOptions.signal };
    let call = this.inFlight.get(key);
    if (call) {
      call.latestDeadline = Math.max(call.latestDeadline, waiter.deadline ?? Number.POSITIVE_INFINITY);
      for (const earlier of call.waiters) armIfOutlasted(call, earlier);
      if (waits) this.lookedUp('coalesced', callOptions, call.attempt);
    } else {
      call = this.startCall(identity, key, params, callOptions);
      if (waits) this.lookedUp('miss', callOptions);
    }
    if (!waits) call.kept = true;
    return waits ? this.waitOn(key, call, waiter) : call.promise;
  }

  /**
   * Waits on a shared call for one request, until the call settles, the request's deadline
   * passes or its client leaves. When the last waiter leaves early (and no background refresh
   * shares the call), the call is cancelled and forgotten at once, so that a request arriving
   * next starts a call of its own rather than joining one being cancelled.
   */
  private waitOn(key: string, call: SharedCall, waiter: Waiter): Promise<ListBackupsResult> {
    call.waiters.push(waiter);
    const leave = (): void => {
      const i = call.waiters.indexOf(waiter);
      if (i >= 0) call.waiters.splice(i, 1);
    };
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(waiter.timer);
        waiter.expire = undefined;
        waiter.signal?.removeEventListener('abort', onLeft);
        leave();
      };
      const leaveEarly = (error: Error): void => {
        settle();
        reject(error);
        if (call.waiters.length === 0 && !call.kept) {
          this.forget(key, call);
          call.cancel.abort();
        }
      };
      waiter.expire = () => leaveEarly(new UpstreamTimeoutError(0)); // this request's deadline; the call goes on for the others
      armIfOutlasted(call, waiter);
      const onLeft = (): void => leaveEarly(new UpstreamCallCancelledError());
      waiter.signal?.addEventListener('abort', onLeft, { once: true });
      call.promise.then(
        (result) => { settle(); resolve(result); },
        (error: unknown) => { settle(); reject(error); },
      );
    });
  }
}

export function createSharedUpstream(options: SharedUpstreamOptions): UpstreamClient {
  return new SharedUpstream(options);
}
