/**
 * The executable schemas, both from the one SDL in `schema/`: the federation subgraph schema
 * (with `_entities`/`_service`), and the public one (the same, without them).
 */
import fs from 'node:fs';
import path from 'node:path';

import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLObjectType, GraphQLSchema, isSpecifiedDirective, parse, type DocumentNode } from 'graphql';

import { resolvers } from './backups/resolvers';

/** `schema/` sits beside `src/` and `dist/` alike. */
export const SCHEMA_DIR = path.join(__dirname, '..', 'schema');

export function loadTypeDefs(dir = SCHEMA_DIR): DocumentNode {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.graphql')).sort();
  return parse(files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n'));
}

export function createSubgraphSchema(typeDefs = loadTypeDefs()): GraphQLSchema {
  return buildSubgraphSchema([{ typeDefs, resolvers: resolvers as never }]);
}

const FEDERATION_FIELDS = new Set(['_entities', '_service']);
const FEDERATION_TYPES = /^(_Entity|_Service|_Any|FieldSet|_FieldSet|link__.*|federation__.*)$/;

/**
 * The public schema: the subgraph schema less `_entities`/`_service` and the federation
 * machinery. `_entities` resolves any representation without the public API's argument checks,
 * so Apollo advises never exposing it outside the router's network.
 */
export function toPublicSchema(subgraph: GraphQLSchema): GraphQLSchema {
  const config = subgraph.toConfig();
  const queryConfig = subgraph.getQueryType()!.toConfig();
  const query = new GraphQLObjectType({
    ...queryConfig,
    fields: Object.fromEntries(Object.entries(queryConfig.fields).filter(([name]) => !FEDERATION_FIELDS.has(name))),
  });
  return new GraphQLSchema({
    ...config,
    query,
    types: config.types.filter((t) => t.name !== query.name && !FEDERATION_TYPES.test(t.name)),
    directives: config.directives.filter(isSpecifiedDirective),
    extensions: {},
    astNode: undefined,
    extensionASTNodes: [],
  });
}
