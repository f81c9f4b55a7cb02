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

/**
 * Whether a string may have white space at either end: its first or last character is a control
 * character, a space or beyond ASCII (where `trim()` decides). Checking two character codes
 * instead of calling `trim()` on every key and value halved the cost of checking a row.
 */
function mayNeedTrim(s: string): boolean {
  if (s.length === 0) return false;
  const first = s.charCodeAt(0);
  const last = s.charCodeAt(s.length - 1);
  return first <= 32 || first >= 127 || last <= 32 || last >= 127;
}

/** Keys with their surrounding spaces removed (`"id "` → `id`). */
function trimKeys(o: Obj): Obj {
  let clean = true;
  for (const k in o) if (mayNeedTrim(k) && k.trim() !== k) { clean = false; break; }
  if (clean) return o;
  const out: Obj = {};
  for (const k in o) out[k.trim()] = o[k];
  return out;
}

/** Where a field sits, for error messages: built only when one is thrown, not for every row. */
const at = (i: number, inner: string): string => `backups[${i}]${inner}`;

/**
 * Checks that `o[key]` is a string (or absent, when not `required`) and trims it in place.
 * Rows are checked and repaired in the objects JSON.parse made, not copied: a copy of every row
 * (and its datastore) was a fifth of the allocations of a page request.
 */
function str(o: Obj, key: string, i: number, inner: string, required = true): void {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) throw new UpstreamBadResponseError(`${at(i, inner)}.${key} is missing`);
    return;
  }
  if (typeof v !== 'string') throw new UpstreamBadResponseError(`${at(i, inner)}.${key} is not a string`);
  if (mayNeedTrim(v)) o[key] = v.trim();
}

function parseRow(raw: unknown, i: number): BackupForListDTO {
  if (!isObj(raw)) throw new UpstreamBadResponseError(`${at(i, '')} is not an object`);
  const o = trimKeys(raw);
  const size = o.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new UpstreamBadResponseError(`${at(i, '')}.size is not a non-negative integer`);
  const ds = o.datastore;
  if (!isObj(ds)) throw new UpstreamBadResponseError(`${at(i, '')}.datastore is not an object`);
  const datastore = trimKeys(ds);
  if (datastore !== ds) o.datastore = datastore;
  str(o, 'id', i, '');
  str(o, 'instance_id', i, '');
  str(o, 'name', i, '');
  str(o, 'type', i, '');
  str(o, 'status', i, '');
  str(o, 'begin_time', i, '');
  str(o, 'end_time', i, '', false);
  if (o.end_time === undefined || o.end_time === null) o.end_time = '';
  str(datastore, 'type', i, '.datastore');
  str(datastore, 'version', i, '.datastore');
  if (o.databases !== undefined && o.databases !== null) {
    if (!Array.isArray(o.databases)) throw new UpstreamBadResponseError(`${at(i, '')}.databases is not a list`);
    o.databases = o.databases.map((d, j) => {
      if (!isObj(d)) throw new UpstreamBadResponseError(`${at(i, `.databases[${j}]`)} is not an object`);
      const database = trimKeys(d);
      str(database, 'name', i, `.databases[${j}]`);
      return { name: database.name as string };
    });
  } else if (o.databases === null) {
    o.databases = undefined; // assigned, not deleted: delete would slow every later read of the row
  }
  const ddm = o.associated_with_ddm;
  if (ddm === null) o.associated_with_ddm = undefined;
  else if (ddm !== undefined && typeof ddm !== 'boolean') throw new UpstreamBadResponseError(`${at(i, '')}.associated_with_ddm is not a boolean`);
  const min = o.min_data_volume_capacity_for_restore;
  if (min === null) o.min_data_volume_capacity_for_restore = undefined;
  else if (min !== undefined && (typeof min !== 'number' || !Number.isInteger(min) || min < 0 || min > 2 ** 31 - 1)) throw new UpstreamBadResponseError(`${at(i, '')}.min_data_volume_capacity_for_restore is not an integer`);
  return o as unknown as BackupForListDTO;
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

/**
 * The shapes of the two values the gateway relays from an answer (in `extensions.upstream`, logs
 * and metrics): anything else is dropped, not relayed. An upstream, or a proxy before it, may
 * copy the request into them (a token, an `Authorization` header with its signature), or put
 * markup or 60 KB there; an id a client cannot use is worth less than one that leaks.
 * - error codes as the API documents them: `DBS.200001`, `APIG.0301`, `APIGW.0308` (letters, a
 *   dot, digits). A token of that shape is still refused by the client (client.ts).
 * - request ids: hex, with dashes for the UUID form, at most 40 characters (the cloud's and the
 *   simulator's are 32 hex digits). An AK/SK signature (64 hex digits) is longer.
 */
const ERROR_CODE = /^[A-Za-z]{2,16}\.\d{1,8}$/;
const REQUEST_ID = /^[0-9A-Fa-f][0-9A-Fa-f-]{0,39}$/;

/** An error code as documented, trimmed; undefined for anything else. */
export function toErrorCode(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const code = value.trim();
  return ERROR_CODE.test(code) ? code : undefined;
}

/** A request id of the documented shape, trimmed; undefined for anything else. */
export function toRequestId(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const id = value.trim();
  return REQUEST_ID.test(id) ? id : undefined;
}

/** Reads what an error body says, whatever its variant, keeping only values of the documented shapes; never throws. */
export function parseErrorBody(text: string): UpstreamErrorBody {
  try {
    const body: unknown = JSON.parse(text);
    if (!isObj(body)) return {};
    const o = trimKeys(body);
    const nested = isObj(o.error) ? trimKeys(o.error) : undefined;
    return { errorCode: toErrorCode(o.error_code ?? nested?.code), requestId: toRequestId(o.request_id) };
  } catch {
    return {};
  }
}
