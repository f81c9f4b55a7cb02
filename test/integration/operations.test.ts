/** Operating it: one log line per operation, request ids, Prometheus metrics, readiness, graceful shutdown. */
import { once } from 'node:events';

import { rawRequest } from '../helpers/http';
import { startGatewayProcess } from '../helpers/process';
import { startRedis } from '../helpers/redis';
import { PROJECT, withSimulator } from '../helpers/simulator';
import { startStack, type Stack } from '../helpers/stack';

const PAGE = 'query Page($id: ID!) { backups(instanceId: $id, first: 3) { totalCount } }';
const lines = (stack: Stack, msg: string) => stack.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === msg);

describe('logs', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ simulator: { auth: { tokens: ['secret-token-4242'] } } }); });
  afterAll(() => stack.close());

  it('writes one line per operation, with its name, duration, upstream calls and error codes, and no secret', async () => {
    const instance = stack.sim.store.list()[0]!.id;
    stack.logs.length = 0;
    const ok = await stack.gql(PAGE, { id: instance }, { 'X-Auth-Token': 'secret-token-4242', 'X-Request-Id': 'req-ok-1' });
    expect(ok.headers['x-request-id']).toBe('req-ok-1');
    await stack.setFaults([{ kind: 'error', status: 503 }]);
    const failed = await stack.gql(`query Failing($id: ID!) { backups(instanceId: $id, first: 3) { totalCount } }`, { id: instance }, { Authorization: 'Bearer secret-token-4242' });
    await stack.setFaults([]);
    const generated = String(failed.headers['x-request-id']);
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);

    const ops = lines(stack, 'graphql operation');
    expect(ops).toEqual([
      expect.objectContaining({ requestId: 'req-ok-1', operation: 'Page', upstreamCalls: 1, errorCodes: [], outcome: 'ok', durationMs: expect.any(Number) }),
      expect.objectContaining({ requestId: generated, operation: 'Failing', upstreamCalls: 3, errorCodes: ['UPSTREAM_UNAVAILABLE'], outcome: 'partial' }),
    ]);
    // Each upstream call at debug, with the gateway's request id next to the upstream's.
    const calls = lines(stack, 'upstream call');
    expect(calls[0]).toMatchObject({ requestId: 'req-ok-1', upstream: { status: 200, requestId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
    expect(calls.filter((c) => c.requestId === generated)).toHaveLength(3);
    expect(stack.logs.join('\n')).not.toContain('secret-token-4242');
  });
});

/** Parses Prometheus text exposition strictly: every sample line is `name{labels} value`. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|[Nn][Aa][Nn]|\+Inf|-Inf))$/.exec(line); // Go's ParseFloat: NaN in any case
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    samples.set(m[1]!, Number(m[2]));
  }
  return samples;
}
const sum = (samples: Map<string, number>, prefix: string) => [...samples].filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0);

describe('/metrics', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ env: { UPSTREAM_RETRIES: '2' } }); });
  afterAll(() => stack.close());

  it('parses as Prometheus text, and its upstream counters move by exactly the calls the simulator counted', async () => {
    const before = parsePrometheus((await rawRequest(stack.gateway.url, '/metrics')).text);
    await stack.resetCalls();
    const [a, b] = stack.sim.store.list().map((i) => i.id) as [string, string];
    await stack.gql(PAGE, { id: a });
    await stack.gql('query Two($a: ID!, $b: ID!) { x: backups(instanceId: $a, first: 150) { totalCount } y: backups(instanceId: $b) { totalCount } }', { a, b });
    await stack.setFaults([{ kind: 'error', status: 500, times: 2 }]);
    await stack.gql(PAGE, { id: b }); // two failures, then a retry that succeeds
    await stack.setFaults([]);
    const res = await rawRequest(stack.gateway.url, '/metrics');
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const after = parsePrometheus(res.text);
    const simulated = (await stack.calls()).count;
    expect(simulated).toBeGreaterThan(3);
    expect(sum(after, 'upstream_calls_total') - sum(before, 'upstream_calls_total')).toBe(simulated);
    expect(after.get('upstream_calls_total{status="500",error_code="DBS.108000"}')).toBe(2);
    expect(sum(after, 'upstream_retries_total') - sum(before, 'upstream_retries_total')).toBe(2);
    expect(after.get('graphql_operations_total{operation="Two",outcome="ok"}')).toBe(1);
    expect(sum(after, 'http_requests_total{route="/graphql"')).toBeGreaterThanOrEqual(3);
    expect(after.has('process_resident_memory_bytes')).toBe(true);
    expect(res.text).toContain('upstream_budget_remaining{identity_class="anonymous"}');
    expect(res.text).not.toMatch(/token:|ak:/);
  });
});

describe('/readyz', () => {
  const readyGauge = async (stack: Stack): Promise<number | undefined> => parsePrometheus((await rawRequest(stack.gateway.url, '/metrics')).text).get('gateway_ready');

  it('turns unready when the upstream is down, and ready again when it returns; gateway_ready says the same at each scrape', async () => {
    const stack = await startStack({ readinessWindowMs: 0 });
    try {
      const port = Number(new URL(stack.sim.url).port);
      expect((await rawRequest(stack.gateway.url, '/readyz')).status).toBe(200);
      expect(await readyGauge(stack)).toBe(1);
      await stack.sim.close();
      const down = await rawRequest(stack.gateway.url, '/readyz');
      expect(down.status).toBe(503);
      expect(down.json()).toMatchObject({ status: 'unready', upstream: 'unreachable' });
      expect(await readyGauge(stack)).toBe(0);
      const back = await withSimulator({ port });
      try {
        expect((await rawRequest(stack.gateway.url, '/readyz')).json()).toMatchObject({ status: 'ready', upstream: 'answering', store: 'memory' });
        expect(await readyGauge(stack)).toBe(1);
      } finally {
        await back.close();
      }
      expect((await rawRequest(stack.gateway.url, '/healthz')).status).toBe(200);
    } finally {
      await stack.app.close();
    }
  });

  it('is unready while a configured Redis is unreachable (requests still served from memory)', async () => {
    const redis = await startRedis();
    const stack = await startStack({ env: { REDIS_URL: redis.url } });
    try {
      expect((await rawRequest(stack.gateway.url, '/readyz')).json()).toMatchObject({ status: 'ready', store: 'redis' });
      await redis.stop();
      const report = await rawRequest(stack.gateway.url, '/readyz');
      expect(report.status).toBe(503);
      expect(report.json().store).toMatch(/redis unreachable/);
      expect((await stack.gql(PAGE, { id: stack.sim.store.list()[0]!.id })).body.data.backups.totalCount).toBe(1234);
    } finally {
      await stack.close();
      await redis.stop();
    }
  });
});

describe('shutdown', () => {
  it('on SIGTERM finishes the slow query in flight, refuses new connections, and exits 0', async () => {
    const sim = await withSimulator({ faults: [{ kind: 'latency', latencyMs: 1500 }] });
    const { child, url, output } = await startGatewayProcess({ RDS_ENDPOINT: sim.url, HUAWEICLOUD_SDK_PROJECT_ID: PROJECT, LOG_LEVEL: 'info' });
    try {
      const slow = fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ backups(instanceId: "${sim.store.list()[0]!.id}", first: 2) { totalCount } }` }) });
      // SIGTERM once the query is in flight: its upstream call has reached the (slow) simulator.
      while (sim.calls.inFlight === 0) await new Promise((r) => setTimeout(r, 10));
      child.kill('SIGTERM');
      const answer = await slow;
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as any).data.backups.totalCount).toBe(1234);
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
      expect(output()).toContain('"msg":"stopped"');
      await expect(fetch(url)).rejects.toThrow();
    } finally {
      child.kill('SIGKILL');
      await sim.close();
    }
  });
});
