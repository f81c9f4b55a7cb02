/**
 * The simulated API route, `GET /v3/{project_id}/backups`. Every call is logged; then, in the
 * order the cloud's API gateway and RDS apply them: credentials (401), throttling (429), the
 * route (404), then the service: injected faults, parameter validation (400), instance lookup
 * (404), the page. Every answer carries `X-Request-Id`.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';

import type { Authenticator } from './auth';
import type { CallLog, CallRecord } from './call-log';
import type { FaultPlan, FaultRule } from './faults';
import { readBody, safeDecode, send, type RouteHandler } from './http-io';
import { parseListQuery } from './query';
import type { BackupStore } from './store';
import type { Throttle } from './throttle';

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

const API_ROUTE = /^\/v3\/([^/]+)\/backups\/?$/;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What the API route works on. */
export interface ApiState {
  store: BackupStore;
  auth: Authenticator;
  throttle: Throttle;
  faults: FaultPlan;
  calls: CallLog;
  /** `performance.now()` when the simulator started: call records are timed from it. */
  t0: number;
}

/** One call's answers; it remembers the status it sent, for the call log. */
interface Reply {
  /** The status sent, 0 before any. */
  readonly status: number;
  /** An error in the cloud's shape, its message in Chinese when the caller asked for `zh-cn`. */
  fail(code: number, errorCode: string, message: string, extra?: Record<string, string>): void;
  ok(body: string): void;
}

function createReply(res: http.ServerResponse, requestId: string, zh: boolean): Reply {
  let status = 0;
  return {
    get status() { return status; },
    fail(code, errorCode, message, extra = {}) {
      status = code;
      const body: Record<string, string> = { error_code: errorCode, error_msg: zh ? (MESSAGES_ZH[errorCode] ?? message) : message };
      if (errorCode.startsWith('APIG')) body.request_id = requestId;
      send(res, code, JSON.stringify(body), extra);
    },
    ok(body) {
      status = 200;
      send(res, 200, body);
    },
  };
}

/** The call log's record of a call as it arrives. */
function arrival(req: http.IncomingMessage, rawPath: string, rawQuery: string, projectSegment: string | undefined, instanceId: string | undefined, startedAt: number): Omit<CallRecord, 'seq'> {
  return {
    method: req.method ?? 'GET', path: rawPath, query: rawQuery, startedAt,
    projectId: projectSegment !== undefined ? safeDecode(projectSegment) : undefined,
    instanceId,
    headers: {
      xAuthToken: req.headers['x-auth-token'] !== undefined,
      authorization: req.headers.authorization !== undefined,
      xProjectId: req.headers['x-project-id'] as string | undefined,
      xLanguage: req.headers['x-language'] as string | undefined,
      traceparent: req.headers.traceparent as string | undefined,
    },
  };
}

/** Plays the terminal fault drawn for a call; false when there is none and the service answers. */
function playFault(terminal: FaultRule | undefined, req: http.IncomingMessage, reply: Reply): boolean {
  switch (terminal?.kind) {
    case 'hang':
      return true; // the socket stays open until the client gives up or the simulator closes
    case 'reset':
      req.socket.destroy(); // the connection drops with no answer (ECONNRESET at the client)
      return true;
    case 'error': {
      const code = terminal.status ?? 500;
      reply.fail(code, terminal.errorCode ?? ERROR_CODE_BY_STATUS[code] ?? 'DBS.108000', 'Injected fault: the service is unavailable.');
      return true;
    }
    case 'throttle':
      reply.fail(429, 'APIGW.0308', 'Injected fault: the throttling threshold has been reached.',
        terminal.noRetryAfter ? {} : { 'Retry-After': String(terminal.retryAfterSeconds ?? 2) });
      return true;
    case 'malformed':
      reply.ok('{"backups": [{"id": "4a1b');
      return true;
    case 'wrong-shape':
      reply.ok(JSON.stringify({ backups: { id: 'not-a-list' }, total_count: 'many' }));
      return true;
    default:
      return false;
  }
}

/** The service's own answer: the query validated, the instance looked up, the page. */
function answerPage(store: BackupStore, rawQuery: string, reply: Reply): void {
  const parsed = parseListQuery(rawQuery);
  if (!parsed.ok) return reply.fail(400, 'DBS.200001', `Invalid parameter. ${parsed.message}`);
  const instance = store.get(parsed.query.instanceId.trim());
  if (!instance) return reply.fail(404, 'DBS.200045', 'The DB instance does not exist.');
  reply.ok(JSON.stringify(store.query(instance, parsed.query)));
}

export function createApiHandler({ store, auth, throttle, faults, calls, t0 }: ApiState): RouteHandler {
  return async function handleApi(req, res, rawPath, rawQuery) {
    const requestId = randomBytes(16).toString('hex');
    res.setHeader('X-Request-Id', requestId);
    const reply = createReply(res, requestId, String(req.headers['x-language'] ?? '').toLowerCase() === 'zh-cn');
    const routed = API_ROUTE.exec(rawPath);
    const instanceId = new URLSearchParams(rawQuery).get('instance_id')?.trim();
    const record = calls.start(arrival(req, rawPath, rawQuery, routed?.[1], instanceId, performance.now() - t0));
    res.on('close', () => calls.end(record, reply.status || res.statusCode, performance.now() - t0));

    const body = await readBody(req).catch(() => null);
    if (body === null) return reply.fail(400, 'DBS.200006', 'The request body is too large.');
    const outcome = auth.check({ method: req.method ?? 'GET', rawPath, rawQuery, headers: req.headers, body });
    if (!outcome.ok) return reply.fail(401, 'APIG.0301', outcome.message);
    record.caller = outcome.caller;
    const slot = throttle.take(outcome.caller);
    if (!slot.ok) {
      return reply.fail(429, 'APIGW.0308', `The throttling threshold has been reached: policy user over ratelimit, limit:${throttle.perMinute}, time:1 minute`,
        { 'Retry-After': String(slot.retryAfterSeconds) });
    }
    if (!routed || req.method !== 'GET') return reply.fail(404, 'APIGW.0101', 'The API does not exist or has not been published in the environment.');

    const { latencyMs, terminal } = faults.draw(instanceId);
    if (latencyMs > 0) await sleep(latencyMs);
    if (playFault(terminal, req, reply)) return;
    answerPage(store, rawQuery, reply);
  };
}
