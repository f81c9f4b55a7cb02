/**
 * The upstream as every request shares it: identical calls in flight are sent once, pages are
 * cached per caller identity, and each identity has an upstream budget (the cloud throttles at
 * 60 calls per minute per user). Same interface as the client it wraps, so the per-request
 * service does not know it is there.
 */
import { BudgetExhaustedError } from '../errors/domain';
import type { Logger } from '../logger';
import { callerIdentity, type CallOptions, type ListBackupsResult, type UpstreamClient } from '../upstream/client';
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
  /** Told whether each call was a cache hit, a stale hit, a miss or coalesced (metrics). */
  onLookup?: (outcome: 'hit' | 'stale' | 'miss' | 'coalesced') => void;
  /** Told of every budget decision, by identity (metrics: by identity class only). */
  onBudget?: (identity: string, answer: BudgetAnswer) => void;
}

export function createSharedUpstream(options: SharedUpstreamOptions): UpstreamClient {
  const { client, store, ttlMs, staleMs, budgetPerMinute, now = Date.now, logger, onLookup, onBudget } = options;
  const inFlight = new Map<string, Promise<ListBackupsResult>>();

  /** One upstream call for `key`, shared by everyone who asks while it is in flight. */
  function fetchShared(identity: string, key: string, params: ListBackupsParams, callOptions: CallOptions): Promise<ListBackupsResult> {
    const pending = inFlight.get(key);
    if (pending) {
      onLookup?.('coalesced');
      return pending;
    }
    const beforeAttempt = async (): Promise<void> => {
      const budget = await store.takeBudget(identity, budgetPerMinute, now());
      onBudget?.(identity, budget);
      if (!budget.ok) throw new BudgetExhaustedError(budget.retryAfterSeconds);
    };
    const call = (async () => {
      const result = await client.listBackups(params, { ...callOptions, beforeAttempt });
      if (ttlMs > 0) await store.setPage(key, { body: result.body, requestId: result.requestId, fetchedAt: now() }, ttlMs + staleMs);
      return result;
    })().finally(() => inFlight.delete(key));
    inFlight.set(key, call);
    return call;
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
          fetchShared(identity, key, params, callOptions).catch((error: unknown) => {
            logger?.debug({ err: error instanceof Error ? error.name : 'unknown' }, 'background refresh failed; the stale page stays');
          });
          return { body: cached.body, requestId: cached.requestId };
        }
      }
      onLookup?.('miss');
      return fetchShared(identity, key, params, callOptions);
    },
    probe: client.probe ? (timeoutMs) => client.probe!(timeoutMs) : undefined,
    close() {
      client.close();
    },
  };
}
