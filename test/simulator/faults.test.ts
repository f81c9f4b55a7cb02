/** Fault injection, set at start or through /__admin/faults, per instance or for all. */
import type { Simulator } from '../../src/simulator/server';
import { rawRequest } from '../helpers/http';
import { listPath, withSimulator } from '../helpers/simulator';

let sim: Simulator;
let a: string;
let b: string;
beforeAll(async () => {
  sim = await withSimulator();
  [a, b] = sim.store.list().map((i) => i.id) as [string, string];
});
afterAll(() => sim.close());
afterEach(() => rawRequest(sim.url, '/__admin/faults', { method: 'DELETE' }));

const setFaults = async (rules: unknown) => {
  const res = await rawRequest(sim.url, '/__admin/faults', { method: 'PUT', body: JSON.stringify(rules) });
  expect(res.status).toBe(200);
};
const list = (instance: string, timeoutMs?: number) => rawRequest(sim.url, listPath(`instance_id=${instance}&limit=1`), { timeoutMs });

describe('faults', () => {
  it('adds latency', async () => {
    await setFaults([{ kind: 'latency', latencyMs: 300 }]);
    const t = performance.now();
    expect((await list(a)).status).toBe(200);
    expect(performance.now() - t).toBeGreaterThanOrEqual(290);
  });

  it('answers 5xx and 409 with the error body of the status', async () => {
    await setFaults([{ kind: 'error', status: 503, times: 1 }, { kind: 'error', status: 409, instanceId: b }]);
    const first = await list(a);
    expect([first.status, first.json().error_code]).toEqual([503, 'DBS.108005']);
    expect(first.headers['x-request-id']).toBeDefined();
    expect((await list(a)).status).toBe(200); // times: 1 is used up
    const busy = await list(b);
    expect([busy.status, busy.json().error_code]).toEqual([409, 'DBS.200011']);
  });

  it('throttles with 429 APIGW.0308 and a Retry-After', async () => {
    await setFaults([{ kind: 'throttle', retryAfterSeconds: 3 }]);
    const res = await list(a);
    expect([res.status, res.json().error_code, res.headers['retry-after']]).toEqual([429, 'APIGW.0308', '3']);
  });

  it('throttles without Retry-After when asked to', async () => {
    await setFaults([{ kind: 'throttle', noRetryAfter: true }]);
    const res = await list(a);
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBeUndefined();
  });

  it('resets the connection', async () => {
    await setFaults([{ kind: 'reset', times: 1 }]);
    await expect(list(a)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect((await list(a)).status).toBe(200);
  });

  it('never answers a hanging call', async () => {
    await setFaults([{ kind: 'hang', instanceId: a }]);
    await expect(list(a, 300)).rejects.toThrow('timeout');
    expect((await list(b)).status).toBe(200);
  });

  it('sends a malformed body or a body of the wrong shape with status 200', async () => {
    await setFaults([{ kind: 'malformed', times: 1 }, { kind: 'wrong-shape', times: 1 }]);
    const broken = await list(a);
    expect(broken.status).toBe(200);
    expect(() => JSON.parse(broken.text)).toThrow();
    const odd = await list(a);
    expect(odd.status).toBe(200);
    expect(Array.isArray(odd.json().backups)).toBe(false);
  });

  it('applies a rate to a share of the calls', async () => {
    await setFaults([{ kind: 'error', status: 500, rate: 0.5 }]);
    const statuses = [];
    for (let i = 0; i < 40; i++) statuses.push((await list(a)).status);
    const failed = statuses.filter((s) => s === 500).length;
    expect(failed).toBeGreaterThan(8);
    expect(failed).toBeLessThan(32);
  });

  it('can be set at start', async () => {
    const faulty = await withSimulator({ faults: [{ kind: 'error', status: 502 }] });
    try {
      expect((await rawRequest(faulty.url, listPath(`instance_id=${a}`))).status).toBe(502);
    } finally {
      await faulty.close();
    }
  });

  it('refuses an invalid rule', async () => {
    const res = await rawRequest(sim.url, '/__admin/faults', { method: 'PUT', body: JSON.stringify([{ kind: 'explode' }]) });
    expect(res.status).toBe(400);
    expect((await rawRequest(sim.url, '/__admin/faults')).json()).toEqual([]);
  });
});
