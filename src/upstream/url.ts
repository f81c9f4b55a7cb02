/**
 * Builds the list-backups request exactly as the API wants it on the wire.
 *
 * Values are RFC 3986-encoded (only `A-Za-z0-9-_.~` kept), not form-encoded: the API gateway
 * reads a bare `+` as a space, so a time offset `+0800` must travel as `%2B0800`. The same
 * encoding is what the AK/SK signature's canonical query uses, so the wire and the signature agree.
 */

/** Wire parameters of `GET /v3/{project_id}/backups` (snake_case values, as sent). */
export interface ListBackupsParams {
  projectId: string;
  instanceId: string;
  backupId?: string;
  backupType?: 'auto' | 'manual' | 'fragment' | 'incremental';
  offset: number;
  /** 1..100 */
  limit: number;
  /** `yyyy-mm-ddThh:mm:ss+0000`; both or neither. */
  beginTime?: string;
  endTime?: string;
  status?: 'BUILDING' | 'COMPLETED' | 'FAILED';
}

/** RFC 3986 percent-encoding: `encodeURIComponent` leaves `!'()*` alone, the API's signer does not. */
export function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The path and query string (`/v3/{project}/backups?...`), parameters in a fixed, sorted order. */
export function listBackupsPath(p: ListBackupsParams): string {
  const query: Array<[string, string | number | undefined]> = [
    ['backup_id', p.backupId],
    ['backup_type', p.backupType],
    ['begin_time', p.beginTime],
    ['end_time', p.endTime],
    ['instance_id', p.instanceId],
    ['limit', p.limit],
    ['offset', p.offset],
    ['status', p.status],
  ];
  const qs = query.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encodeRfc3986(String(v))}`).join('&');
  return `/v3/${encodeRfc3986(p.projectId)}/backups?${qs}`;
}
