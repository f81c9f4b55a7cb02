/** The /__admin/ test helpers: instances, inserting and changing backups, the call log. */
import { startSimulator } from '../../src/simulator/server';
import type { Simulator } from '../../src/simulator/server';
import { rawRequest } from '../helpers/http';
import { adminInstances, listPath, withSimulator } from '../helpers/simulator';

let sim: Simulator;
let instance: string;
beforeAll(async () => {
  sim = await withSimulator();
  instance = (await adminInstances(sim)).find((i) => i.engine === 'MariaDB')!.id;
});
afterAll(() => sim.close());

const admin = (path: string, method = 'GET', body?: unknown) =>
  rawRequest(sim.url, `/__admin/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
const page = async (query = '') => (await rawRequest(sim.url, listPath(`instance_id=${instance}${query}`))).json();

describe('/__admin/', () => {
  it('lists the instances with engine, version and number of backups', async () => {
    const rows = await adminInstances(sim);
    expect(rows[0]).toEqual({ id: expect.any(String), name: expect.any(String), engine: 'MySQL', version: '8.0', backups: 1234 });
  });

  it('inserts new backups at the head of an instance', async () => {
    const before = await page();
    const created = (await admin(`instances/${instance}/backups`, 'POST', { count: 3, type: 'manual' })).json();
    expect(created).toHaveLength(3);
    const after = await page();
    expect(after.total_count).toBe(before.total_count + 3);
    expect(after.backups.slice(0, 3).map((r: any) => (r.id ?? r['id ']).trim())).toEqual(created.map((c: any) => c.id).reverse());
    expect(after.backups[3]).toEqual(before.backups[0]);
    expect(after.backups[0].begin_time > before.backups[0].begin_time).toBe(true);
  });

  it('changes the status of a backup, and deletes one', async () => {
    const target = (await page('&offset=5&limit=1')).backups[0];
    const id = (target.id ?? target['id ']).trim();
    expect((await admin(`instances/${instance}/backups/${id}`, 'PATCH', { status: 'DELETING' })).status).toBe(200);
    expect((await page(`&backup_id=${id}`)).backups[0].status).toBe('DELETING');
    expect((await admin(`instances/${instance}/backups/${id}`, 'DELETE')).status).toBe(200);
    expect((await page(`&backup_id=${id}`)).total_count).toBe(0);
    expect((await admin(`instances/${instance}/backups/${id}`, 'DELETE')).status).toBe(404);
  });

  it('counts calls per instance and the most in flight at once', async () => {
    await admin('calls', 'DELETE');
    await admin('faults', 'PUT', [{ kind: 'latency', latencyMs: 150 }]);
    await Promise.all([page(), page(), page()]);
    await admin('faults', 'DELETE');
    const log = (await admin(`calls?instanceId=${instance}`)).json();
    expect(log.count).toBe(3);
    expect(log.perInstance).toEqual({ [instance]: 3 });
    expect(log.maxInFlight).toBe(3);
    expect(log.calls[0]).toMatchObject({ instanceId: instance, status: 200, projectId: expect.any(String), query: expect.stringContaining('instance_id=') });
  });

  it('resets data, faults and the log', async () => {
    await admin('reset', 'POST');
    expect((await adminInstances(sim)).find((i) => i.id === instance)!.backups).toBe(45);
    expect((await admin('calls')).json().count).toBe(0);
  });

  it('is off unless enabled', async () => {
    const closed = await startSimulator({ rateLimitPerMinute: 0 });
    try {
      const res = await rawRequest(closed.url, '/__admin/instances');
      expect([res.status, res.json().error_code]).toEqual([404, 'APIGW.0101']);
    } finally {
      await closed.close();
    }
  });
});
