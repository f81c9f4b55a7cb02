/**
 * Validation of the list-backups query string, as strict as the published API and the SDK models.
 * Returns either the parsed parameters or the error the API would answer with.
 */
import type { SimBackupStatus, SimBackupType } from './data';

export interface ListQuery {
  instanceId: string;
  backupId?: string;
  backupType?: SimBackupType;
  offset: number;
  limit: number;
  /** Epoch ms, both or neither. */
  beginTime?: number;
  endTime?: number;
  status?: SimBackupStatus;
}

export type QueryResult = { ok: true; query: ListQuery } | { ok: false; message: string };

const KNOWN = new Set(['instance_id', 'backup_id', 'backup_type', 'offset', 'limit', 'begin_time', 'end_time', 'status']);
const TYPES = new Set(['auto', 'manual', 'fragment', 'incremental']);
const STATUS_FILTERS = new Set(['BUILDING', 'COMPLETED', 'FAILED']);
const MAX_OFFSET = 2 ** 31 - 1;
/** The largest `limit` the API accepts, and the page size when none is given. */
const MAX_LIMIT = 100;

/**
 * Splits a raw query string the way the API gateway does: `+` is a space (form encoding), so a
 * time offset sent as a bare `+0800` arrives as ` 0800` and fails the format check below.
 */
export function splitQuery(raw: string): Array<[string, string]> | null {
  const pairs: Array<[string, string]> = [];
  if (raw === '') return pairs;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawKey = eq === -1 ? part : part.slice(0, eq);
    const rawValue = eq === -1 ? '' : part.slice(eq + 1);
    try {
      pairs.push([decodeURIComponent(rawKey.replace(/\+/g, ' ')), decodeURIComponent(rawValue.replace(/\+/g, ' '))]);
    } catch {
      return null;
    }
  }
  return pairs;
}

const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})([+-])(\d{2})(\d{2})$/;

/** Parses `yyyy-mm-ddThh:mm:ss±hhmm` to epoch ms, or null if it is not exactly that. */
export function parseUpstreamTime(value: string): number | null {
  const m = TIME.exec(value);
  if (!m) return null;
  const n = (i: number): number => Number(m[i]);
  const y = n(1), mo = n(2), d = n(3), h = n(4), mi = n(5), s = n(6), oh = n(8), om = n(9);
  const sign = m[7];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59 || oh > 14 || om > 59) return null;
  const local = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(local).getUTCDate() !== d) return null; // 2026-02-30 and the like
  const offsetMs = (oh * 60 + om) * 60_000 * (sign === '+' ? 1 : -1);
  return local - offsetMs;
}

export function parseListQuery(raw: string): QueryResult {
  const pairs = splitQuery(raw);
  if (pairs === null) return { ok: false, message: 'The query string is not correctly percent-encoded.' };
  const values = new Map<string, string>();
  for (const [key, value] of pairs) {
    if (!KNOWN.has(key)) continue; // the API ignores parameters it does not know
    if (values.has(key)) return { ok: false, message: `Parameter ${key} is given more than once.` };
    values.set(key, value);
  }
  const fail = (message: string): QueryResult => ({ ok: false, message });

  const instanceId = values.get('instance_id');
  if (instanceId === undefined || instanceId.trim() === '') return fail('Parameter instance_id is mandatory.');

  const query: ListQuery = { instanceId, offset: 0, limit: MAX_LIMIT };
  const backupId = values.get('backup_id');
  if (backupId !== undefined) {
    if (backupId.trim() === '') return fail('Parameter backup_id must not be empty.');
    query.backupId = backupId;
  }
  const type = values.get('backup_type');
  if (type !== undefined) {
    if (!TYPES.has(type)) return fail(`Invalid backup_type ${JSON.stringify(type)}: expected auto, manual, fragment or incremental.`);
    query.backupType = type as SimBackupType;
  }
  const offset = values.get('offset');
  if (offset !== undefined) {
    if (!/^\d{1,10}$/.test(offset) || Number(offset) > MAX_OFFSET) return fail('Parameter offset must be an integer of at least 0.');
    query.offset = Number(offset);
  }
  const limit = values.get('limit');
  if (limit !== undefined) {
    if (!/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_LIMIT) return fail(`Parameter limit must be an integer from 1 to ${MAX_LIMIT}.`);
    query.limit = Number(limit);
  }
  const begin = values.get('begin_time');
  const end = values.get('end_time');
  if ((begin === undefined) !== (end === undefined)) return fail('Parameters begin_time and end_time must be given together.');
  if (begin !== undefined && end !== undefined) {
    const b = parseUpstreamTime(begin);
    const e = parseUpstreamTime(end);
    if (b === null) return fail(`Invalid begin_time ${JSON.stringify(begin)}: expected yyyy-mm-ddThh:mm:ss+hhmm.`);
    if (e === null) return fail(`Invalid end_time ${JSON.stringify(end)}: expected yyyy-mm-ddThh:mm:ss+hhmm.`);
    if (e <= b) return fail('Parameter end_time must be later than begin_time.');
    query.beginTime = b;
    query.endTime = e;
  }
  const status = values.get('status');
  if (status !== undefined) {
    if (!STATUS_FILTERS.has(status)) return fail(`Invalid status ${JSON.stringify(status)}: expected BUILDING, COMPLETED or FAILED.`);
    query.status = status as SimBackupStatus;
  }
  return { ok: true, query };
}
