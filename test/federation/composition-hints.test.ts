/**
 * The SDL a router's build step reads (`_service { sdl }` on /subgraph, and what
 * `npm run schema:subgraph` prints) composes beside a foreign subgraph with no errors and no
 * hints, and carries the demand-control directives into the supergraph.
 */
import { composeServices } from '@apollo/composition';
import { printSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

import { createSubgraphSchema } from '../../src/schema';
import { rawRequest } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';
import { INVENTORY_SDL } from './inventory-subgraph';

const SECRET = 'composition-secret-0123456789';
const LIST_SIZE = '@listSize(slicingArguments: ["first", "last"], sizedFields: ["edges", "nodes"], assumedSize: 20, requireOneSlicingArgument: false)';

describe('the subgraph SDL', () => {
  let stack: Stack;
  let served: string;
  beforeAll(async () => {
    stack = await startStack({ env: { SUBGRAPH_SECRET: SECRET } });
    const res = await rawRequest(stack.gateway.url, '/subgraph', {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-subgraph-secret': SECRET }, body: JSON.stringify({ query: '{ _service { sdl } }' }),
    });
    expect(res.status).toBe(200);
    served = res.json().data._service.sdl;
  });
  afterAll(() => stack.close());

  const sdlOf = { '_service { sdl }': () => served, 'npm run schema:subgraph': () => printSubgraphSchema(createSubgraphSchema()) };

  it.each(Object.keys(sdlOf))('links federation v2.9 with @cost and @listSize (%s)', (source) => {
    expect(sdlOf[source as keyof typeof sdlOf]()).toContain('@link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@cost", "@listSize"])');
  });

  it.each(Object.keys(sdlOf))('composes with the foreign inventory subgraph with no errors and no hints (%s)', (source) => {
    const result = composeServices([
      { name: 'backups', typeDefs: parse(sdlOf[source as keyof typeof sdlOf]()), url: 'http://backups/subgraph' },
      { name: 'inventory', typeDefs: parse(INVENTORY_SDL), url: 'http://inventory/graphql' },
    ]);
    expect((result.errors ?? []).map(String)).toEqual([]);
    expect((result.hints ?? []).map((h) => `${h.definition.code}: ${h.message}`)).toEqual([]);
    const supergraph = result.supergraphSdl!;
    expect(supergraph).toContain('@link(url: "https://specs.apollo.dev/cost/v0.1"');
    // Both connection fields keep their sizes; the lookups and the types their weights.
    expect(supergraph.split(LIST_SIZE)).toHaveLength(3);
    expect(supergraph).toMatch(/\): Backup @join__field\(graph: BACKUPS\) @cost\(weight: 120\)/);
    expect(supergraph).toMatch(/type PageInfo[^{]*@cost\(weight: 0\)/);
  });
});
