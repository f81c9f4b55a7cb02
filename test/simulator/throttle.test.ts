/** Throttling per caller: 60 calls a minute by default, then 429 APIGW.0308 with Retry-After. */
import { Throttle } from '../../src/simulator/throttle';
import { rawRequest } from '../helpers/http';
import { listPath, withSimulator } from '../helpers/simulator';

describe('throttling', () => {
  it('answers the 61st call of a minute with 429 APIGW.0308 and Retry-After, per caller', async () => {
    let clock = 1_000_000;
    const sim = await withSimulator({ rateLimitPerMinute: 60, auth: { tokens: ['alice', 'bob'] }, now: () => clock });
    try {
      const instance = sim.store.list()[0]!.id;
      const call = (token: string) => rawRequest(sim.url, listPath(`instance_id=${instance}&limit=1`), { headers: { 'X-Auth-Token': token } });
      for (let i = 0; i < 60; i++) {
        clock += 500;
        expect((await call('alice')).status).toBe(200);
      }
      const refused = await call('alice');
      expect(refused.status).toBe(429);
      expect(refused.json()).toMatchObject({ error_code: 'APIGW.0308' });
      // The oldest call in the window was at +500 ms; the clock is at +30 s.
      expect(refused.headers['retry-after']).toBe('31');
      expect((await call('bob')).status).toBe(200); // another caller has its own window
      clock += 31_000;
      expect((await call('alice')).status).toBe(200);
    } finally {
      await sim.close();
    }
  });

  it('is configurable, and 0 turns it off', async () => {
    const sim = await withSimulator({ rateLimitPerMinute: 2 });
    try {
      const instance = sim.store.list()[0]!.id;
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await rawRequest(sim.url, listPath(`instance_id=${instance}`))).status);
      expect(statuses).toEqual([200, 200, 429]);
      await rawRequest(sim.url, '/__admin/throttle', { method: 'PUT', body: JSON.stringify({ perMinute: 0 }) });
      for (let i = 0; i < 5; i++) expect((await rawRequest(sim.url, listPath(`instance_id=${instance}`))).status).toBe(200);
    } finally {
      await sim.close();
    }
  });
});

describe('Throttle memory', () => {
  it('remembers at most maxCallers callers (10,000 by default), however many come', () => {
    let clock = 0;
    const throttle = new Throttle(60, () => clock);
    let allowed = 0;
    for (let i = 0; i < 50_000; i++) {
      clock += 1; // all within one minute: none of them is idle yet
      if (throttle.take(`caller-${i}`).ok) allowed += 1;
    }
    expect(allowed).toBe(50_000);
    expect(throttle.size).toBe(10_000);
  });

  it('forgets a caller with no call in the last minute, and keeps the limits of the others', () => {
    let clock = 0;
    const throttle = new Throttle(2, () => clock, 100);
    for (let i = 0; i < 50; i++) throttle.take(`idle-${i}`);
    clock = 30_000;
    throttle.take('busy');
    throttle.take('busy');
    expect(throttle.size).toBe(51);
    clock = 60_001; // the idle callers' calls are over a minute old; busy's are not
    expect(throttle.take('busy')).toEqual({ ok: false, retryAfterSeconds: 30 });
    expect(throttle.size).toBe(1);
  });

  it('forgets the least recently counted caller past maxCallers, window and all (acceptable for a simulator)', () => {
    let clock = 0;
    const throttle = new Throttle(2, () => clock, 2);
    throttle.take('a');
    throttle.take('a');
    expect(throttle.take('a').ok).toBe(false);
    clock += 1;
    throttle.take('b');
    throttle.take('c'); // a is the least recently counted: forgotten
    expect(throttle.size).toBe(2);
    expect(throttle.take('a')).toEqual({ ok: true });
  });
});
