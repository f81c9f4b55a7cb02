/**
 * The simulator's data: deterministic instances and backups generated from a seed.
 *
 * Rows are kept in the simulator's own model (times as epoch ms) and written to the wire by
 * `toWire()`, which reproduces the published quirks: `+0800` offsets, a key spelled `"id "` and
 * values with a trailing space on some rows, engine names in varying case.
 */

export type Engine = 'MySQL' | 'PostgreSQL' | 'SQLServer' | 'MariaDB';
export type SimBackupType = 'auto' | 'manual' | 'fragment' | 'incremental';
export type SimBackupStatus = 'BUILDING' | 'COMPLETED' | 'FAILED' | 'DELETING';

export const BACKUP_TYPES: readonly SimBackupType[] = ['auto', 'manual', 'fragment', 'incremental'];
export const BACKUP_STATUSES: readonly SimBackupStatus[] = ['BUILDING', 'COMPLETED', 'FAILED', 'DELETING'];

export interface SimBackup {
  id: string;
  name: string;
  type: SimBackupType;
  status: SimBackupStatus;
  sizeKb: number;
  beginTime: number;
  /** null while BUILDING: written as an empty string, as the console shows it. */
  endTime: number | null;
  databases?: string[];
  associatedWithDdm?: boolean;
  minDataVolumeCapacityForRestore?: number;
  /** Wire quirks of the published examples, reproduced on some rows. */
  quirks?: { spacedIdKey?: boolean; spacedInstanceId?: boolean; spacedName?: boolean };
}

export interface SimInstance {
  id: string;
  name: string;
  engine: Engine;
  version: string;
  /** How this instance spells its engine on the wire (the API says: case-insensitive). */
  engineSpelling: string;
  /** Newest first, as the API lists them. */
  backups: SimBackup[];
}

/** mulberry32: a small, fast, seedable PRNG; the data must be identical for a given seed. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hex32(random: () => number): string {
  let s = '';
  for (let i = 0; i < 32; i++) s += Math.floor(random() * 16).toString(16);
  return s;
}

/** Huawei's id suffixes by engine, as in the published examples (in01/br01 MySQL, in03 PostgreSQL, in04 SQL Server). */
const SUFFIX: Record<Engine, string> = { MySQL: '01', MariaDB: '01', PostgreSQL: '03', SQLServer: '04' };

interface InstanceSpec {
  name: string;
  engine: Engine;
  version: string;
  count: number;
  engineSpelling?: string;
  /** Typical full backup size in KB. */
  fullSizeKb: number;
  ddm?: boolean;
}

const SPECS: readonly InstanceSpec[] = [
  { name: 'orders-mysql-prod', engine: 'MySQL', version: '8.0', count: 1234, fullSizeKb: 52_428_800, ddm: true },
  { name: 'billing-pg-prod', engine: 'PostgreSQL', version: '14', count: 240, fullSizeKb: 20_971_520 },
  { name: 'erp-sqlserver', engine: 'SQLServer', version: '2019_SE', count: 60, fullSizeKb: 8_388_608 },
  { name: 'cms-mariadb', engine: 'MariaDB', version: '10.5', count: 45, fullSizeKb: 1_048_576 },
  { name: 'warehouse-pg-archive', engine: 'PostgreSQL', version: '16', count: 35, fullSizeKb: 3_221_225_472 },
  { name: 'new-mysql-staging', engine: 'MySQL', version: '5.7', count: 0, fullSizeKb: 0 },
  { name: 'reports-sqlserver', engine: 'SQLServer', version: '2022_EE', count: 18, fullSizeKb: 4_194_304, engineSpelling: 'sqlserver' },
];

/** The newest generated backup starts shortly before this instant (2026-11-01T08:00:00+0800). */
export const DATA_ANCHOR_MS = Date.UTC(2026, 10, 1, 0, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export function generateInstances(seed: number): SimInstance[] {
  const random = createRandom(seed);
  return SPECS.map((spec) => {
    const id = `${hex32(random)}in${SUFFIX[spec.engine]}`;
    const instance: SimInstance = {
      id,
      name: spec.name,
      engine: spec.engine,
      version: spec.version,
      engineSpelling: spec.engineSpelling ?? spec.engine,
      backups: [],
    };
    let t = DATA_ANCHOR_MS - Math.floor(random() * 30) * MINUTE;
    for (let i = 0; i < spec.count; i++) {
      instance.backups.push(generateBackup(spec, i, t, random));
      t -= backupGapMs(random);
    }
    return instance;
  });
}

/** The time between two backups of an instance: about two hours (the generator walks back by it, the lifecycle forward). */
export function backupGapMs(random: () => number): number {
  return 2 * HOUR + Math.floor(random() * 40 - 20) * MINUTE;
}

/** The type of an instance's backup number `i`: a full `auto` every 12th, some `manual`, else by engine. */
export function pickType(engine: Engine, i: number, random: () => number): SimBackupType {
  if (i % 12 === 3) return 'auto';
  if (random() < 0.05) return 'manual';
  if (engine === 'SQLServer') return i % 3 === 0 ? 'auto' : 'fragment';
  if (engine === 'MariaDB') return 'auto';
  return 'incremental';
}

/** An incremental backup's size in KB: 10 MB to 2 GB, whatever the instance's size. */
export function incrementalSizeKb(random: () => number): number {
  return Math.round(10_240 + random() * 2_097_152);
}

/** How long a backup takes: 10 to 60 minutes for a full one, 1 to 5 for an incremental. */
export function backupDurationMs(full: boolean, random: () => number): number {
  return full ? (10 + Math.floor(random() * 50)) * MINUTE : (1 + Math.floor(random() * 4)) * MINUTE;
}

/** A backup's name as the console generates it: `{instance}-{type}-{yyyymmddhhmmss in +0800}`. */
export function backupName(instanceName: string, type: SimBackupType, beginTime: number): string {
  return `${instanceName}-${type}-${compactStamp(beginTime)}`;
}

function pickStatus(i: number, random: () => number): SimBackupStatus {
  if (i === 0) return 'BUILDING';
  if (i === 7) return 'FAILED';
  if (i === 30) return 'DELETING';
  const r = random();
  if (r < 0.03) return 'FAILED';
  if (r < 0.04) return 'DELETING';
  return 'COMPLETED';
}

function generateBackup(spec: InstanceSpec, i: number, begin: number, random: () => number): SimBackup {
  const type = pickType(spec.engine, i, random);
  const status = pickStatus(i, random);
  const full = type !== 'incremental';
  const growth = 1 - i / (spec.count * 4); // instances grow: older backups are smaller
  const sizeKb = status === 'FAILED' ? 0
    : full ? Math.round(spec.fullSizeKb * growth * (0.97 + random() * 0.06))
    : incrementalSizeKb(random);
  const durationMs = backupDurationMs(full, random);
  const backup: SimBackup = {
    id: `${hex32(random)}br${SUFFIX[spec.engine]}`,
    name: backupName(spec.name, type, begin),
    type,
    status,
    sizeKb,
    beginTime: begin,
    endTime: status === 'BUILDING' ? null : begin + durationMs,
  };
  if (spec.engine === 'SQLServer') backup.databases = i % 4 === 1 ? ['sales'] : ['sales', 'inventory', 'hr'].slice(0, 1 + (i % 3));
  if (i % 9 !== 4) backup.associatedWithDdm = Boolean(spec.ddm) && full;
  if (full && status === 'COMPLETED' && i % 5 === 0) {
    backup.minDataVolumeCapacityForRestore = Math.max(40, Math.ceil((sizeKb / 1_048_576) * 1.3 / 10) * 10);
  }
  const quirks = { spacedIdKey: i % 50 === 13, spacedInstanceId: i % 70 === 11, spacedName: i % 90 === 17 };
  if (quirks.spacedIdKey || quirks.spacedInstanceId || quirks.spacedName) backup.quirks = quirks;
  return backup;
}

function compactStamp(ms: number): string {
  return toUpstreamTime(ms).slice(0, 19).replace(/[-:T]/g, '');
}

/** Formats an instant as the API writes it: local time in UTC+8 with an offset without colon. */
export function toUpstreamTime(ms: number): string {
  return `${new Date(ms + 8 * HOUR).toISOString().slice(0, 19)}+0800`;
}

/** One row as the API writes it (`BackupForList`). */
export function toWire(instance: SimInstance, b: SimBackup): Record<string, unknown> {
  const q = b.quirks ?? {};
  const row: Record<string, unknown> = {
    [q.spacedIdKey ? 'id ' : 'id']: b.id,
    name: q.spacedName ? `${b.name} ` : b.name,
    type: b.type,
    size: b.sizeKb,
    status: b.status,
    begin_time: toUpstreamTime(b.beginTime),
    end_time: b.endTime === null ? '' : toUpstreamTime(b.endTime),
    datastore: { type: instance.engineSpelling, version: instance.version },
    instance_id: q.spacedInstanceId ? `${instance.id} ` : instance.id,
  };
  if (b.databases) row.databases = b.databases.map((name) => ({ name }));
  if (b.associatedWithDdm !== undefined) row.associated_with_ddm = b.associatedWithDdm;
  if (b.minDataVolumeCapacityForRestore !== undefined) row.min_data_volume_capacity_for_restore = b.minDataVolumeCapacityForRestore;
  return row;
}
