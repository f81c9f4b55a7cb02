/** The published list-backups API, as the simulator answers it over HTTP. */
import type { Simulator } from '../../src/simulator/server';
import { rawRequest } from '../helpers/http';
import { adminInstances, listPath, withSimulator } from '../helpers/simulator';

let sim: Simulator;
let big: string; // the instance with 1,000+ backups
let sqlserver: string;

beforeAll(async () => {
  sim = await withSimulator();
  const instances = await adminInstances(sim);
  big = instances.find((i) => i.backups >= 1000)!.id;
  sqlserver = instances.find((i) => i.engine === 'SQLServer')!.id;
});
afterAll(() => sim.close());

const get = (query: string, headers: Record<string, string> = {}) => rawRequest(sim.url, listPath(query), { headers });

async function expectBadParameter(query: string): Promise<void> {
  const res = await get(query);
  expect({ query, status: res.status }).toEqual({ query, status: 400 });
  expect(res.json()).toEqual({ error_code: 'DBS.200001', error_msg: expect.stringMatching(/Invalid parameter/) });
}

describe('GET /v3/{project_id}/backups', () => {
  it('lists a page with total_count and an X-Request-Id', async () => {
    const res = await get(`instance_id=${big}&limit=3`);
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    const body = res.json();
    expect(body.backups).toHaveLength(3);
    expect(body.total_count).toBeGreaterThanOrEqual(1000);
  });

  it('defaults to offset 0 and limit 100', async () => {
    const body = (await get(`instance_id=${big}`)).json();
    expect(body.backups).toHaveLength(100);
    const first = (await get(`instance_id=${big}&offset=0&limit=1`)).json();
    expect(first.backups[0]).toEqual(body.backups[0]);
  });

  it('pages by offset and limit without overlap or gap', async () => {
    const all = (await get(`instance_id=${sqlserver}&limit=100`)).json();
    const pages = [];
    for (let offset = 0; offset < all.total_count; offset += 7) pages.push(...(await get(`instance_id=${sqlserver}&offset=${offset}&limit=7`)).json().backups);
    expect(pages).toEqual(all.backups);
  });

  it('answers an empty page past the end, with the total', async () => {
    const body = (await get(`instance_id=${sqlserver}&offset=100000`)).json();
    expect(body).toEqual({ backups: [], total_count: 60 });
  });

  it('filters by backup_type and counts the filtered total', async () => {
    const all = (await get(`instance_id=${big}&limit=100`)).json();
    const autos = (await get(`instance_id=${big}&backup_type=auto&limit=100`)).json();
    expect(autos.backups.length).toBeGreaterThan(0);
    expect(autos.backups.every((b: any) => b.type === 'auto')).toBe(true);
    expect(autos.total_count).toBeLessThan(all.total_count);
  });

  it('filters by backup_id', async () => {
    const some = (await get(`instance_id=${big}&offset=500&limit=1`)).json().backups[0];
    const id = (some.id ?? some['id ']).trim();
    const body = (await get(`instance_id=${big}&backup_id=${id}`)).json();
    expect(body.total_count).toBe(1);
    expect((body.backups[0].id ?? body.backups[0]['id ']).trim()).toBe(id);
    expect((await get(`instance_id=${big}&backup_id=nosuchbackupbr01`)).json()).toEqual({ backups: [], total_count: 0 });
  });

  it('filters by begin_time and end_time with +hhmm offsets sent as %2B', async () => {
    const body = (await get(`instance_id=${big}&begin_time=2026-10-30T00:00:00%2B0800&end_time=2026-10-31T00:00:00%2B0800`)).json();
    expect(body.total_count).toBeGreaterThan(5);
    expect(body.total_count).toBeLessThan(20);
    for (const b of body.backups) {
      const t = Date.parse(b.begin_time.replace(/(\d{2})(\d{2})$/, '$1:$2'));
      expect(t).toBeGreaterThanOrEqual(Date.parse('2026-10-30T00:00:00+08:00'));
      expect(t).toBeLessThanOrEqual(Date.parse('2026-10-31T00:00:00+08:00'));
    }
    // The same range written in UTC selects the same rows.
    const utc = (await get(`instance_id=${big}&begin_time=2026-10-29T16:00:00%2B0000&end_time=2026-10-30T16:00:00-0000`)).json();
    expect(utc).toEqual(body);
  });

  it('honours the SDK status filter for SQL Server full backups only', async () => {
    const failed = (await get(`instance_id=${sqlserver}&status=FAILED`)).json();
    expect(failed.total_count).toBeGreaterThan(0);
    expect(failed.backups.every((b: any) => b.status === 'FAILED')).toBe(true);
    const ignored = (await get(`instance_id=${big}&status=FAILED&limit=1`)).json();
    expect(ignored.total_count).toBe((await get(`instance_id=${big}&limit=1`)).json().total_count);
  });

  it('answers an unknown instance with 404 DBS.200045', async () => {
    const res = await get('instance_id=0000000000000000000000000000000ain01');
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({ error_code: 'DBS.200045', error_msg: expect.any(String) });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
  });

  it('answers an API that does not exist with 404 APIGW.0101', async () => {
    const res = await rawRequest(sim.url, '/v3/p/instances');
    expect(res.status).toBe(404);
    expect(res.json()).toMatchObject({ error_code: 'APIGW.0101', request_id: res.headers['x-request-id'] });
    expect((await rawRequest(sim.url, listPath(`instance_id=${big}`), { method: 'POST' })).status).toBe(404);
  });

  it('writes error messages in Chinese for X-Language: zh-cn', async () => {
    const res = await get('instance_id=nosuchin01', { 'X-Language': 'zh-cn' });
    expect(res.json().error_msg).toBe('实例不存在。');
  });

  describe('rejects bad parameters with 400 DBS.200001', () => {
    const cases: Array<[string, (big: string) => string]> = [
      ['no instance_id', () => 'limit=10'],
      ['an empty instance_id', () => 'instance_id='],
      ['limit 0', (i) => `instance_id=${i}&limit=0`],
      ['limit 101', (i) => `instance_id=${i}&limit=101`],
      ['a negative limit', (i) => `instance_id=${i}&limit=-1`],
      ['a non-integer limit', (i) => `instance_id=${i}&limit=1.5`],
      ['a negative offset', (i) => `instance_id=${i}&offset=-1`],
      ['a non-numeric offset', (i) => `instance_id=${i}&offset=ten`],
      ['an offset above 2^31-1', (i) => `instance_id=${i}&offset=2147483648`],
      ['an unknown backup_type', (i) => `instance_id=${i}&backup_type=full`],
      ['a backup_type in upper case', (i) => `instance_id=${i}&backup_type=AUTO`],
      ['an empty backup_id', (i) => `instance_id=${i}&backup_id=`],
      ['begin_time without end_time', (i) => `instance_id=${i}&begin_time=2026-10-30T00:00:00%2B0800`],
      ['end_time without begin_time', (i) => `instance_id=${i}&end_time=2026-10-30T00:00:00%2B0800`],
      ['end_time equal to begin_time', (i) => `instance_id=${i}&begin_time=2026-10-30T00:00:00%2B0800&end_time=2026-10-30T00:00:00%2B0800`],
      ['end_time before begin_time', (i) => `instance_id=${i}&begin_time=2026-10-31T00:00:00%2B0800&end_time=2026-10-30T00:00:00%2B0800`],
      ['a bare + (read as a space)', (i) => `instance_id=${i}&begin_time=2026-10-30T00:00:00+0800&end_time=2026-10-31T00:00:00+0800`],
      ['an offset with a colon', (i) => `instance_id=${i}&begin_time=2026-10-30T00:00:00%2B08:00&end_time=2026-10-31T00:00:00%2B08:00`],
      ['a time in Z notation', (i) => `instance_id=${i}&begin_time=2026-10-30T00:00:00Z&end_time=2026-10-31T00:00:00Z`],
      ['a date that does not exist', (i) => `instance_id=${i}&begin_time=2026-02-30T00:00:00%2B0800&end_time=2026-03-31T00:00:00%2B0800`],
      ['a time without seconds', (i) => `instance_id=${i}&begin_time=2026-10-30T00:00%2B0800&end_time=2026-10-31T00:00%2B0800`],
      ['an unknown status filter', (i) => `instance_id=${i}&status=DELETED`],
      ['a parameter given twice', (i) => `instance_id=${i}&limit=1&limit=2`],
      ['a broken percent-encoding', (i) => `instance_id=${i}&backup_id=%E0%A4%A`],
    ];
    it.each(cases)('%s', async (_name, query) => expectBadParameter(query(big)));
  });
});
