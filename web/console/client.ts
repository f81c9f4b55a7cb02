/**
 * The console's Apollo Client: an HttpLink whose fetch reads the gateway's `RateLimit` header into
 * a reactive variable, and a cache that pages `Instance.backups` Relay-style, one list per filter.
 */
import { ApolloClient, HttpLink, InMemoryCache, makeVar } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';

import { parseRateLimit, type RateLimit } from './format';

/** The caller's upstream budget as the latest answer reported it; null until one did. */
export const rateLimit = makeVar<RateLimit | null>(null);

export function createClient(uri: string): ApolloClient {
  const link = new HttpLink({
    uri,
    // A custom fetch is where HttpLink lets an app see response headers. Cross-origin, the
    // browser shows only those the gateway lists in Access-Control-Expose-Headers (RateLimit is).
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      const budget = parseRateLimit(response.headers.get('RateLimit'));
      if (budget) rateLimit(budget);
      return response;
    },
  });
  return new ApolloClient({
    link,
    cache: new InMemoryCache({
      typePolicies: {
        // `first`/`after` page within one list; each filter is a list of its own.
        Instance: { fields: { backups: relayStylePagination(['filter']) } },
      },
    }),
  });
}
