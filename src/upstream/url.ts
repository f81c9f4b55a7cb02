/**
 * Builds the list-backups request exactly as the API wants it on the wire.
 *
 * Values are RFC 3986-encoded (only `A-Za-z0-9-_.~` kept), not form-encoded: the API gateway
 * reads a bare `+` as a space, so a time offset `+0800` must travel as `%2B0800`. The AK/SK
 * signature's canonical query uses the same encoding (signer.ts), so the wire and the signature agree.
 */

/** Wire parameters of `GET /v3/{project_id}/backups` (snake_case values, as sent). */
export interface ListBackupsParams {
  projectId: string;
  instanceId: string;
  backupId?: string;
  backupType?: 'auto' | 'manual' | 'fragment' | 'incremental';
  offset: number;
  /** 1..UPSTREAM_MAX_LIMIT */
  limit: number;
  /** `yyyy-mm-ddThh:mm:ss+0000`; both or neither. */
  beginTime?: string;
  endTime?: string;
  status?: 'BUILDING' | 'COMPLETED' | 'FAILED';
}

/**
 * The largest `limit` the list-backups call accepts: one call returns at most this many rows.
 * The gateway's chunk size, relocation window and call estimates derive from it; the simulator
 * keeps its own copy (src/simulator/query.ts), as it shares no code with this layer.
 */
export const UPSTREAM_MAX_LIMIT = 100;

/**
 * The largest `offset` the upstream serves: the API types it as a 32-bit integer and refuses more
 * (the simulator's validation does the same, src/simulator/query.ts).
 */
export const MAX_UPSTREAM_OFFSET = 2 ** 31 - 1;

/** A request before encoding: what both the URL and the signature are built from. */
export interface RequestParts {
  pathSegments: string[];
  query: Array<[string, string]>;
}

/** RFC 3986 percent-encoding: `encodeURIComponent` leaves `!'()*` alone, the API's signer does not. */
export function encodeRfc3986(value: string): string {
  // Most values (ids, numbers, the path) need no encoding: one test skips two passes over them.
  if (UNRESERVED.test(value)) return value;
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const UNRESERVED = /^[A-Za-z0-9\-_.~]*$/;

/** The parts of a list-backups call, parameters in a fixed, sorted order. */
export function listBackupsParts(p: ListBackupsParams): RequestParts {
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
  return {
    pathSegments: ['v3', p.projectId, 'backups'],
    query: query.filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]),
  };
}

/** The path and query string of a request, e.g. `/v3/{project}/backups?instance_id=...`. */
export function toPathAndQuery(parts: RequestParts): string {
  const path = `/${parts.pathSegments.map(encodeRfc3986).join('/')}`;
  const qs = parts.query.map(([k, v]) => `${encodeRfc3986(k)}=${encodeRfc3986(v)}`).join('&');
  return qs ? `${path}?${qs}` : path;
}

/** `toPathAndQuery(listBackupsParts(p))`. */
export function listBackupsPath(p: ListBackupsParams): string {
  return toPathAndQuery(listBackupsParts(p));
}
