/**
 * The lifecycle mode, over HTTP: each step finishes the backups that were BUILDING at the previous
 * one and starts new BUILDING backups at the head of some instances; on demand through
 * POST /__admin/lifecycle/step, or on a timer (a manual scheduler here: no real-time waits).
 */
import { loadSimulatorConfig } from '../../src/simulator/config';
import { Lifecycle, systemScheduler } from '../../src/simulator/lifecycle';
import { startSimulator, type LifecycleStep, type Simulator } from '../../src/simulator/server';
import { startSimulatorFromConfig } from '../../src/simulator/start';
import { BackupStore } from '../../src/simulator/store';
import { rawRequest } from '../helpers/http';
import { ManualScheduler } from '../helpers/scheduler';
import { adminInstances, listPath, withSimulator } from '../helpers/simulator';

type Row = Record<string, any>;
const idOf = (r: Row): string => (r.id ?? r['id ']).trim();
const page = async (sim: Simulator, instanceId: string, query = '&limit=5'): Promise<{ backups: Row[]; total_count: number }> =>
  (await rawRequest(sim.url, listPath(`instance_id=${instanceId}${query}`))).json();
const step = async (sim: Simulator): Promise<LifecycleStep> => {
  const res = await rawRequest(sim.url, '/__admin/lifecycle/step', { method: 'POST' });
  expect(res.status).toBe(200);
  return res.json();
};
/** The first page of every instance, by instance id. */
const snapshot = async (sim: Simulator): Promise<Map<string, { backups: Row[]; total_count: number }>> =>
  new Map(await Promise.all((await adminInstances(sim)).map(async (i) => [i.id, await page(sim, i.id)] as const)));
const WIRE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0800$/;

describe('POST /__admin/lifecycle/step', () => {
  let sim: Simulator;
  beforeEach(async () => { sim = await withSimulator(); });
  afterEach(() => sim.close());

  it('finishes the BUILDING backups and starts new ones at the head, total_count up by those added', async () => {
    const before = await snapshot(sim);
    const report = await step(sim);
    const after = await snapshot(sim);
    expect(report.step).toBe(1);
    expect(report.added.length).toBeGreaterThan(0);
    // Every generated instance with backups had a BUILDING head; each is finished now.
    const buildingHeads = [...before].filter(([, p]) => p.backups[0]?.status === 'BUILDING').map(([id, p]) => [id, idOf(p.backups[0]!)]);
    expect(buildingHeads.length).toBe(6);
    expect(report.finished.map((f) => [f.instanceId, f.id]).sort()).toEqual(buildingHeads.sort());
    for (const [instanceId, p] of before) {
      const added = report.added.filter((a) => a.instanceId === instanceId);
      expect(after.get(instanceId)!.total_count).toBe(p.total_count + added.length);
      expect(after.get(instanceId)!.backups.slice(0, added.length).map(idOf)).toEqual(added.map((a) => a.id));
    }
    for (const f of report.finished) {
      const row = after.get(f.instanceId)!.backups.find((r) => idOf(r) === f.id)!;
      expect(['COMPLETED', 'FAILED']).toContain(row.status);
      expect(row.status).toBe(f.status);
      expect(row.end_time).toMatch(WIRE_TIME);
      expect(row.end_time > row.begin_time).toBe(true);
    }
  });

  it('starts a new backup named, numbered and timed like the generated ones, then finishes it the step after', async () => {
    const { added: [added] } = await step(sim);
    const instance = (await adminInstances(sim)).find((i) => i.id === added!.instanceId)!;
    const [head, previous] = (await page(sim, instance.id)).backups;
    expect(idOf(head!)).toBe(added!.id);
    expect(head).toMatchObject({ status: 'BUILDING', end_time: '', size: 0, instance_id: instance.id });
    expect(idOf(head!)).toMatch(/^[0-9a-f]{32}br0[134]$/);
    expect(head!.name).toMatch(new RegExp(`^${instance.name}-(auto|manual|fragment|incremental)-\\d{14}$`));
    expect(head!.name).toContain(`-${head!.type}-`);
    expect(head!.begin_time > (previous?.begin_time ?? '')).toBe(true);

    const second = await step(sim); // what a watcher sees as ADDED, then UPDATED
    expect(second.finished.map((f) => f.id)).toContain(added!.id);
    const done = (await page(sim, instance.id, `&backup_id=${added!.id}`)).backups[0]!;
    expect(['COMPLETED', 'FAILED']).toContain(done.status);
    expect(done.end_time).toMatch(WIRE_TIME);
    expect(done.end_time > done.begin_time).toBe(true);
    if (done.status === 'FAILED') expect(done.size).toBe(0);
    else expect(done.size).toBeGreaterThan(10_000);
  });

  it('gives a completed full backup about the size of the previous one (above 2^31 KB on the large instance)', async () => {
    const warehouse = (await adminInstances(sim)).find((i) => i.name === 'warehouse-pg-archive')!;
    const checked = [];
    for (let n = 0; n < 30 && checked.length === 0; n++) {
      const before = (await page(sim, warehouse.id, '&limit=100')).backups;
      for (const f of (await step(sim)).finished.filter((x) => x.instanceId === warehouse.id && x.status === 'COMPLETED')) {
        const row = (await page(sim, warehouse.id, `&backup_id=${f.id}`)).backups[0]!;
        if (row.type === 'incremental') { expect(row.size).toBeLessThan(2_200_000); continue; }
        const previousFull = before.find((r) => idOf(r) !== f.id && r.status === 'COMPLETED' && r.type !== 'incremental')!;
        expect(row.size).toBeGreaterThan(2 ** 31);
        expect(Math.abs(row.size / previousFull.size - 1)).toBeLessThan(0.02);
        checked.push(row);
      }
    }
    expect(checked).toHaveLength(1); // the seed's steps do complete a full backup there
  });

  it('finishes a backup that became BUILDING between steps only at the second step: it must be older than one period', async () => {
    const mariadb = (await adminInstances(sim)).find((i) => i.engine === 'MariaDB')!;
    await step(sim);
    const [inserted] = (await rawRequest(sim.url, `/__admin/instances/${mariadb.id}/backups`, { method: 'POST', body: JSON.stringify({ status: 'BUILDING' }) })).json();
    const next = await step(sim);
    expect(next.finished.map((f) => f.id)).not.toContain(inserted.id);
    expect(next.added.map((a) => a.instanceId)).not.toContain(mariadb.id); // one backup at a time per instance
    expect((await page(sim, mariadb.id, `&backup_id=${inserted.id}`)).backups[0]!.status).toBe('BUILDING');
    expect((await step(sim)).finished.map((f) => f.id)).toContain(inserted.id);
  });

  it('fails about one backup in ten, with size 0, deterministically', async () => {
    const finished = [];
    for (let n = 0; n < 30; n++) finished.push(...(await step(sim)).finished);
    const failed = finished.filter((f) => f.status === 'FAILED');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(finished.length / 4);
    const row = (await page(sim, failed[0]!.instanceId, `&backup_id=${failed[0]!.id}`)).backups[0]!;
    expect([row.status, row.size]).toEqual(['FAILED', 0]);
  });

  it('starts again from the seed after POST /__admin/reset', async () => {
    const first = await step(sim);
    await step(sim);
    await rawRequest(sim.url, '/__admin/reset', { method: 'POST' });
    expect(await step(sim)).toEqual(first);
  });

  it('reports its state at GET /__admin/lifecycle', async () => {
    await step(sim);
    expect((await rawRequest(sim.url, '/__admin/lifecycle')).json()).toEqual({ periodMs: null, running: false, steps: 1 });
  });
});

describe('the lifecycle for a seed', () => {
  const run = async (seed: number, steps: number): Promise<unknown[]> => {
    const sim = await withSimulator({ seed });
    try {
      const out: unknown[] = [];
      for (let n = 0; n < steps; n++) out.push(await step(sim));
      out.push(await snapshot(sim));
      return out;
    } finally {
      await sim.close();
    }
  };

  it('gives the same steps and the same data every time, and other ones for another seed', async () => {
    const a = await run(7, 4);
    expect(await run(7, 4)).toEqual(a);
    expect(await run(8, 4)).not.toEqual(a);
  });
});

describe('the lifecycle timer', () => {
  it('steps every lifecycleMs on the injected scheduler, and stops on close', async () => {
    const scheduler = new ManualScheduler();
    const sim = await withSimulator({ lifecycleMs: 5000, scheduler });
    const mysql = (await adminInstances(sim))[0]!;
    const head = (await page(sim, mysql.id)).backups[0]!;
    await scheduler.advance(4999);
    expect((await rawRequest(sim.url, '/__admin/lifecycle')).json()).toEqual({ periodMs: 5000, running: true, steps: 0 });
    expect((await page(sim, mysql.id, `&backup_id=${idOf(head)}`)).backups[0]!.status).toBe('BUILDING');
    await scheduler.advance(1);
    expect((await page(sim, mysql.id, `&backup_id=${idOf(head)}`)).backups[0]!.status).not.toBe('BUILDING');
    await scheduler.advance(10_000);
    expect(sim.lifecycle.stepCount).toBe(3);
    await sim.close();
    expect(scheduler.pending).toBe(0);
  });

  it('reaches the simulator embedded in npm start through SIMULATOR_LIFECYCLE_MS', async () => {
    const scheduler = new ManualScheduler();
    const sim = await startSimulatorFromConfig({ ...loadSimulatorConfig({ SIMULATOR_LIFECYCLE_MS: '2000' }, true), rateLimitPerMinute: 0 }, { scheduler });
    try {
      const instance = sim.store.list()[0]!;
      const before = await page(sim, instance.id);
      await scheduler.advance(2000);
      const after = await page(sim, instance.id, `&backup_id=${idOf(before.backups[0]!)}`);
      expect(after.backups[0]!.status).not.toBe('BUILDING');
      expect(after.backups[0]!.end_time).toMatch(WIRE_TIME);
    } finally {
      await sim.close();
    }
  });

  it("runs on the process's timers by default (jest fake timers here), unref'd", () => {
    const handle = systemScheduler.setTimeout(() => undefined, 60_000) as ReturnType<typeof setTimeout>;
    expect(handle.hasRef()).toBe(false);
    systemScheduler.clearTimeout(handle);
    jest.useFakeTimers();
    try {
      const lifecycle = new Lifecycle(new BackupStore(1), 1);
      lifecycle.run(1000);
      jest.advanceTimersByTime(3500);
      expect(lifecycle.stepCount).toBe(3);
      lifecycle.stop();
      jest.advanceTimersByTime(5000);
      expect(lifecycle.stepCount).toBe(3);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('the step route without admin', () => {
  it('is refused like every admin route, and steps nothing', async () => {
    const sim = await startSimulator({ rateLimitPerMinute: 0 });
    try {
      const res = await rawRequest(sim.url, '/__admin/lifecycle/step', { method: 'POST' });
      expect([res.status, res.json().error_code]).toEqual([404, 'APIGW.0101']);
      expect(sim.lifecycle.stepCount).toBe(0);
    } finally {
      await sim.close();
    }
  });
});
