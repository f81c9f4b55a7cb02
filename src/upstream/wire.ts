/**
 * The upstream's wire shape (`ListBackupsResponse`), checked once as it arrives.
 *
 * Checking is by hand rather than with a schema library because the shape must be repaired while
 * it is read (the published examples carry keys like `"id "` and values with trailing spaces),
 * and because this runs for every row of every page. Anything that is not the documented shape
 * throws `UpstreamBadResponseError` naming the field, never echoing the body.
 */
import { UpstreamBadResponseError } from './errors';

export interface BackupForListDTO {
  id: string;
  instance_id: string;
  name: string;
  type: string;
  status: string;
  size: number;
  begin_time: string;
  end_time: string;
  datastore: { type: string; version: string };
  databases?: Array<{ name: string }>;
  associated_with_ddm?: boolean;
  min_data_volume_capacity_for_restore?: number;
}

export interface ListBackupsResponseDTO {
  backups: BackupForListDTO[];
  total_count: number;
}

/** Error body of the RDS API (`error_code`/`error_msg`), of the API gateway (plus `request_id`), or the SDKs' alternative. */
export interface UpstreamErrorBody {
  errorCode?: string;
  requestId?: string;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keys with their surrounding spaces removed (`"id "` → `id`). */
function trimKeys(o: Obj): Obj {
  let clean = true;
  for (const k in o) if (k.trim() !== k) { clean = false; break; }
  if (clean) return o;
  const out: Obj = {};
  for (const k in o) out[k.trim()] = o[k];
  return out;
}

function str(o: Obj, key: string, where: string, required = true): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) throw new UpstreamBadResponseError(`${where}.${key} is missing`);
    return undefined;
  }
  if (typeof v !== 'string') throw new UpstreamBadResponseError(`${where}.${key} is not a string`);
  return v.trim();
}

function parseRow(raw: unknown, i: number): BackupForListDTO {
  const where = `backups[${i}]`;
  if (!isObj(raw)) throw new UpstreamBadResponseError(`${where} is not an object`);
  const o = trimKeys(raw);
  const size = o.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new UpstreamBadResponseError(`${where}.size is not a non-negative integer`);
  const ds = o.datastore;
  if (!isObj(ds)) throw new UpstreamBadResponseError(`${where}.datastore is not an object`);
  const datastore = trimKeys(ds);
  const row: BackupForListDTO = {
    id: str(o, 'id', where)!,
    instance_id: str(o, 'instance_id', where)!,
    name: str(o, 'name', where)!,
    type: str(o, 'type', where)!,
    status: str(o, 'status', where)!,
    size,
    begin_time: str(o, 'begin_time', where)!,
    end_time: str(o, 'end_time', where, false) ?? '',
    datastore: { type: str(datastore, 'type', `${where}.datastore`)!, version: str(datastore, 'version', `${where}.datastore`)! },
  };
  if (o.databases !== undefined && o.databases !== null) {
    if (!Array.isArray(o.databases)) throw new UpstreamBadResponseError(`${where}.databases is not a list`);
    row.databases = o.databases.map((d, j) => {
      if (!isObj(d)) throw new UpstreamBadResponseError(`${where}.databases[${j}] is not an object`);
      return { name: str(trimKeys(d), 'name', `${where}.databases[${j}]`)! };
    });
  }
  const ddm = o.associated_with_ddm;
  if (ddm !== undefined && ddm !== null) {
    if (typeof ddm !== 'boolean') throw new UpstreamBadResponseError(`${where}.associated_with_ddm is not a boolean`);
    row.associated_with_ddm = ddm;
  }
  const min = o.min_data_volume_capacity_for_restore;
  if (min !== undefined && min !== null) {
    if (typeof min !== 'number' || !Number.isInteger(min) || min < 0 || min > 2 ** 31 - 1) throw new UpstreamBadResponseError(`${where}.min_data_volume_capacity_for_restore is not an integer`);
    row.min_data_volume_capacity_for_restore = min;
  }
  return row;
}

/** Parses and checks a 2xx body. Throws `UpstreamBadResponseError` (with `requestId`) on any deviation. */
export function parseListBackupsResponse(text: string, requestId?: string): ListBackupsResponseDTO {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new UpstreamBadResponseError('the body is not JSON', requestId);
  }
  try {
    if (!isObj(body)) throw new UpstreamBadResponseError('the body is not an object');
    const o = trimKeys(body);
    if (!Array.isArray(o.backups)) throw new UpstreamBadResponseError('backups is not a list');
    const total = o.total_count;
    if (typeof total !== 'number' || !Number.isSafeInteger(total) || total < 0) throw new UpstreamBadResponseError('total_count is not a non-negative integer');
    return { backups: o.backups.map(parseRow), total_count: total };
  } catch (error) {
    if (error instanceof UpstreamBadResponseError && requestId !== undefined) throw new UpstreamBadResponseError(error.reason, requestId);
    throw error;
  }
}

/** Reads what an error body says, whatever its variant; never throws. */
export function parseErrorBody(text: string): UpstreamErrorBody {
  try {
    const body: unknown = JSON.parse(text);
    if (!isObj(body)) return {};
    const o = trimKeys(body);
    const nested = isObj(o.error) ? trimKeys(o.error) : undefined;
    const code = o.error_code ?? nested?.code;
    const requestId = o.request_id;
    return {
      errorCode: typeof code === 'string' && code.length <= 64 ? code.trim() : undefined,
      requestId: typeof requestId === 'string' && requestId.length <= 128 ? requestId.trim() : undefined,
    };
  } catch {
    return {};
  }
}
