/**
 * Wire DTO → model, once, at the boundary. Nothing after this sees snake_case, `+0800` strings
 * or the upstream's spelling of enums.
 */
import type { BackupForListDTO } from '../upstream/wire';
import { UpstreamBadResponseError } from '../upstream/errors';
import { parseUpstreamTime } from '../upstream/time';
import type { Backup, BackupStatus, BackupType, DatastoreType } from './model';

const TYPES: Record<string, BackupType> = { auto: 'AUTO', manual: 'MANUAL', fragment: 'FRAGMENT', incremental: 'INCREMENTAL' };
const STATUSES: Record<string, BackupStatus> = { BUILDING: 'BUILDING', COMPLETED: 'COMPLETED', FAILED: 'FAILED', DELETING: 'DELETING' };
/** Engine names are case-insensitive on the wire (`MySQL`, `mysql`, `SQLServer`, `sqlserver`...). */
const ENGINES: Record<string, DatastoreType> = { mysql: 'MYSQL', postgresql: 'POSTGRESQL', sqlserver: 'SQLSERVER', mariadb: 'MARIADB' };

/** The wire's `backup_type` for a schema type. */
export const WIRE_BACKUP_TYPE: Record<BackupType, 'auto' | 'manual' | 'fragment' | 'incremental'> = {
  AUTO: 'auto', MANUAL: 'manual', FRAGMENT: 'fragment', INCREMENTAL: 'incremental',
};

function lookup<T>(table: Record<string, T>, value: string, field: string, requestId?: string): T {
  const found = Object.prototype.hasOwnProperty.call(table, value) ? table[value] : undefined;
  if (found === undefined) throw new UpstreamBadResponseError(`${field} has an undocumented value`, requestId);
  return found;
}

function time(value: string, field: string, requestId?: string): Date {
  const date = parseUpstreamTime(value);
  if (date === null) throw new UpstreamBadResponseError(`${field} is not a time`, requestId);
  return date;
}

/** One wire row to a model `Backup`. Throws `UpstreamBadResponseError` for undocumented values. */
export function toBackup(dto: BackupForListDTO, requestId?: string): Backup {
  return {
    id: dto.id,
    instanceId: dto.instance_id,
    name: dto.name,
    type: lookup(TYPES, dto.type.toLowerCase(), 'type', requestId),
    status: lookup(STATUSES, dto.status.toUpperCase(), 'status', requestId),
    sizeKb: dto.size,
    beginTime: time(dto.begin_time, 'begin_time', requestId),
    endTime: dto.end_time === '' ? null : time(dto.end_time, 'end_time', requestId),
    datastore: { type: lookup(ENGINES, dto.datastore.type.toLowerCase(), 'datastore.type', requestId), version: dto.datastore.version },
    databases: dto.databases ?? [],
    associatedWithDdm: dto.associated_with_ddm ?? false,
    minDataVolumeCapacityForRestore: dto.min_data_volume_capacity_for_restore ?? null,
  };
}
