/**
 * An embedded, faithful simulator of Huawei Cloud RDS's `GET /v3/{project_id}/backups`.
 *
 * Order of checks, as the cloud's API gateway and RDS apply them: credentials (401), throttling
 * (429), then the service: faults, parameter validation (400), instance lookup (404), the page.
 * Every answer carries `X-Request-Id`. Test helpers live under `/__admin/`, off unless enabled.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { Authenticator, type AuthOptions } from './auth';
import { createRandom } from './data';
import { FaultPlan, validateFaultRule, type FaultRule } from './faults';
import { parseListQuery } from './query';
import { BackupStore, isBackupStatus, isBackupType } from './store';
import { Throttle } from './throttle';

export interface SimulatorOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** Seed of the generated data. @default 20261101 */
  seed?: number;
  /** Credentials accepted; none configured means open. */
  auth?: AuthOptions;
  /** Calls per minute per caller; 0 turns throttling off. @default 60 */
  rateLimitPerMinute?: number;
  /** Serve the `/__admin/` test helpers. @default false */
  admin?: boolean;
  /** Faults active from the start. */
  faults?: readonly FaultRule[];
  /** The simulator's clock (signature skew, throttling). @default Date.now */
  now?: () => number;
  /** How many of the most recent calls the call log keeps. @default 10000 */
  callLogCapacity?: number;
}

export interface CallRecord {
  seq: number;
  method: string;
  path: string;
  projectId?: string;
  instanceId?: string;
  /** The raw query string, as it came on the wire. */
  query: string;
  caller?: string;
  status?: number;
  /** Milliseconds since the simulator started. */
  startedAt: number;
  endedAt?: number;
  headers: { xAuthToken: boolean; authorization: boolean; xProjectId?: string; xLanguage?: string };
}

export interface Simulator {
  /** Base URL, e.g. `http://127.0.0.1:41234`: what `RDS_ENDPOINT` takes. */
  readonly url: string;
  readonly port: number;
  readonly store: BackupStore;
  readonly faults: FaultPlan;
  readonly throttle: Throttle;
  readonly calls: CallLog;
  close(): Promise<void>;
}

export interface CallSummary {
  /** Calls in `calls`. */
  count: number;
  maxInFlight: number;
  perInstance: Record<string, number>;
  /** The calls asked for that the log still holds, oldest first. */
  calls: CallRecord[];
  /** The `seq` of the latest call received (0 before the first). */
  seq: number;
  /** Calls asked for that the log no longer holds (it keeps the most recent `capacity`). */
  dropped: number;
}

/**
 * The API calls received, the most recent `capacity` of them (a ring: memory stays bounded
 * however long the simulator runs, embedded in `npm start` too), with how many were in flight
 * at once. `seq` numbers every call and keeps counting past the capacity and across resets, so
 * a reader asks for the calls since the `seq` it last saw.
 */
export class CallLog {
  inFlight = 0;
  maxInFlight = 0;
  private ring: CallRecord[] = [];
  /** Where the next record goes once the ring is full: the oldest record. */
  private next = 0;
  private lastSeq = 0;
  /** `seq` of the last call before the latest reset. */
  private resetAfter = 0;

  constructor(readonly capacity = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`a call log capacity is a whole number of at least 1, got ${capacity}`);
  }

  /** The `seq` of the latest call received (0 before the first). */
  get seq(): number {
    return this.lastSeq;
  }

  /** The calls held (at most `capacity`, since the latest reset), oldest first. */
  get records(): CallRecord[] {
    return this.ring.length < this.capacity ? [...this.ring] : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }

  start(record: Omit<CallRecord, 'seq'>): CallRecord {
    const full = { ...record, seq: ++this.lastSeq };
    if (this.ring.length < this.capacity) this.ring.push(full);
    else { this.ring[this.next] = full; this.next = (this.next + 1) % this.capacity; }
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return full;
  }

  end(record: CallRecord, status: number, at: number): void {
    record.status = status;
    record.endedAt = at;
    this.inFlight -= 1;
  }

  reset(): void {
    this.ring = [];
    this.next = 0;
    this.resetAfter = this.lastSeq;
    this.maxInFlight = this.inFlight;
  }

  /** The calls since the latest reset, or after call `since` when that is later; of one instance when given. */
  summary(instanceId?: string, since = 0): CallSummary {
    const after = Math.max(since, this.resetAfter);
    const held = this.records.filter((r) => r.seq > after);
    const calls = instanceId === undefined ? held : held.filter((r) => r.instanceId === instanceId);
    const perInstance: Record<string, number> = {};
    for (const r of held) if (r.instanceId !== undefined) perInstance[r.instanceId] = (perInstance[r.instanceId] ?? 0) + 1;
    const oldestHeld = held[0]?.seq ?? this.lastSeq + 1;
    return { count: calls.length, maxInFlight: this.maxInFlight, perInstance, calls, seq: this.lastSeq, dropped: Math.max(0, oldestHeld - after - 1) };
  }
}

const MESSAGES_ZH: Record<string, string> = {
  'DBS.200001': '参数错误。',
  'DBS.200045': '实例不存在。',
  'APIG.0301': 'IAM认证信息错误。',
  'APIGW.0308': '请求超过流控阈值。',
  'APIGW.0101': 'API不存在或尚未发布。',
  'DBS.108000': '服务内部错误。',
  'DBS.200011': '实例状态不允许此操作。',
};

const ERROR_CODE_BY_STATUS: Record<number, string> = { 409: 'DBS.200011', 500: 'DBS.108000', 502: 'APIGW.0202', 503: 'DBS.108005', 504: 'APIGW.0203' };

function send(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

function readBody(req: http.IncomingMessage, limit = 65_536): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) { reject(new Error('body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const now = options.now ?? Date.now;
  const store = new BackupStore(options.seed ?? 20261101);
  const auth = new Authenticator(options.auth, now);
  const throttle = new Throttle(options.rateLimitPerMinute ?? 60, now);
  const faults = new FaultPlan(options.faults ?? [], createRandom((options.seed ?? 20261101) ^ 0xfa17));
  const calls = new CallLog(options.callLogCapacity);
  const t0 = performance.now();
  const sockets = new Set<Socket>();

  async function handleApi(req: http.IncomingMessage, res: http.ServerResponse, rawPath: string, rawQuery: string): Promise<void> {
    const requestId = randomBytes(16).toString('hex');
    res.setHeader('X-Request-Id', requestId);
    const zh = String(req.headers['x-language'] ?? '').toLowerCase() === 'zh-cn';
    const routed = /^\/v3\/([^/]+)\/backups\/?$/.exec(rawPath);
    const instanceParam = new URLSearchParams(rawQuery).get('instance_id') ?? undefined;
    const record = calls.start({
      method: req.method ?? 'GET', path: rawPath, query: rawQuery, startedAt: performance.now() - t0,
      projectId: routed?.[1] !== undefined ? safeDecode(routed[1]) : undefined,
      instanceId: instanceParam?.trim(),
      headers: {
        xAuthToken: req.headers['x-auth-token'] !== undefined,
        authorization: req.headers.authorization !== undefined,
        xProjectId: req.headers['x-project-id'] as string | undefined,
        xLanguage: req.headers['x-language'] as string | undefined,
      },
    });
    let status = 0;
    res.on('close', () => calls.end(record, status || res.statusCode, performance.now() - t0));
    const fail = (code: number, errorCode: string, message: string, extra: Record<string, string> = {}): void => {
      status = code;
      const body: Record<string, string> = { error_code: errorCode, error_msg: zh ? (MESSAGES_ZH[errorCode] ?? message) : message };
      if (errorCode.startsWith('APIG')) body.request_id = requestId;
      send(res, code, JSON.stringify(body), extra);
    };

    const body = await readBody(req).catch(() => null);
    if (body === null) return fail(400, 'DBS.200006', 'The request body is too large.');
    const outcome = auth.check({ method: req.method ?? 'GET', rawPath, rawQuery, headers: req.headers, body });
    if (!outcome.ok) return fail(401, 'APIG.0301', outcome.message);
    record.caller = outcome.caller;
    const slot = throttle.take(outcome.caller);
    if (!slot.ok) {
      return fail(429, 'APIGW.0308', `The throttling threshold has been reached: policy user over ratelimit, limit:${throttle.perMinute}, time:1 minute`,
        { 'Retry-After': String(slot.retryAfterSeconds) });
    }
    if (!routed || req.method !== 'GET') return fail(404, 'APIGW.0101', 'The API does not exist or has not been published in the environment.');

    const { latencyMs, terminal } = faults.draw(instanceParam?.trim());
    if (latencyMs > 0) await sleep(latencyMs);
    switch (terminal?.kind) {
      case 'hang':
        return; // the socket stays open until the client gives up or the simulator closes
      case 'reset':
        req.socket.destroy(); // the connection drops with no answer (ECONNRESET at the client)
        return;
      case 'error': {
        const code = terminal.status ?? 500;
        return fail(code, terminal.errorCode ?? ERROR_CODE_BY_STATUS[code] ?? 'DBS.108000', 'Injected fault: the service is unavailable.');
      }
      case 'throttle':
        return fail(429, 'APIGW.0308', 'Injected fault: the throttling threshold has been reached.',
          terminal.noRetryAfter ? {} : { 'Retry-After': String(terminal.retryAfterSeconds ?? 2) });
      case 'malformed':
        status = 200;
        return send(res, 200, '{"backups": [{"id": "4a1b');
      case 'wrong-shape':
        status = 200;
        return send(res, 200, JSON.stringify({ backups: { id: 'not-a-list' }, total_count: 'many' }));
      default:
    }

    const parsed = parseListQuery(rawQuery);
    if (!parsed.ok) return fail(400, 'DBS.200001', `Invalid parameter. ${parsed.message}`);
    const instance = store.get(parsed.query.instanceId.trim());
    if (!instance) return fail(404, 'DBS.200045', 'The DB instance does not exist.');
    status = 200;
    send(res, 200, JSON.stringify(store.query(instance, parsed.query)));
  }

  async function handleAdmin(req: http.IncomingMessage, res: http.ServerResponse, path: string, rawQuery: string): Promise<void> {
    const json = (code: number, value: unknown): void => send(res, code, JSON.stringify(value));
    const method = req.method ?? 'GET';
    let body: unknown = undefined;
    if (method !== 'GET' && method !== 'DELETE') {
      const text = await readBody(req).catch(() => null);
      if (text === null) return json(413, { error: 'body too large' });
      try { body = text === '' ? {} : JSON.parse(text); } catch { return json(400, { error: 'body is not JSON' }); }
    }
    const parts = path.split('/').slice(2).map(safeDecode); // ['', '__admin', ...]
    const [section, instanceId, sub, backupId] = parts;
    const bodyObj = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;

    if (section === 'instances' && instanceId === undefined && method === 'GET') {
      return json(200, store.list().map((i) => ({ id: i.id, name: i.name, engine: i.engine, version: i.version, backups: i.backups.length })));
    }
    if (section === 'instances' && instanceId !== undefined && sub === 'backups') {
      if (backupId === undefined && method === 'POST') {
        const count = bodyObj.count ?? 1;
        if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 10_000) return json(400, { error: 'count must be an integer from 1 to 10000' });
        if (bodyObj.type !== undefined && !isBackupType(bodyObj.type)) return json(400, { error: 'unknown type' });
        if (bodyObj.status !== undefined && !isBackupStatus(bodyObj.status)) return json(400, { error: 'unknown status' });
        const created = store.insert(instanceId, count, bodyObj as never);
        return created ? json(201, created.map((b) => ({ id: b.id, name: b.name, type: b.type, status: b.status }))) : json(404, { error: 'no such instance' });
      }
      if (backupId !== undefined && method === 'PATCH') {
        if (!isBackupStatus(bodyObj.status)) return json(400, { error: 'status must be BUILDING, COMPLETED, FAILED or DELETING' });
        const updated = store.setStatus(instanceId, backupId, bodyObj.status);
        return updated ? json(200, { id: updated.id, status: updated.status }) : json(404, { error: 'no such backup' });
      }
      if (backupId !== undefined && method === 'DELETE') {
        return store.remove(instanceId, backupId) ? json(200, { deleted: backupId }) : json(404, { error: 'no such backup' });
      }
    }
    if (section === 'calls' && method === 'GET') {
      const params = new URLSearchParams(rawQuery);
      const since = params.get('since') ?? '0';
      if (!/^\d{1,15}$/.test(since)) return json(400, { error: 'since must be the seq of a call (a whole number)' });
      return json(200, calls.summary(params.get('instanceId') ?? undefined, Number(since)));
    }
    if (section === 'calls' && method === 'DELETE') { calls.reset(); return json(200, { reset: true }); }
    if (section === 'faults') {
      if (method === 'GET') return json(200, faults.list());
      if (method === 'DELETE') { faults.clear(); return json(200, []); }
      const rules = Array.isArray(body) ? body : [body];
      const problem = rules.map(validateFaultRule).find((p) => p !== null);
      if (problem) return json(400, { error: problem });
      if (method === 'PUT') faults.replace(rules as FaultRule[]);
      else if (method === 'POST') rules.forEach((r) => faults.add(r as FaultRule));
      else return json(405, { error: 'method not allowed' });
      return json(200, faults.list());
    }
    if (section === 'throttle' && method === 'PUT') {
      const perMinute = bodyObj.perMinute;
      if (typeof perMinute !== 'number' || !Number.isInteger(perMinute) || perMinute < 0) return json(400, { error: 'perMinute must be an integer of at least 0' });
      throttle.perMinute = perMinute;
      throttle.reset();
      return json(200, { perMinute });
    }
    if (section === 'reset' && method === 'POST') {
      store.reset(); faults.clear(); calls.reset(); throttle.reset();
      return json(200, { reset: true });
    }
    return json(404, { error: 'no such admin route' });
  }

  const server = http.createServer({ maxHeaderSize: 65_536 }, (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const rawQuery = q === -1 ? '' : url.slice(q + 1);
    const work = options.admin && rawPath.startsWith('/__admin/')
      ? handleAdmin(req, res, rawPath, rawQuery)
      : handleApi(req, res, rawPath, rawQuery);
    work.catch(() => { if (!res.headersSent) send(res, 500, JSON.stringify({ error_code: 'DBS.108000', error_msg: 'Internal error.' })); });
  });
  server.keepAliveTimeout = 65_000;
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await new Promise<void>((resolve, reject) => { server.once('listening', resolve); server.once('error', reject); });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  return {
    url: `http://${host}:${port}`,
    port,
    store,
    faults,
    throttle,
    calls,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }),
  };
}

function safeDecode(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}
