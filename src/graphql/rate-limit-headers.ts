/**
 * The IETF rate-limit headers on every answer of a GraphQL endpoint (DESIGN.md, "Browser
 * frontends"): `RateLimit-Policy: <budget>;w=60` and `RateLimit: limit=<budget>, remaining=R,
 * reset=S` for the caller identity whose upstream budget (UPSTREAM_BUDGET_PER_MINUTE) the
 * request spends, read after the operation ran, so `remaining` counts its own calls. A request
 * with no identity (malformed or missing credentials, or refused before its context was made)
 * gets neither header: it has no budget to speak of.
 */
import { BUDGET_WINDOW_MS, type SharedStore } from '../shared-upstream/store';
import { callerIdentity } from '../upstream/client';
import type { AnswerDecorator } from './endpoint';

export interface RateLimitHeadersOptions {
  /** Where the budgets live: the store the shared upstream takes them from. */
  store: SharedStore;
  /** UPSTREAM_BUDGET_PER_MINUTE. */
  perMinute: number;
  /** The budget's clock: the shared upstream's. @default Date.now */
  now?: () => number;
}

export function createRateLimitHeaders({ store, perMinute, now = Date.now }: RateLimitHeadersOptions): AnswerDecorator {
  const policy = `${perMinute};w=${BUDGET_WINDOW_MS / 1000}`;
  return async (_x, context, reply) => {
    const auth = context?.auth;
    if (auth === undefined) return reply;
    const { remaining, resetSeconds } = await store.readBudget(callerIdentity(auth), perMinute, now());
    const ratelimit = `limit=${perMinute}, remaining=${remaining}, reset=${resetSeconds}`;
    return { ...reply, headers: { ...reply.headers, 'ratelimit-policy': policy, ratelimit } };
  };
}
