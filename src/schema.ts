/**
 * The executable schemas, both from the one SDL in `schema/`: the federation subgraph schema
 * (with `_entities`/`_service`), and the public one (the same, without them).
 */
import fs from 'node:fs';
import path from 'node:path';

import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  GraphQLObjectType, GraphQLSchema, isSpecifiedDirective, isUnionType, parse, type DocumentNode, type GraphQLFieldResolver,
} from 'graphql';

import { resolvers } from './backups/resolvers';
import { InvalidInputError } from './errors/domain';

/** `schema/` sits beside `src/` and `dist/` alike. */
export const SCHEMA_DIR = path.join(__dirname, '..', 'schema');

export function loadTypeDefs(dir = SCHEMA_DIR): DocumentNode {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.graphql')).sort();
  return parse(files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n'));
}

export function createSubgraphSchema(typeDefs = loadTypeDefs()): GraphQLSchema {
  return checkRepresentations(buildSubgraphSchema([{ typeDefs, resolvers: resolvers as never }]));
}

/**
 * Why a representation cannot name an entity of this schema, or undefined when it can: it must be
 * an object whose own `__typename` is one of `_Entity`'s members. Its key fields are checked by
 * the type's `__resolveReference`.
 */
export function representationProblem(representation: unknown, entityTypes: ReadonlySet<string>): string | undefined {
  if (typeof representation !== 'object' || representation === null || Array.isArray(representation)) return 'is not an object';
  const typename: unknown = Object.hasOwn(representation, '__typename') ? (representation as { __typename: unknown }).__typename : undefined;
  if (typeof typename !== 'string') return 'has no __typename';
  if (!entityTypes.has(typename)) return `has a __typename that is not an entity of this subgraph (${[...entityTypes].join(', ')})`;
  return undefined;
}

/**
 * Wraps `_entities` so that each representation stands alone. @apollo/subgraph's resolver maps
 * the whole list in one synchronous pass: an unknown `__typename` throws a plain Error, and so
 * does a `__resolveReference` that throws before it returns a promise, failing the whole field
 * (INTERNAL_SERVER_ERROR, logged with a stack). Here a bad representation becomes
 * InvalidInputError at its own index (graphql-js locates an Error returned as a list item at
 * `_entities.i`), checked before any resolver runs, and the others still resolve.
 */
function checkRepresentations(schema: GraphQLSchema): GraphQLSchema {
  const field = schema.getQueryType()?.getFields()._entities;
  const entity = schema.getType('_Entity');
  if (!field?.resolve || !isUnionType(entity)) return schema;
  const entityTypes = new Set(entity.getTypes().map((t) => t.name));
  const resolveEntities: GraphQLFieldResolver<unknown, unknown> = field.resolve;
  field.resolve = (source, args: { representations: unknown[] }, context, info) => args.representations.map((representation, i) => {
    const problem = representationProblem(representation, entityTypes);
    if (problem) return new InvalidInputError(`representations[${i}] ${problem}.`);
    try {
      return (resolveEntities(source, { representations: [representation] }, context, info) as unknown[])[0];
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  });
  return schema;
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
