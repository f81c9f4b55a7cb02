/**
 * An embedded, faithful simulator of Huawei Cloud RDS's `GET /v3/{project_id}/backups`: this
 * file builds its state and serves it over node:http. The list-backups route is api.ts (the
 * order of its checks is there); the `/__admin/` test helpers, off unless enabled, are admin.ts.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { createAdminHandler } from './admin';
import { createApiHandler } from './api';
import { Authenticator, type AuthOptions } from './auth';
import { CallLog } from './call-log';
import { createRandom } from './data';
import { FaultPlan, type FaultRule } from './faults';
import { send } from './http-io';
import { Lifecycle, type SimulatorScheduler } from './lifecycle';
import { BackupStore } from './store';
import { Throttle } from './throttle';

// The call log is part of the Simulator's surface (`calls`): importers find it here too.
export { CallLog, type CallRecord, type CallSummary } from './call-log';
export { Lifecycle, type LifecycleChange, type LifecycleStep, type SimulatorScheduler } from './lifecycle';

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
  /** Run a lifecycle step (lifecycle.ts) every this many ms; 0 or unset: only on demand. */
  lifecycleMs?: number;
  /** The lifecycle's timers. @default the process's, unref'd */
  scheduler?: SimulatorScheduler;
}

export interface Simulator {
  /** Base URL, e.g. `http://127.0.0.1:41234`: what `RDS_ENDPOINT` takes. */
  readonly url: string;
  readonly port: number;
  readonly store: BackupStore;
  readonly faults: FaultPlan;
  readonly throttle: Throttle;
  readonly calls: CallLog;
  /** Steps the data on demand (`step()`); steps by itself when started with `lifecycleMs`. */
  readonly lifecycle: Lifecycle;
  /** Stops the lifecycle's timer and the server. */
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const now = options.now ?? Date.now;
  const seed = options.seed ?? 20261101;
  const store = new BackupStore(seed);
  const lifecycle = new Lifecycle(store, seed);
  const auth = new Authenticator(options.auth, now);
  const throttle = new Throttle(options.rateLimitPerMinute ?? 60, now);
  const faults = new FaultPlan(options.faults ?? [], createRandom(seed ^ 0xfa17));
  const calls = new CallLog(options.callLogCapacity);
  const handleApi = createApiHandler({ store, auth, throttle, faults, calls, t0: performance.now() });
  const lifecycleMs = options.lifecycleMs ? options.lifecycleMs : null;
  const handleAdmin = createAdminHandler({ store, faults, throttle, calls, lifecycle, lifecycleMs });
  const sockets = new Set<Socket>();

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
  if (lifecycleMs !== null) lifecycle.run(lifecycleMs, options.scheduler);

  return {
    url: `http://${host}:${port}`,
    port,
    store,
    faults,
    throttle,
    calls,
    lifecycle,
    close: () => new Promise<void>((resolve) => {
      lifecycle.stop();
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }),
  };
}
