/** The GraphQL-over-HTTP spec's audit suite (graphql-http's serverAudits) against /graphql. */
import { serverAudits } from 'graphql-http';

import { startStack, type Stack } from '../helpers/stack';

let stack: Stack;
beforeAll(async () => { stack = await startStack(); });
afterAll(() => stack.close());

/** SHOULDs the gateway departs from on purpose (README, "GraphQL over HTTP"). */
const KNOWN_WARNINGS = [
  'SHOULD use 200 status code on document parsing failure when accepting application/json',
  'SHOULD use 200 status code on document validation failure when accepting application/json',
  'SHOULD use a status code of 200 on variable coercion failure when accepting application/json',
];

it('passes every MUST of the GraphQL-over-HTTP audit, and every SHOULD but the documented ones', async () => {
  const results: Array<{ name: string; status: string; reason?: string }> = [];
  for (const audit of serverAudits({ url: `${stack.gateway.url}/graphql`, fetchFn: fetch })) {
    const result = await audit.fn();
    results.push({ name: audit.name, status: result.status, reason: 'reason' in result ? result.reason : undefined });
  }
  expect(results.length).toBeGreaterThan(50);
  expect(results.filter((r) => r.status === 'error')).toEqual([]);
  expect(results.filter((r) => r.status === 'warn').map((r) => r.name).sort()).toEqual([...KNOWN_WARNINGS].sort());
});
