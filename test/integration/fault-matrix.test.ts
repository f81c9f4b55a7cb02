/**
 * The simulator's faults, each alone and all mixed in one operation: the documented code at each
 * failing field, the other fields answered, bounded retries (counted at the simulator; a hang is
 * ended by the upstream timeout, or this test's own timeout fails it), no unhandled rejection,
 * no socket left open.
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
/** One field of `first: 2` is one upstream call: its first attempt and at most RETRIES more. */
const MAX_ATTEMPTS = RETRIES + 1;

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
beforeEach(async () => {
  await stack.setFaults([]);
  await stack.resetCalls();
});

/** The healthy field's answer, as the simulator's own data has it. */
const totalOf = (id: string): number => stack.sim.store.get(id)!.backups.length;

const field = (alias: string, id: string) => `${alias}: backups(instanceId: "${id}", first: 2) { totalCount nodes { id } }`;

describe.each(FAULTS)('$name', ({ rule, code, retryAfterSeconds }) => {
  it('gives its code at its field, answers the sibling, with bounded retries', async () => {
    const [faulty, healthy] = instances as [string, string];
    await stack.setFaults([{ ...rule, instanceId: faulty }]);
    const res = await stack.gql(`{ ${field('faulty', faulty)} ${field('healthy', healthy)} }`);
    expect(res.status).toBe(200);
    expect(res.body.data.healthy.totalCount).toBe(totalOf(healthy));
    if (code === null) {
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.faulty.totalCount).toBe(totalOf(faulty));
    } else {
      expect(res.body.data.faulty).toBeNull();
      expect(res.body.errors).toHaveLength(1);
      expect(res.body.errors[0]).toMatchObject({ path: ['faulty'], extensions: { code } });
      if (retryAfterSeconds !== undefined) expect(res.body.errors[0].extensions.retryAfterSeconds).toBe(retryAfterSeconds);
    }
    const attempts = (await stack.calls(faulty)).count;
    expect(attempts).toBeGreaterThanOrEqual(1);
    expect(attempts).toBeLessThanOrEqual(MAX_ATTEMPTS);
  });
});

describe('all faults mixed in one operation', () => {
  it('answers every field with its own outcome, each with bounded retries', async () => {
    // Seven instances: one healthy, six with a fault each; then the rest of the faults on a second pass.
    const passes = [FAULTS.slice(0, 6), FAULTS.slice(6)];
    for (const faults of passes) {
      const healthy = instances[instances.length - 1]!;
      await stack.setFaults(faults.map((f, i) => ({ ...f.rule, instanceId: instances[i] })));
      const query = `{ ${faults.map((_, i) => field(`f${i}`, instances[i]!)).join(' ')} ${field('healthy', healthy)} }`;
      await stack.resetCalls();
      const res = await stack.gql(query);
      expect(res.body.data.healthy.totalCount).toBe(totalOf(healthy));
      const { perInstance } = await stack.calls();
      faults.forEach((_, i) => expect(perInstance[instances[i]!]).toBeLessThanOrEqual(MAX_ATTEMPTS));
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
    // Closed sockets leave the active-resource list on a later turn of the event loop.
    for (let turns = 0; sockets() > socketsBefore && turns < 1000; turns++) await new Promise((r) => setImmediate(r));
    expect(unhandled).toBe(0);
    expect(sockets()).toBeLessThanOrEqual(socketsBefore);
  });
});
