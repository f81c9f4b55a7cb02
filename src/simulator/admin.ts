/**
 * The `/__admin/` routes, test helpers served only when the simulator is started with `admin`:
 * list instances and add, re-status or remove backups; run a lifecycle step (lifecycle.ts); read or
 * reset the call log; read, replace, add or clear faults; set the throttle; reset everything. They
 * answer plain JSON.
 */
import type { CallLog } from './call-log';
import { validateFaultRule, type FaultPlan, type FaultRule } from './faults';
import { readBody, safeDecode, send, type RouteHandler } from './http-io';
import type { Lifecycle } from './lifecycle';
import { isBackupStatus, isBackupType, type BackupStore } from './store';
import type { Throttle } from './throttle';

/** What the admin routes work on. */
export interface AdminState {
  store: BackupStore;
  faults: FaultPlan;
  throttle: Throttle;
  calls: CallLog;
  lifecycle: Lifecycle;
  /** The period the lifecycle steps at; null when it only steps on demand. */
  lifecycleMs: number | null;
}

/** An admin request, read: the path after `/__admin/` as decoded segments, and the JSON body. */
interface AdminRequest {
  method: string;
  section?: string;
  instanceId?: string;
  sub?: string;
  backupId?: string;
  rawQuery: string;
  /** The parsed body (`{}` for an empty one); undefined for GET and DELETE. */
  body: unknown;
  /** `body` when it is an object, else `{}`. */
  fields: Record<string, unknown>;
}

/** An answer: status and JSON value. */
type AdminAnswer = readonly [status: number, value: unknown];

function instancesRoute(store: BackupStore, r: AdminRequest): AdminAnswer | undefined {
  const { method, instanceId, backupId, fields } = r;
  if (instanceId === undefined) {
    return method === 'GET' ? [200, store.list().map((i) => ({ id: i.id, name: i.name, engine: i.engine, version: i.version, backups: i.backups.length }))] : undefined;
  }
  if (r.sub !== 'backups') return undefined;
  if (backupId === undefined && method === 'POST') {
    const count = fields.count ?? 1;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 10_000) return [400, { error: 'count must be an integer from 1 to 10000' }];
    if (fields.type !== undefined && !isBackupType(fields.type)) return [400, { error: 'unknown type' }];
    if (fields.status !== undefined && !isBackupStatus(fields.status)) return [400, { error: 'unknown status' }];
    const created = store.insert(instanceId, count, fields as never);
    return created ? [201, created.map((b) => ({ id: b.id, name: b.name, type: b.type, status: b.status }))] : [404, { error: 'no such instance' }];
  }
  if (backupId !== undefined && method === 'PATCH') {
    if (!isBackupStatus(fields.status)) return [400, { error: 'status must be BUILDING, COMPLETED, FAILED or DELETING' }];
    const updated = store.setStatus(instanceId, backupId, fields.status);
    return updated ? [200, { id: updated.id, status: updated.status }] : [404, { error: 'no such backup' }];
  }
  if (backupId !== undefined && method === 'DELETE') {
    return store.remove(instanceId, backupId) ? [200, { deleted: backupId }] : [404, { error: 'no such backup' }];
  }
  return undefined;
}

function lifecycleRoute(state: AdminState, r: AdminRequest): AdminAnswer | undefined {
  const { lifecycle } = state;
  if (r.instanceId === undefined && r.method === 'GET') return [200, { periodMs: state.lifecycleMs, running: lifecycle.running, steps: lifecycle.stepCount }];
  if (r.instanceId === 'step' && r.sub === undefined && r.method === 'POST') return [200, lifecycle.step()];
  return undefined;
}

function callsRoute(calls: CallLog, r: AdminRequest): AdminAnswer | undefined {
  if (r.method === 'GET') {
    const params = new URLSearchParams(r.rawQuery);
    const since = params.get('since') ?? '0';
    if (!/^\d{1,15}$/.test(since)) return [400, { error: 'since must be the seq of a call (a whole number)' }];
    return [200, calls.summary(params.get('instanceId') ?? undefined, Number(since))];
  }
  if (r.method === 'DELETE') { calls.reset(); return [200, { reset: true }]; }
  return undefined;
}

function faultsRoute(faults: FaultPlan, { method, body }: AdminRequest): AdminAnswer {
  if (method === 'GET') return [200, faults.list()];
  if (method === 'DELETE') { faults.clear(); return [200, []]; }
  const rules = Array.isArray(body) ? body : [body];
  const problem = rules.map(validateFaultRule).find((p) => p !== null);
  if (problem) return [400, { error: problem }];
  if (method === 'PUT') faults.replace(rules as FaultRule[]);
  else if (method === 'POST') rules.forEach((r) => faults.add(r as FaultRule));
  else return [405, { error: 'method not allowed' }];
  return [200, faults.list()];
}

function throttleRoute(throttle: Throttle, { method, fields }: AdminRequest): AdminAnswer | undefined {
  if (method !== 'PUT') return undefined;
  const perMinute = fields.perMinute;
  if (typeof perMinute !== 'number' || !Number.isInteger(perMinute) || perMinute < 0) return [400, { error: 'perMinute must be an integer of at least 0' }];
  throttle.perMinute = perMinute;
  throttle.reset();
  return [200, { perMinute }];
}

function route(state: AdminState, r: AdminRequest): AdminAnswer | undefined {
  switch (r.section) {
    case 'instances': return instancesRoute(state.store, r);
    case 'lifecycle': return lifecycleRoute(state, r);
    case 'calls': return callsRoute(state.calls, r);
    case 'faults': return faultsRoute(state.faults, r);
    case 'throttle': return throttleRoute(state.throttle, r);
    case 'reset':
      if (r.method !== 'POST') return undefined;
      state.store.reset(); state.lifecycle.reset(); state.faults.clear(); state.calls.reset(); state.throttle.reset();
      return [200, { reset: true }];
    default: return undefined;
  }
}

export function createAdminHandler(state: AdminState): RouteHandler {
  return async function handleAdmin(req, res, path, rawQuery) {
    const json = (code: number, value: unknown): void => send(res, code, JSON.stringify(value));
    const method = req.method ?? 'GET';
    let body: unknown = undefined;
    if (method !== 'GET' && method !== 'DELETE') {
      const text = await readBody(req).catch(() => null);
      if (text === null) return json(413, { error: 'body too large' });
      try { body = text === '' ? {} : JSON.parse(text); } catch { return json(400, { error: 'body is not JSON' }); }
    }
    const [section, instanceId, sub, backupId] = path.split('/').slice(2).map(safeDecode); // ['', '__admin', ...]
    const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const [status, value] = route(state, { method, section, instanceId, sub, backupId, rawQuery, body, fields }) ?? [404, { error: 'no such admin route' }];
    json(status, value);
  };
}
