/**
 * The console's Apollo Client: queries over an HttpLink whose fetch reads the gateway's
 * `RateLimit` header into a reactive variable, subscriptions over a GraphQLWsLink (graphql-ws) on
 * the same URL, and a cache that pages `Instance.backups` Relay-style, one list per filter.
 */
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, makeVar } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { relayStylePagination } from '@apollo/client/utilities';
import { OperationTypeNode } from 'graphql';
import { createClient as createWsClient } from 'graphql-ws';

import { parseRateLimit, type RateLimit } from './format';

/** The caller's upstream budget as the latest answer reported it; null until one did. */
export const rateLimit = makeVar<RateLimit | null>(null);

/** The WebSocket's state: subscriptions deliver changes only while it is `live`. */
export type LiveState = 'connecting' | 'live' | 'reconnecting';
export const liveState = makeVar<LiveState>('connecting');

/**
 * @param uri The gateway's GraphQL endpoint (`http(s)://…/graphql`); subscriptions use `ws(s)://` on the same path.
 * @param headers Sent with every operation, e.g. `X-Project-Id`: as HTTP headers, and as the
 *   WebSocket's `connection_init` payload (a browser cannot set headers on a WebSocket; the
 *   gateway reads the same names there).
 */
export function createClient(uri: string, headers: Record<string, string> = {}): ApolloClient {
  const http = new HttpLink({
    uri,
    headers,
    // A custom fetch is where HttpLink lets an app see response headers. Cross-origin, the
    // browser shows only those the gateway lists in Access-Control-Expose-Headers (RateLimit is).
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      const budget = parseRateLimit(response.headers.get('RateLimit'));
      if (budget) rateLimit(budget);
      return response;
    },
  });
  const ws = createWsClient({
    url: toWebSocketUrl(uri),
    connectionParams: headers,
    // A console stays open for hours: keep reconnecting (with graphql-ws's backoff) through a
    // gateway restart, which closes WebSockets with 1001 so that clients come back.
    retryAttempts: Infinity,
    on: {
      connecting: (isRetry) => liveState(isRetry ? 'reconnecting' : 'connecting'),
      connected: (_socket, _payload, wasRetry) => {
        liveState('live');
        // A new connection's first poll is a new baseline: what changed while the socket was
        // down is never sent, so the lists are read again.
        if (wasRetry) void client.refetchQueries({ include: 'active' });
      },
    },
  });
  const client = new ApolloClient({
    link: ApolloLink.split(({ operationType }) => operationType === OperationTypeNode.SUBSCRIPTION, new GraphQLWsLink(ws), http),
    cache: new InMemoryCache({
      typePolicies: {
        // `first`/`after` page within one list; each filter is a list of its own.
        Instance: { fields: { backups: relayStylePagination(['filter']) } },
      },
    }),
  });
  return client;
}

/** `http://host/graphql` → `ws://host/graphql`, `https:` → `wss:`; relative to the page if it is relative. */
export function toWebSocketUrl(uri: string): string {
  const url = new URL(uri, globalThis.location?.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}
