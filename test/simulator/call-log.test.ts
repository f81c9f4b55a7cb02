/** The simulator's call log keeps the most recent calls only, and numbers every call so readers can ask for "calls since". */
import { CallLog, type CallRecord } from '../../src/simulator/server';
import { rawRequest } from '../helpers/http';
import { listPath, withSimulator } from '../helpers/simulator';

const call = (instanceId: string): Omit<CallRecord, 'seq'> => ({
  method: 'GET', path: '/v3/p/backups', query: `instance_id=${instanceId}`, instanceId, startedAt: 0, headers: { xAuthToken: false, authorization: false },
});

describe('CallLog', () => {
  it('holds the most recent `capacity` calls, oldest first, while seq keeps counting', () => {
    const log = new CallLog(5);
    for (let i = 1; i <= 12; i++) log.end(log.start(call(`i${i % 2}`)), 200, i);
    expect(log.records.map((r) => r.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(log.seq).toBe(12);
    const all = log.summary();
    expect([all.count, all.dropped, all.seq]).toEqual([5, 7, 12]);
    expect(all.perInstance).toEqual({ i0: 3, i1: 2 });
  });

  it('answers the calls since a seq, saying how many of them it no longer holds', () => {
    const log = new CallLog(3);
    for (let i = 0; i < 10; i++) log.start(call('a'));
    expect(log.summary(undefined, 8)).toMatchObject({ count: 2, dropped: 0, calls: [{ seq: 9 }, { seq: 10 }] });
    expect(log.summary(undefined, 5)).toMatchObject({ count: 3, dropped: 2 });
    expect(log.summary('a', 10)).toMatchObject({ count: 0, dropped: 0, seq: 10 });
  });

  it('forgets everything on reset, but not the count', () => {
    const log = new CallLog(3);
    for (let i = 0; i < 4; i++) log.start(call('a'));
    log.reset();
    expect([log.records, log.summary().dropped]).toEqual([[], 0]);
    expect(log.start(call('b')).seq).toBe(5);
    expect(log.summary()).toMatchObject({ count: 1, dropped: 0, seq: 5 });
  });

  it('refuses a capacity that is not a whole number of at least 1', () => {
    expect(() => new CallLog(0)).toThrow(RangeError);
  });
});

describe('GET /__admin/calls', () => {
  it('reports what it holds of the last calls, and the calls since ?since=', async () => {
    const sim = await withSimulator({ callLogCapacity: 3 });
    try {
      const instance = sim.store.list()[0]!.id;
      for (let i = 0; i < 5; i++) expect((await rawRequest(sim.url, listPath(`instance_id=${instance}&limit=1`))).status).toBe(200);
      const all = (await rawRequest(sim.url, '/__admin/calls')).json();
      expect([all.count, all.seq, all.dropped, all.calls.map((c: any) => c.seq)]).toEqual([3, 5, 2, [3, 4, 5]]);
      const since = (await rawRequest(sim.url, '/__admin/calls?since=4')).json();
      expect([since.count, since.dropped, since.calls.map((c: any) => c.seq)]).toEqual([1, 0, [5]]);
      const bad = await rawRequest(sim.url, '/__admin/calls?since=-1');
      expect([bad.status, bad.json().error]).toEqual([400, expect.stringMatching(/since/)]);
    } finally {
      await sim.close();
    }
  });
});
