/**
 * Issue 21, tracing (DESIGN.md, "Tracing"), over real HTTP: the built gateway as `npm start` runs
 * it, the simulator in this process, and an OTLP/HTTP receiver of the test's own collecting what
 * the gateway exports. One trace runs from the caller's `traceparent` through the operation's
 * server span to each upstream attempt's client span, whose `traceparent` the simulator records;
 * no secret is anywhere in the exported bytes; log lines carry the ids; with tracing off nothing
 * is exported and no log line has a trace id.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { rawRequest } from '../helpers/http';
import { liveClient, until, WATCH } from '../helpers/live-clients';
import { spawnGateway, type GatewayProcess } from '../helpers/process';
import { PROJECT, withSimulator } from '../helpers/simulator';
import type { Simulator } from '../../src/simulator/server';

const TOKEN = 'some-secret-token';
const AK = 'HPUAEXAMPLEAK123';
const SK = 'example-secret-key-do-not-log';
const PAGE = 'query Page($id: ID!) { backups(instanceId: $id, first: 2) { totalCount nodes { id } } }';
const SERVER = 2;
const CLIENT = 3;

/** A span as the test reads it from OTLP/JSON: ids in hex, attributes as plain values. */
interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  status: { code?: number; message?: string };
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number; arrayValue?: { values?: OtlpValue[] } };

function valueOf(v: OtlpValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(valueOf);
  return v.boolValue ?? v.doubleValue;
}

const attributesOf = (list: Array<{ key: string; value: OtlpValue }> = []): Record<string, unknown> => Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));

/** An OTLP/HTTP receiver: every POST's path, content type and bytes; JSON bodies read as spans. */
class Receiver {
  readonly posts: Array<{ path: string; contentType: string; body: Buffer }> = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.posts.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), body: Buffer.concat(chunks) });
      const json = String(req.headers['content-type']).includes('json');
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
    });
  });

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Every byte exported so far, as text. */
  everything(): string {
    return this.posts.map((p) => p.body.toString('latin1')).join('\n');
  }

  spans(): ExportedSpan[] {
    return this.posts.filter((p) => p.contentType.includes('json')).flatMap((p) => JSON.parse(p.body.toString('utf8')).resourceSpans ?? [])
      .flatMap((r: any) => r.scopeSpans ?? []).flatMap((s: any) => s.spans ?? [])
      .map((s: any) => ({
        traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, name: s.name, kind: s.kind,
        attributes: attributesOf(s.attributes), status: s.status ?? {},
        events: (s.events ?? []).map((e: any) => ({ name: e.name, attributes: attributesOf(e.attributes) })),
      }));
  }

  /** The exported spans once `ready` holds of them (each export is checked as it arrives; the test's timeout bounds a hang). */
  async spansWhen(ready: (spans: ExportedSpan[]) => boolean): Promise<ExportedSpan[]> {
    await until(async () => ready(this.spans()));
    return this.spans();
  }
}

const hex = (bytes: number): string => [...Array(bytes)].map(() => Math.floor(Math.random() * 256).toString(16).padStart(2, '0')).join('');

/** An incoming trace context: a trace id and a parent span id of the caller's. */
function callerContext(): { traceId: string; parentId: string; traceparent: string } {
  const traceId = hex(16);
  const parentId = hex(8);
  return { traceId, parentId, traceparent: `00-${traceId}-${parentId}-01` };
}

async function gql(url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}): Promise<any> {
  const res = await rawRequest(url.replace(/\/graphql$/, ''), '/graphql', {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

async function admin(sim: Simulator, path: string, method = 'GET', body?: unknown): Promise<any> {
  return (await rawRequest(sim.url, `/__admin/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) })).json();
}

/** Starts the built gateway against `sim`; resolves with its `/graphql` URL once it listens. */
async function startGateway(env: Record<string, string>): Promise<GatewayProcess & { url: string }> {
  const gateway = spawnGateway({
    PORT: '0', RDS_ENDPOINT: '', HUAWEICLOUD_SDK_PROJECT_ID: PROJECT, UPSTREAM_BUDGET_PER_MINUTE: '1000', LOG_LEVEL: 'debug',
    OTEL_BSP_SCHEDULE_DELAY: '20', ...env,
  });
  const [, url] = await gateway.waitFor(/GraphQL at (\S+)/);
  return { ...gateway, url: url! };
}

async function stop(gateway: GatewayProcess): Promise<void> {
  if (gateway.child.exitCode !== null) return;
  gateway.child.kill('SIGTERM');
  await once(gateway.child, 'exit');
}

const logLines = (gateway: GatewayProcess): any[] => gateway.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

describe('tracing on (OTLP http/json)', () => {
  let sim: Simulator;
  let receiver: Receiver;
  let gateway: GatewayProcess & { url: string };
  let instances: string[];

  beforeAll(async () => {
    sim = await withSimulator({ auth: { tokens: [TOKEN] } });
    instances = sim.store.list().map((i) => i.id);
    receiver = new Receiver();
    const endpoint = await receiver.start();
    gateway = await startGateway({
      RDS_ENDPOINT: sim.url, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      UPSTREAM_CACHE_TTL_MS: '60000', OTEL_SERVICE_NAME: 'backups-under-test',
    });
  });
  afterAll(async () => {
    await stop(gateway);
    await receiver.close();
    await sim.close();
  });

  it('follows one trace from the caller through the operation to each upstream attempt, the retry included', async () => {
    const caller = callerContext();
    await admin(sim, 'calls', 'DELETE');
    await admin(sim, 'faults', 'PUT', [{ kind: 'error', status: 503, times: 1, instanceId: instances[0] }]);
    const body = await gql(gateway.url, PAGE, { id: instances[0] }, { traceparent: caller.traceparent, 'X-Auth-Token': TOKEN });
    expect(body.errors).toBeUndefined();

    const spans = await receiver.spansWhen((all) => all.some((s) => s.traceId === caller.traceId && s.kind === SERVER));
    const operation = spans.find((s) => s.traceId === caller.traceId && s.kind === SERVER)!;
    expect(operation).toMatchObject({
      name: 'query Page', parentSpanId: caller.parentId,
      attributes: { 'graphql.operation.name': 'Page', 'graphql.operation.type': 'query', 'rds.upstream.calls': 2, 'rds.upstream.shared': 0, 'rds.upstream.pages': 1 },
    });
    expect(operation.events).toEqual([{ name: 'rds.upstream.page', attributes: { 'rds.cache.outcome': 'miss' } }]);
    const attempts = spans.filter((s) => s.traceId === caller.traceId && s.kind === CLIENT).sort((a, b) => Number(a.attributes['rds.retry']) - Number(b.attributes['rds.retry']));
    expect(attempts).toHaveLength(2);
    const common = {
      name: 'GET', parentSpanId: operation.spanId,
      attributes: { 'http.request.method': 'GET', 'server.address': '127.0.0.1', 'server.port': sim.port, 'url.path': `/v3/${PROJECT}/backups`, 'rds.cache.outcome': 'miss' },
    };
    expect(attempts[0]).toMatchObject({ ...common, attributes: { ...common.attributes, 'rds.retry': 0, 'http.response.status_code': 503, 'error.type': '503' }, status: { code: 2 } });
    expect(attempts[1]).toMatchObject({ ...common, attributes: { ...common.attributes, 'rds.retry': 1, 'http.response.status_code': 200 } });
    expect(attempts[1]!.attributes['error.type']).toBeUndefined();
    for (const attempt of attempts) expect(attempt.attributes['rds.budget.remaining']).toEqual(expect.any(Number));
    expect(Number(attempts[1]!.attributes['rds.budget.remaining'])).toBe(Number(attempts[0]!.attributes['rds.budget.remaining']) - 1);

    // What each upstream request carried names its own attempt's span, in the caller's trace.
    const calls = (await admin(sim, 'calls')).calls;
    expect(calls.map((c: any) => c.headers.traceparent)).toEqual(attempts.map((a) => `00-${caller.traceId}-${a.spanId}-01`));
    expect(calls.map((c: any) => c.status)).toEqual([503, 200]);

    // Its log line carries the operation's ids; each upstream call's, its attempt's.
    const lines = logLines(gateway);
    expect(lines.find((l) => l.msg === 'graphql operation' && l.trace_id === caller.traceId)).toMatchObject({ span_id: operation.spanId, operation: 'Page' });
    expect(lines.filter((l) => l.msg === 'upstream call' && l.trace_id === caller.traceId).map((l) => l.span_id)).toEqual(attempts.map((a) => a.spanId));
  });

  it('says on the span of a repeat served from the cache that no call was made', async () => {
    const first = callerContext();
    const repeat = callerContext();
    await gql(gateway.url, PAGE, { id: instances[1] }, { traceparent: first.traceparent, 'X-Auth-Token': TOKEN });
    await gql(gateway.url, PAGE, { id: instances[1] }, { traceparent: repeat.traceparent, 'X-Auth-Token': TOKEN });
    const spans = await receiver.spansWhen((all) => all.some((s) => s.traceId === repeat.traceId && s.kind === SERVER));
    const operation = spans.find((s) => s.traceId === repeat.traceId)!;
    expect(operation.attributes).toMatchObject({ 'rds.upstream.calls': 0, 'rds.upstream.pages': 1 });
    expect(operation.events).toEqual([{ name: 'rds.upstream.page', attributes: { 'rds.cache.outcome': 'hit' } }]);
    expect(spans.filter((s) => s.traceId === repeat.traceId && s.kind === CLIENT)).toEqual([]);
  });

  it('says on the span of a request that joined another\'s call which call it shared', async () => {
    const leader = callerContext();
    const joiner = callerContext();
    const { seq } = await admin(sim, 'calls');
    // Long enough for the second request to join on a loaded machine: the test waits for the answers, not for the time.
    await admin(sim, 'faults', 'PUT', [{ kind: 'latency', latencyMs: 3000, times: 1, instanceId: instances[2] }]);
    const led = gql(gateway.url, PAGE, { id: instances[2] }, { traceparent: leader.traceparent, 'X-Auth-Token': TOKEN });
    // The second request comes once the first one's call is at the upstream, held there by the latency.
    await until(async () => (await admin(sim, `calls?since=${seq}`)).count > 0);
    const joined = gql(gateway.url, PAGE, { id: instances[2] }, { traceparent: joiner.traceparent, 'X-Auth-Token': TOKEN });
    await Promise.all([led, joined]);

    const spans = await receiver.spansWhen((all) => [leader, joiner].every((c) => all.some((s) => s.traceId === c.traceId && s.kind === SERVER)));
    const attempt = spans.find((s) => s.traceId === leader.traceId && s.kind === CLIENT)!;
    const waiting = spans.find((s) => s.traceId === joiner.traceId && s.kind === SERVER)!;
    expect(waiting.attributes).toMatchObject({ 'rds.upstream.calls': 0, 'rds.upstream.shared': 1, 'rds.upstream.pages': 1 });
    expect(waiting.events).toEqual([{ name: 'rds.upstream.page', attributes: { 'rds.cache.outcome': 'coalesced', 'rds.upstream.trace_id': leader.traceId, 'rds.upstream.span_id': attempt.spanId } }]);
  });

  it('marks an operation that ended in errors and no data as an error, with the public code and the message the client got', async () => {
    const caller = callerContext();
    const body = await gql(gateway.url, '{ nope }', {}, { traceparent: caller.traceparent, 'X-Auth-Token': TOKEN });
    const spans = await receiver.spansWhen((all) => all.some((s) => s.traceId === caller.traceId && s.kind === SERVER));
    const operation = spans.find((s) => s.traceId === caller.traceId && s.kind === SERVER)!;
    expect(operation.status).toEqual({ code: 2, message: body.errors[0].message });
    expect(operation.attributes).toMatchObject({ 'error.type': 'GRAPHQL_VALIDATION_FAILED', 'graphql.error.codes': ['GRAPHQL_VALIDATION_FAILED'] });
  });

  it('ends the span of a request Apollo refuses before its pipeline begins (a body that is not a GraphQL request)', async () => {
    const caller = callerContext();
    const res = await rawRequest(gateway.url.replace(/\/graphql$/, ''), '/graphql', {
      method: 'POST', headers: { 'content-type': 'application/json', traceparent: caller.traceparent, 'X-Auth-Token': TOKEN }, body: JSON.stringify({ query: 1 }),
    });
    expect(res.status).toBe(400);
    const spans = await receiver.spansWhen((all) => all.some((s) => s.traceId === caller.traceId && s.kind === SERVER));
    const operation = spans.find((s) => s.traceId === caller.traceId && s.kind === SERVER)!;
    expect(operation).toMatchObject({ parentSpanId: caller.parentId, status: { code: 2, message: res.json().errors[0].message }, attributes: { 'error.type': 'BAD_REQUEST' } });
  });

  it('makes a subscription over graphql-ws an operation span, and each live poll a root span of its own', async () => {
    const caller = callerContext();
    const client = liveClient(gateway.url.replace(/\/graphql$/, ''), { headers: { traceparent: caller.traceparent }, connectionParams: { 'X-Auth-Token': TOKEN } });
    const events = client.iterate({ query: WATCH, variables: { id: instances[3] } });
    const first = events.next();
    const isPoll = (s: ExportedSpan, all: ExportedSpan[]): boolean => s.name === 'live poll' && all.some((a) => a.parentSpanId === s.spanId);
    // The first poll (the baseline) is exported once it has answered; then the subscription ends.
    const polls = await receiver.spansWhen((all) => all.some((s) => isPoll(s, all)));
    await events.return?.();
    await client.dispose();
    void first.catch(() => undefined);

    const poll = polls.find((s) => isPoll(s, polls))!;
    expect(poll.parentSpanId).toBeUndefined();
    expect(poll.attributes).toMatchObject({ 'rds.live.outcome': 'ok', 'rds.live.watchers': 1 });
    expect(polls.find((a) => a.parentSpanId === poll.spanId)).toMatchObject({ name: 'GET', kind: CLIENT, attributes: { 'rds.retry': 0, 'http.response.status_code': 200 } });
    const spans = await receiver.spansWhen((all) => all.some((s) => s.traceId === caller.traceId && s.kind === SERVER));
    expect(spans.find((s) => s.traceId === caller.traceId)).toMatchObject({
      name: 'subscription Watch', parentSpanId: caller.parentId, attributes: { 'graphql.operation.name': 'Watch', 'graphql.operation.type': 'subscription' },
    });
  });

  it('exports no token, no credential header and the configured service name', async () => {
    const everything = receiver.everything();
    expect(everything).toContain('backups-under-test');
    expect(everything).not.toContain(TOKEN);
    expect(everything.toLowerCase()).not.toContain('x-auth-token');
    expect(everything).not.toContain('token:'); // the caller identity, a hash of the token
  });
});

describe('tracing on with the service AK/SK', () => {
  it('signs every attempt as the cloud expects, with traceparent unsigned, and exports no AK, SK or signature', async () => {
    const sim = await withSimulator({ auth: { keys: [{ ak: AK, sk: SK }] } });
    const receiver = new Receiver();
    const endpoint = await receiver.start();
    const gateway = await startGateway({
      RDS_ENDPOINT: sim.url, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/v1/traces`, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SK: SK, UPSTREAM_CACHE_TTL_MS: '0',
    });
    try {
      const caller = callerContext();
      const id = sim.store.list()[0]!.id;
      await admin(sim, 'faults', 'PUT', [{ kind: 'error', status: 500, times: 1 }]);
      const body = await gql(gateway.url, PAGE, { id }, { traceparent: caller.traceparent });
      expect(body.errors).toBeUndefined();
      const calls = (await admin(sim, 'calls')).calls;
      expect(calls.map((c: any) => [c.status, c.caller])).toEqual([[500, `ak:${AK}`], [200, `ak:${AK}`]]);
      expect(new Set(calls.map((c: any) => c.headers.traceparent)).size).toBe(2);

      const spans = await receiver.spansWhen((all) => all.filter((s) => s.traceId === caller.traceId).length === 3);
      expect(spans.filter((s) => s.traceId === caller.traceId).map((s) => s.name).sort()).toEqual(['GET', 'GET', 'query Page']);
      expect(receiver.posts.every((p) => p.path === '/v1/traces')).toBe(true);
      const everything = receiver.everything();
      for (const secret of [AK, SK, 'Signature', 'SDK-HMAC-SHA256', 'X-Sdk-Date']) expect(everything).not.toContain(secret);
    } finally {
      await stop(gateway);
      await receiver.close();
      await sim.close();
    }
  });
});

describe('tracing on (OTLP http/protobuf, the default protocol)', () => {
  it('POSTs protobuf to <endpoint>/v1/traces with the caller\'s trace in it, and flushes on shutdown', async () => {
    const sim = await withSimulator();
    const receiver = new Receiver();
    const endpoint = await receiver.start();
    // A long batch delay: the spans can only arrive through the flush at shutdown.
    const gateway = await startGateway({ RDS_ENDPOINT: sim.url, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '600000' });
    try {
      const caller = callerContext();
      await gql(gateway.url, PAGE, { id: sim.store.list()[0]!.id }, { traceparent: caller.traceparent });
      await stop(gateway);
      expect(receiver.posts.length).toBeGreaterThan(0);
      expect(receiver.posts.every((p) => p.path === '/v1/traces' && p.contentType === 'application/x-protobuf')).toBe(true);
      const bytes = Buffer.concat(receiver.posts.map((p) => p.body));
      expect(bytes.includes(Buffer.from(caller.traceId, 'hex'))).toBe(true);
      expect(bytes.includes(Buffer.from(caller.parentId, 'hex'))).toBe(true);
    } finally {
      await stop(gateway);
      await receiver.close();
      await sim.close();
    }
  });
});

describe('tracing off', () => {
  it.each([
    ['no OTLP endpoint', (): Record<string, string> => ({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })],
    ['OTEL_SDK_DISABLED=true', (endpoint: string): Record<string, string> => ({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SDK_DISABLED: 'true' })],
  ])('(%s) exports nothing and writes no trace id in any log line, a traceparent notwithstanding', async (_case, envOf) => {
    const sim = await withSimulator();
    const receiver = new Receiver();
    const endpoint = await receiver.start();
    const gateway = await startGateway({ RDS_ENDPOINT: sim.url, ...envOf(endpoint) });
    try {
      const caller = callerContext();
      const body = await gql(gateway.url, PAGE, { id: sim.store.list()[0]!.id }, { traceparent: caller.traceparent });
      expect(body.errors).toBeUndefined();
      const calls = (await admin(sim, 'calls')).calls;
      expect(calls).toHaveLength(1);
      expect(calls[0].headers.traceparent).toBeUndefined();
      await stop(gateway); // a gateway with tracing on exports what it holds on its way out
      expect(receiver.posts).toEqual([]);
      const lines = logLines(gateway);
      expect(lines.some((l) => l.msg === 'graphql operation')).toBe(true);
      expect(lines.filter((l) => 'trace_id' in l || 'span_id' in l)).toEqual([]);
    } finally {
      await stop(gateway);
      await receiver.close();
      await sim.close();
    }
  });
});
