/** The public schema: DESIGN.md's names, a description on everything, no federation internals. */
import { getIntrospectionQuery, isInputObjectType, isSpecifiedDirective, isInterfaceType, isObjectType, printSchema, type GraphQLSchema } from 'graphql';

import { createSubgraphSchema, toPublicSchema } from '../../src/schema';
import { startStack, type Stack } from '../helpers/stack';

let schema: GraphQLSchema;
beforeAll(() => { schema = toPublicSchema(createSubgraphSchema()); });

describe('public schema', () => {
  it('has the contract\'s types and fields', () => {
    const fields = (name: string) => Object.keys((schema.getType(name) as any).getFields()).sort();
    expect(fields('Query')).toEqual(['backup', 'backups', 'instance', 'instances', 'node']);
    expect(fields('Backup')).toEqual(['associatedWithDdm', 'beginTime', 'databases', 'datastore', 'endTime', 'id', 'instance', 'instanceId',
      'minDataVolumeCapacityForRestore', 'name', 'sizeKb', 'status', 'type'].sort());
    expect(fields('Instance')).toEqual(['backup', 'backups', 'id']);
    expect(fields('BackupConnection')).toEqual(['edges', 'nodes', 'pageInfo', 'totalCount']);
    expect(fields('PageInfo')).toEqual(['endCursor', 'hasNextPage', 'hasPreviousPage', 'startCursor']);
    expect(fields('BackupFilter')).toEqual(['backupId', 'beginTime', 'endTime', 'status', 'type']);
    expect(printSchema(schema)).toContain('type Instance implements Node');
  });

  it('describes every type, field, argument and enum value', () => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || ['String', 'Boolean', 'Int', 'Float', 'ID'].includes(type.name)) continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : []) if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
      if ('getValues' in type) for (const v of type.getValues()) if (!v.description) missing.push(`${type.name}.${v.name}`);
    }
    expect(missing).toEqual([]);
  });

  it('exposes no _entities, _service or federation directives', () => {
    expect(Object.keys(schema.getQueryType()!.getFields())).not.toContain('_entities');
    expect(Object.keys(schema.getTypeMap()).filter((t) => /^(_Any|_Entity|_Service|link__|federation__)/.test(t))).toEqual([]);
    expect(schema.getDirectives().filter((d) => !isSpecifiedDirective(d))).toEqual([]);
    // The demand-control weights are for routers: the subgraph SDL has them, the public API does not.
    expect(printSchema(schema)).not.toMatch(/@(cost|listSize|shareable|link)\b/);
  });
});

describe('over HTTP', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack(); });
  afterAll(() => stack.close());

  it('answers introspection (GraphiQL on outside production) without _entities', async () => {
    const res = await stack.gql(getIntrospectionQuery());
    const query = res.body.data.__schema.types.find((t: any) => t.name === 'Query');
    expect(query.fields.map((f: any) => f.name)).not.toContain('_entities');
    expect(res.body.data.__schema.directives.map((d: any) => d.name).sort()).toEqual(['deprecated', 'include', 'oneOf', 'skip', 'specifiedBy']);
    const bad = await stack.gql('{ _entities(representations: []) { __typename } }');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('answers /healthz', async () => {
    const res = await fetch(`${stack.gateway.url}/healthz`);
    expect(res.status).toBe(200);
  });
});
