/** The simulator's mutable state of instances and backups, with the list query and the test helpers. */
import {
  BACKUP_STATUSES, BACKUP_TYPES, DATA_ANCHOR_MS, createRandom, generateInstances, hex32, toWire,
  type SimBackup, type SimBackupStatus, type SimBackupType, type SimInstance,
} from './data';
import type { ListQuery } from './query';

export interface NewBackup {
  type?: SimBackupType;
  status?: SimBackupStatus;
  sizeKb?: number;
  name?: string;
  /** The first new backup's begin time (the others follow it). @default five minutes after the instance's newest backup */
  beginTime?: number;
}

/** What finishing a backup may set besides its status. */
export interface BackupOutcome {
  sizeKb?: number;
  /** @default two minutes after its begin time, when it has none */
  endTime?: number;
}

export class BackupStore {
  private instances = new Map<string, SimInstance>();
  private random: () => number;

  constructor(private readonly seed: number) {
    this.random = createRandom(seed ^ 0x5eed);
    this.reset();
  }

  /** Back to the generated data of the seed. */
  reset(): void {
    this.instances = new Map(generateInstances(this.seed).map((i) => [i.id, i]));
    this.random = createRandom(this.seed ^ 0x5eed);
  }

  list(): SimInstance[] {
    return [...this.instances.values()];
  }

  get(instanceId: string): SimInstance | undefined {
    return this.instances.get(instanceId);
  }

  /** The rows and total_count the API answers for a validated query (instance must exist). */
  query(instance: SimInstance, q: ListQuery): { backups: Record<string, unknown>[]; total_count: number } {
    const rows = instance.backups.filter((b) =>
      (q.backupId === undefined || b.id === q.backupId)
      && (q.backupType === undefined || b.type === q.backupType)
      && (q.beginTime === undefined || (b.beginTime >= q.beginTime && b.beginTime <= (q.endTime ?? Infinity)))
      // The SDK's status filter is honoured for SQL Server full backups only (NOTES.md).
      && (q.status === undefined || instance.engine !== 'SQLServer' || b.type === 'incremental' || b.status === q.status));
    return { backups: rows.slice(q.offset, q.offset + q.limit).map((b) => toWire(instance, b)), total_count: rows.length };
  }

  /** Inserts `count` new backups at the head of the list (newest first), each a few minutes after the previous head. */
  insert(instanceId: string, count: number, spec: NewBackup = {}): SimBackup[] | undefined {
    const instance = this.instances.get(instanceId);
    if (!instance) return undefined;
    const suffix = instance.id.slice(-2);
    const created: SimBackup[] = [];
    for (let i = 0; i < count; i++) {
      const head = instance.backups[0];
      const begin = i === 0 && spec.beginTime !== undefined ? spec.beginTime : (head?.beginTime ?? DATA_ANCHOR_MS) + 5 * 60_000;
      const type = spec.type ?? (instance.engine === 'SQLServer' ? 'fragment' : instance.engine === 'MariaDB' ? 'auto' : 'incremental');
      const status = spec.status ?? 'COMPLETED';
      const backup: SimBackup = {
        id: `${hex32(this.random)}br${suffix}`,
        name: spec.name ?? `${instance.name}-${type}-inserted-${created.length + 1}`,
        type,
        status,
        sizeKb: spec.sizeKb ?? 20_480 + Math.floor(this.random() * 1_000_000),
        beginTime: begin,
        endTime: status === 'BUILDING' ? null : begin + 2 * 60_000,
      };
      if (instance.engine === 'SQLServer') backup.databases = ['sales'];
      instance.backups.unshift(backup);
      created.push(backup);
    }
    return created;
  }

  setStatus(instanceId: string, backupId: string, status: SimBackupStatus, outcome: BackupOutcome = {}): SimBackup | undefined {
    const backup = this.instances.get(instanceId)?.backups.find((b) => b.id === backupId);
    if (!backup) return undefined;
    backup.status = status;
    if (outcome.sizeKb !== undefined) backup.sizeKb = outcome.sizeKb;
    if (status === 'BUILDING') backup.endTime = null;
    else if (outcome.endTime !== undefined) backup.endTime = outcome.endTime;
    else if (backup.endTime === null) backup.endTime = backup.beginTime + 2 * 60_000;
    return backup;
  }

  remove(instanceId: string, backupId: string): boolean {
    const instance = this.instances.get(instanceId);
    const index = instance?.backups.findIndex((b) => b.id === backupId) ?? -1;
    if (!instance || index === -1) return false;
    instance.backups.splice(index, 1);
    return true;
  }
}

export function isBackupType(v: unknown): v is SimBackupType {
  return BACKUP_TYPES.includes(v as SimBackupType);
}

export function isBackupStatus(v: unknown): v is SimBackupStatus {
  return BACKUP_STATUSES.includes(v as SimBackupStatus);
}
