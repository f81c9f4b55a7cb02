/**
 * A small foreign subgraph for the federation tests: another team's "inventory" that owns
 * `Instance { id name region }`, lists the caller's instances, pins some backups by reference,
 * and defines its own `PageInfo @shareable`.
 */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

export const INVENTORY_SDL = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])

type Instance @key(fields: "id") {
  id: ID!
  name: String!
  region: String!
}

type Backup @key(fields: "instanceId id", resolvable: false) {
  instanceId: ID!
  id: ID!
}

type PageInfo @shareable {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

type Query {
  myInstances: [Instance!]!
  pinnedBackups: [Backup!]!
}
`;

export interface InventoryData {
  instances: Array<{ id: string; name: string; region: string }>;
  pinned: Array<{ instanceId: string; id: string }>;
}

export async function startInventory(data: InventoryData): Promise<{ url: string; stop(): Promise<void> }> {
  const schema = buildSubgraphSchema([{
    typeDefs: parse(INVENTORY_SDL),
    resolvers: {
      Query: {
        myInstances: () => data.instances,
        pinnedBackups: () => data.pinned.map((p) => ({ __typename: 'Backup', ...p })),
      },
      Instance: {
        __resolveReference: (ref: { id: string }) => data.instances.find((i) => i.id === ref.id) ?? null,
      },
    } as never,
  }]);
  const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  const server = new ApolloServer({ schema, logger: quiet });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  return { url, stop: () => server.stop() };
}
