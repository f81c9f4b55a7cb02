/**
 * The simulator's faults, each alone and all mixed in one operation: the documented code at each
 * failing field, the other fields answered, bounded time, no unhandled rejection, no socket left open.
 */
import { startStack, type Stack } from '../helpers/stack';

const TIMEOUT_MS = 300;
const RETRIES = 2;

interface Fault { name: string; rule: Record<string, unknown>; code: string | null; retryAfterSeconds?: number }
const FAULTS: Fault[] = [
  { name: 'latency beyond the timeout', rule: { kind: 'latency', latencyMs: 800 }, code: 'UPSTREAM_UNAVAILABLE' },
  { name: 'a burst of 5xx shorter than the retries', rule: { kind: 'error', status: 503, times: 2 }, code: null },
  { name: '5xx on every attempt', rule: { kind: 'error', status: 502 }, code: 'UPSTREAM_UNAVAILABLE' },
  { name: '429 with a long Retry-After', rule: { kind: 'throttle', retryAfterSeconds: 30 }, code: 'RATE_LIMITED', retryAfterSeconds: 30 },
  { name: '429 without Retry-After', rule: { kind: 'throttle', noRetryAfter: true }, code: 'RATE_LIMITED', retryAfterSeconds: 5 },
  { name: 'connection resets', rule: { kind: 'reset' }, code: 'UPSTREAM_UNAVAILABLE' },
  { name: 'an upstream that never answers', rule: { kind: 'hang' }, code: 'UPSTREAM_UNAVAILABLE' },
  { name: 'a malformed body', rule: { kind: 'malformed' }, code: 'UPSTREAM_BAD_RESPONSE' },
  { name: 'a body of the wrong shape', rule: { kind: 'wrong-shape' }, code: 'UPSTREAM_BAD_RESPONSE' },
];
/** The worst case of one field: every attempt times out, with jittered backoff between (10 ms base in tests). */
const BOUND_MS = (RETRIES + 1) * TIMEOUT_MS + 500;

const sockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

let unhandled = 0;
const onUnhandled = (): void => { unhandled += 1; };
let socketsBefore: number;
let stack: Stack;
let instances: string[];

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  socketsBefore = sockets();
  stack = await startStack({ env: { UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS), UPSTREAM_RETRIES: String(RETRIES), MAX_UPSTREAM_CALLS_PER_OPERATION: '50' } });
  instances = stack.sim.store.list().map((i) => i.id);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
});
beforeEach(() => stack.setFaults([]));

const field = (alias: string, id: string) => `${alias}: backups(instanceId: "${id}", first: 2) { totalCount nodes { id } }`;

describe.each(FAULTS)('$name', ({ rule, code, retryAfterSeconds }) => {
  it('gives its code at its field, answers the sibling, in bounded time', async () => {
    const [faulty, healthy] = instances as [string, string];
    await stack.setFaults([{ ...rule, instanceId: faulty }]);
    const started = performance.now();
    const res = await stack.gql(`{ ${field('faulty', faulty)} ${field('healthy', healthy)} }`);
    const ms = performance.now() - started;
    expect(res.status).toBe(200);
    expect(res.body.data.healthy.totalCount).toBeGreaterThan(0);
    if (code === null) {
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.faulty.totalCount).toBeGreaterThan(0);
    } else {
      expect(res.body.data.faulty).toBeNull();
      expect(res.body.errors).toHaveLength(1);
      expect(res.body.errors[0]).toMatchObject({ path: ['faulty'], extensions: { code } });
      if (retryAfterSeconds !== undefined) expect(res.body.errors[0].extensions.retryAfterSeconds).toBe(retryAfterSeconds);
    }
    expect(ms).toBeLessThan(BOUND_MS);
  });
});

describe('all faults mixed in one operation', () => {
  it('answers every field with its own outcome, in the time of the slowest', async () => {
    // Seven instances: one healthy, six with a fault each; then the rest of the faults on a second pass.
    const passes = [FAULTS.slice(0, 6), FAULTS.slice(6)];
    for (const faults of passes) {
      const healthy = instances[instances.length - 1]!;
      await stack.setFaults(faults.map((f, i) => ({ ...f.rule, instanceId: instances[i] })));
      const query = `{ ${faults.map((_, i) => field(`f${i}`, instances[i]!)).join(' ')} ${field('healthy', healthy)} }`;
      const started = performance.now();
      const res = await stack.gql(query);
      expect(performance.now() - started).toBeLessThan(BOUND_MS);
      expect(res.body.data.healthy.totalCount).toBeGreaterThanOrEqual(0);
      const byField = Object.fromEntries((res.body.errors ?? []).map((e: any) => [e.path[0], e.extensions.code]));
      faults.forEach((f, i) => {
        if (f.code === null) expect(res.body.data[`f${i}`]).not.toBeNull();
        else expect({ field: `f${i}`, fault: f.name, code: byField[`f${i}`] }).toEqual({ field: `f${i}`, fault: f.name, code: f.code });
      });
      await stack.setFaults([]);
    }
  });
});

describe('afterwards', () => {
  it('left no unhandled rejection and, once closed, no socket open', async () => {
    await stack.setFaults([]);
    await stack.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(unhandled).toBe(0);
    expect(sockets()).toBeLessThanOrEqual(socketsBefore);
  });
});
