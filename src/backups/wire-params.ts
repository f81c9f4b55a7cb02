/**
 * The model's filter, offset and limit as the upstream's list-backups parameters: the one place
 * the gateway's names and values (enums, `Date`s) turn into the wire's.
 */
import { toUpstreamTime } from '../upstream/time';
import type { ListBackupsParams } from '../upstream/url';
import type { BackupFilter } from './model';
import { WIRE_BACKUP_TYPE } from './normalize';

/** The parameters of one list-backups call: `limit` rows of `instanceId`'s list under `f`, from `offset`. */
export function toWireParams(project: string, instanceId: string, f: BackupFilter, offset: number, limit: number): ListBackupsParams {
  const p: ListBackupsParams = { projectId: project, instanceId, offset, limit };
  if (f.backupId !== undefined) p.backupId = f.backupId;
  if (f.type !== undefined) p.backupType = WIRE_BACKUP_TYPE[f.type];
  if (f.beginTime && f.endTime) {
    p.beginTime = toUpstreamTime(f.beginTime);
    p.endTime = toUpstreamTime(f.endTime);
  }
  if (f.status !== undefined) p.status = f.status;
  return p;
}
