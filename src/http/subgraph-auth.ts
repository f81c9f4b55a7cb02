/**
 * The subgraph endpoint answers `_entities`, which resolves any representation without the public
 * API's argument checks: only the router may reach it. It exists only with SUBGRAPH_SECRET, and
 * every request must present it in `X-Subgraph-Secret`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { graphqlErrorReply } from './reply';
import type { RouteHandler } from './router';

/** Whether a presented secret equals the configured one, in constant time (hashes have equal lengths). */
export function secretMatches(presented: string | undefined, secret: string): boolean {
  if (presented === undefined) return false;
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(presented), digest(secret));
}

/** `handle`, for requests that present `secret`; 401 for the others, before their body is read. */
export function requireSubgraphSecret(secret: string, handle: RouteHandler): RouteHandler {
  return (x) => {
    if (secretMatches(x.header('x-subgraph-secret'), secret)) return handle(x);
    return graphqlErrorReply(401, 'The subgraph endpoint is for the router only.', 'UNAUTHENTICATED');
  };
}
