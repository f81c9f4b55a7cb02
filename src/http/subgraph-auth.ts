/**
 * The subgraph endpoint answers `_entities`, which resolves any representation without the public
 * API's argument checks: only the router may reach it. It exists only with SUBGRAPH_SECRET, and
 * every request must present it in `X-Subgraph-Secret`: WebSocket upgrades (subscriptions a
 * router passes through) too.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { graphqlErrorBody, graphqlErrorReply } from './reply';
import type { RouteHandler } from './router';

/** Whether a presented secret equals the configured one, in constant time (hashes have equal lengths). */
export function secretMatches(presented: string | undefined, secret: string): boolean {
  if (presented === undefined) return false;
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(presented), digest(secret));
}

/** The refusal of a request without the secret (401, before its body is read). */
const SUBGRAPH_REFUSAL = 'The subgraph endpoint is for the router only.';

/** Why a WebSocket upgrade on `/subgraph` is refused (status and body), or undefined when it presents the secret. */
export function subgraphUpgradeRefusal(secret: string, header: string | string[] | undefined): [number, unknown] | undefined {
  return secretMatches(typeof header === 'string' ? header : undefined, secret) ? undefined : [401, graphqlErrorBody(SUBGRAPH_REFUSAL, 'UNAUTHENTICATED')];
}

/** `handle`, for requests that present `secret`; 401 for the others, before their body is read. */
export function requireSubgraphSecret(secret: string, handle: RouteHandler): RouteHandler {
  return (x) => {
    if (secretMatches(x.header('x-subgraph-secret'), secret)) return handle(x);
    return graphqlErrorReply(401, SUBGRAPH_REFUSAL, 'UNAUTHENTICATED');
  };
}
