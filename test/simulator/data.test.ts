/** The simulator's data: realistic, deterministic, and showing every quirk of the published API. */
import { generateInstances } from '../../src/simulator/data';
import type { Simulator } from '../../src/simulator/server';
import { rawRequest } from '../helpers/http';
import { adminInstances, listPath, withSimulator } from '../helpers/simulator';

let sim: Simulator;
let rows: Array<Record<string, any>>; // every backup of every instance, as the API writes them
let instances: Awaited<ReturnType<typeof adminInstances>>;

beforeAll(async () => {
  sim = await withSimulator();
  instances = await adminInstances(sim);
  rows = [];
  for (const i of instances) {
    for (let offset = 0; offset < i.backups; offset += 100) {
      rows.push(...(await rawRequest(sim.url, listPath(`instance_id=${i.id}&offset=${offset}&limit=100`))).json().backups);
    }
  }
});
afterAll(() => sim.close());

const idOf = (r: Record<string, any>): string => (r.id ?? r['id ']).trim();

describe('simulated data', () => {
  it('has at least six instances over the four engines, one with 1,000+ backups and one with none', () => {
    expect(instances.length).toBeGreaterThanOrEqual(6);
    expect(new Set(instances.map((i) => i.engine))).toEqual(new Set(['MySQL', 'PostgreSQL', 'SQLServer', 'MariaDB']));
    expect(instances.some((i) => i.backups >= 1000)).toBe(true);
    expect(instances.some((i) => i.backups === 0)).toBe(true);
  });

  it('uses Huawei-style ids: 32 hex characters and inNN / brNN', () => {
    for (const i of instances) expect(i.id).toMatch(/^[0-9a-f]{32}in0[134]$/);
    for (const r of rows) expect(idOf(r)).toMatch(/^[0-9a-f]{32}br0[134]$/);
    expect(new Set(rows.map(idOf)).size).toBe(rows.length);
  });

  it('has every backup type and status', () => {
    expect(new Set(rows.map((r) => r.type))).toEqual(new Set(['auto', 'manual', 'fragment', 'incremental']));
    expect(new Set(rows.map((r) => r.status))).toEqual(new Set(['BUILDING', 'COMPLETED', 'FAILED', 'DELETING']));
  });

  it('has sizes above 2^31 KB, written as exact JSON integers', () => {
    expect(rows.some((r) => r.size > 2 ** 31)).toBe(true);
    for (const r of rows) expect(Number.isSafeInteger(r.size) && r.size >= 0).toBe(true);
  });

  it('writes times with a +0800 offset, and an empty end_time while BUILDING', () => {
    for (const r of rows) {
      expect(r.begin_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0800$/);
      if (r.status === 'BUILDING') expect(r.end_time).toBe('');
      else expect(r.end_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0800$/);
    }
  });

  it('lists newest first', () => {
    for (const i of instances) {
      const times = rows.filter((r) => r.instance_id.trim() === i.id).map((r) => r.begin_time);
      expect(times).toEqual([...times].sort().reverse());
    }
  });

  it('has databases on SQL Server rows only, and min_data_volume_capacity_for_restore on some rows', () => {
    for (const r of rows) {
      if (r.datastore.type.toLowerCase() === 'sqlserver') expect(r.databases.length).toBeGreaterThan(0);
      else expect(r.databases).toBeUndefined();
    }
    const withMin = rows.filter((r) => r.min_data_volume_capacity_for_restore !== undefined);
    expect(withMin.length).toBeGreaterThan(0);
    expect(withMin.length).toBeLessThan(rows.length);
  });

  it('reproduces the published quirks: a key "id ", values with trailing spaces, engine names in any case', () => {
    expect(rows.some((r) => 'id ' in r)).toBe(true);
    expect(rows.some((r) => r.instance_id.endsWith(' '))).toBe(true);
    expect(rows.some((r) => r.datastore.type === 'sqlserver')).toBe(true);
    expect(rows.some((r) => r.associated_with_ddm === undefined)).toBe(true);
  });

  it('is the same for the same seed and differs for another', () => {
    expect(generateInstances(7)).toEqual(generateInstances(7));
    expect(generateInstances(7)[0]!.id).not.toBe(generateInstances(8)[0]!.id);
  });
});
