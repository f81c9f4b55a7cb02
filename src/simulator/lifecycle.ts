/**
 * The lifecycle mode: makes the simulator's data live, so a watcher of an instance sees a backup
 * ADDED and later UPDATED. Each step (every SIMULATOR_LIFECYCLE_MS when set, or on demand through
 * `POST /__admin/lifecycle/step`):
 *
 * 1. finishes every backup that was already BUILDING at the previous step (the simulator's start
 *    counts as one): about one in ten FAILED (size 0), the others COMPLETED with a size like the
 *    instance's own backups; both get an end_time a realistic duration after their begin_time;
 * 2. starts a new BUILDING backup at the head of some instances that have none building, named
 *    and spaced as the generator does (data.ts), at least one instance a step when any can take it.
 *
 * "At the previous step", not "older than N ms by the clock": the data's times are the seed's
 * fictional ones (data.ts), so an on-demand step behaves exactly like a timed one, and a seed
 * gives the same data after the same steps whatever the wall clock says.
 */
import {
  DATA_ANCHOR_MS, backupDurationMs, backupGapMs, backupName, createRandom, incrementalSizeKb, pickType,
  type SimBackup, type SimBackupStatus, type SimInstance,
} from './data';
import type { BackupStore } from './store';

/** The timers the lifecycle runs on; tests pass a manual one (or use jest's fake timers). */
export interface SimulatorScheduler {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The process's timers, unref'd: a pending step does not keep the process alive. */
export const systemScheduler: SimulatorScheduler = {
  setTimeout: (run, ms) => setTimeout(run, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** One backup a step changed or added. */
export interface LifecycleChange {
  instanceId: string;
  id: string;
  name: string;
  status: SimBackupStatus;
}

/** What one step did: `finished` were BUILDING and are now COMPLETED or FAILED; `added` are new and BUILDING. */
export interface LifecycleStep {
  /** 1 for the first step after the start (or an admin reset). */
  step: number;
  finished: LifecycleChange[];
  added: LifecycleChange[];
}

const FAILED_RATE = 0.1;
const ADD_RATE = 0.4;
/** The full-backup size of an instance that has no completed full backup yet (1 GB). */
const FIRST_FULL_SIZE_KB = 1_048_576;

export class Lifecycle {
  private random!: () => number;
  private steps = 0;
  /** The backups seen BUILDING at the previous step: the next step finishes them. */
  private building = new WeakSet<SimBackup>();
  private timer: { handle: unknown; scheduler: SimulatorScheduler } | undefined;

  constructor(private readonly store: BackupStore, private readonly seed: number) {
    this.reset();
  }

  /** Back to the start (call it after `store.reset()`): the step count, the random sequence, the backups building now. */
  reset(): void {
    this.random = createRandom(this.seed ^ 0x11fec7c1);
    this.steps = 0;
    this.building = new WeakSet();
    for (const instance of this.store.list()) for (const b of instance.backups) if (b.status === 'BUILDING') this.building.add(b);
  }

  /** Steps taken since the start or the last reset. */
  get stepCount(): number {
    return this.steps;
  }

  /** Runs one step now; see the file's comment. */
  step(): LifecycleStep {
    this.steps += 1;
    const finished: LifecycleChange[] = [];
    const idle: SimInstance[] = [];
    for (const instance of this.store.list()) {
      let busy = false;
      for (const b of instance.backups) {
        if (b.status !== 'BUILDING') { this.building.delete(b); continue; }
        if (this.building.has(b)) finished.push(this.finish(instance, b));
        else { this.building.add(b); busy = true; } // BUILDING since the last step (an admin call): finished next time
      }
      if (!busy) idle.push(instance);
    }
    const chosen = idle.filter(() => this.random() < ADD_RATE);
    if (chosen.length === 0 && idle.length > 0) chosen.push(idle[Math.floor(this.random() * idle.length)]!);
    return { step: this.steps, finished, added: chosen.map((instance) => this.start(instance)) };
  }

  /** Steps every `periodMs` until `stop()`. */
  run(periodMs: number, scheduler: SimulatorScheduler = systemScheduler): void {
    this.stop();
    const arm = (): void => {
      this.timer = { scheduler, handle: scheduler.setTimeout(() => { this.step(); arm(); }, periodMs) };
    };
    arm();
  }

  stop(): void {
    this.timer?.scheduler.clearTimeout(this.timer.handle);
    this.timer = undefined;
  }

  /** Whether `run()` is stepping. */
  get running(): boolean {
    return this.timer !== undefined;
  }

  private finish(instance: SimInstance, b: SimBackup): LifecycleChange {
    this.building.delete(b);
    const full = b.type !== 'incremental';
    const status: SimBackupStatus = this.random() < FAILED_RATE ? 'FAILED' : 'COMPLETED';
    const endTime = b.beginTime + backupDurationMs(full, this.random);
    const sizeKb = status === 'FAILED' ? 0 : full ? this.fullSizeKb(instance, b) : incrementalSizeKb(this.random);
    this.store.setStatus(instance.id, b.id, status, { sizeKb, endTime });
    return { instanceId: instance.id, id: b.id, name: b.name, status };
  }

  /** About the size of the instance's newest completed full backup: instances grow slowly. */
  private fullSizeKb(instance: SimInstance, b: SimBackup): number {
    const previous = instance.backups.find((x) => x !== b && x.status === 'COMPLETED' && x.type !== 'incremental' && x.sizeKb > 0);
    return Math.round((previous?.sizeKb ?? FIRST_FULL_SIZE_KB) * (0.995 + this.random() * 0.02));
  }

  private start(instance: SimInstance): LifecycleChange {
    const beginTime = (instance.backups[0]?.beginTime ?? DATA_ANCHOR_MS) + backupGapMs(this.random);
    const type = pickType(instance.engine, instance.backups.length, this.random);
    // Size 0 until it completes: nobody knows a backup's size while it runs.
    const [b] = this.store.insert(instance.id, 1, { type, status: 'BUILDING', sizeKb: 0, beginTime, name: backupName(instance.name, type, beginTime) })!;
    this.building.add(b!);
    return { instanceId: instance.id, id: b!.id, name: b!.name, status: b!.status };
  }
}
