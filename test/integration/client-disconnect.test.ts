/**
 * Calls outlive their clients: clients that disconnect while their upstream call hangs. Their
 * calls are cancelled (the simulator sees the connections closed, and no attempt follows), the
 * requests are counted as aborted, and a call coalesced with a request that still waits goes on
 * for that one. Attempts are counted once the gateway has finished each operation (its log line).
 */
import http from 'node:http';

import { rawRequest } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

let stack: Stack;
let instance: string;
beforeAll(async () => {
  // Without cancellation, each call would make three attempts of 2 s each before its operation ended.
  stack = await startStack({
    env: { UPSTREAM_TIMEOUT_MS: '2000', UPSTREAM_RETRIES: '2', OPERATION_DEADLINE_MS: '25000' },
    simulator: { auth: { tokens: [...Array.from({ length: 16 }, (_, i) => `token-${i}`), 'shared-token'] } },
  });
  instance = stack.sim.store.list()[0]!.id;
});
afterAll(() => stack.close());
beforeEach(async () => {
  await stack.setFaults([]);
  await stack.resetCalls();
});

/** Resolves once `condition` holds, checked every few milliseconds (the test's timeout bounds it). */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((r) => setTimeout(r, 5));
}

const query = (): string => JSON.stringify({ query: `{ backups(instanceId: "${instance}", first: 2) { totalCount } }` });

/** Starts a POST of the query and returns the request, to be destroyed by the test, and its answer if it comes. */
function start(requestId: string, token: string): { req: http.ClientRequest; answer: Promise<{ status: number; text: string }> } {
  const url = new URL(stack.gateway.url);
  let req!: http.ClientRequest;
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req = http.request({ host: url.hostname, port: url.port, path: '/graphql', method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'x-request-id': requestId, 'x-auth-token': token } }, (res) => {
      let text = '';
      res.on('data', (c) => { text += String(c); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(query());
  });
  answer.catch(() => undefined); // destroyed on purpose
  return { req, answer };
}

const operationLogged = (requestId: string): boolean => stack.logs.some((l) => l.includes('"graphql operation"') && JSON.parse(l).requestId === requestId);
const metric = async (pattern: RegExp): Promise<number> => Number(pattern.exec((await rawRequest(stack.gateway.url, '/metrics')).text)?.[1] ?? 0);
const ABORTED = /http_requests_total\{route="\/graphql",method="POST",status="aborted"\} (\d+)/;
const COALESCED = /upstream_cache_lookups_total\{outcome="coalesced"\} (\d+)/;

describe('clients that disconnect during a hung upstream call', () => {
  it('have their calls cancelled: the connections close, no further attempt, and the requests count as aborted', async () => {
    await stack.setFaults([{ kind: 'hang', instanceId: instance }]);
    const abortedBefore = await metric(ABORTED);
    // Each client its own token: sixteen calls, none shared.
    const clients = Array.from({ length: 16 }, (_, i) => start(`gone-${i}`, `token-${i}`));
    await until(() => stack.sim.calls.inFlight === 16);
    for (const { req } of clients) req.destroy();

    await until(() => clients.every((_, i) => operationLogged(`gone-${i}`)));
    await until(() => stack.sim.calls.inFlight === 0); // the gateway closed its sixteen upstream connections
    expect((await stack.calls()).count).toBe(16); // one attempt each: no retry after the clients left
    expect(await metric(ABORTED)).toBe(abortedBefore + 16);
    expect(stack.logs.map((l) => JSON.parse(l)).filter((entry) => entry.level >= 50)).toEqual([]);
  });

  it('keep a coalesced call going for the request that still waits on it', async () => {
    await stack.setFaults([{ kind: 'latency', latencyMs: 1500, instanceId: instance }]);
    const coalescedBefore = await metric(COALESCED);
    const leaving = start('leaves', 'shared-token');
    await until(() => stack.sim.calls.inFlight === 1);
    const staying = start('stays', 'shared-token');
    await until(async () => (await metric(COALESCED)) === coalescedBefore + 1); // it joined the call in flight
    leaving.req.destroy();
    await until(() => operationLogged('leaves'));

    const answer = await staying.answer;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ data: { backups: { totalCount: stack.sim.store.get(instance)!.backups.length } } });
    expect((await stack.calls()).count).toBe(1);
  });
});
