/**
 * A simulator and a gateway in-process, each on a free loopback port, talking over real HTTP.
 * `env` takes the gateway's variables exactly as DESIGN.md names them.
 */
import { Writable } from 'node:stream';

import { startApp, type App } from '../../src/app';
import { loadConfig } from '../../src/config';
import type { LiveSource } from '../../src/live/source';
import type { Gateway } from '../../src/server';
import type { Simulator, SimulatorOptions } from '../../src/simulator/server';
import { rawRequest } from './http';
import { PROJECT, withSimulator } from './simulator';

export interface Stack {
  sim: Simulator;
  gateway: Gateway;
  app: App;
  /** Every log line the gateway wrote (at LOG_LEVEL, default trace here), as text. */
  logs: string[];
  /** POSTs a GraphQL operation; returns status and parsed body. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<{ status: number; body: T; headers: Record<string, unknown> }>;
  /** Upstream calls the simulator received since the last reset. */
  calls(instanceId?: string): Promise<{ count: number; maxInFlight: number; calls: any[]; perInstance: Record<string, number> }>;
  resetCalls(): Promise<void>;
  setFaults(rules: unknown[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Test defaults, unless a test sets them: a cache of 1 ms (rows are still fetched 100 at a time,
 * but one request never sees another's pages, so tests can count calls per request) and a
 * budget out of the way. The caching and budget tests set their own.
 */
const TEST_DEFAULTS = { UPSTREAM_CACHE_TTL_MS: '1', UPSTREAM_CACHE_STALE_MS: '0', UPSTREAM_BUDGET_PER_MINUTE: '1000000' };

export async function startStack(options: { env?: Record<string, string>; simulator?: SimulatorOptions; now?: () => number; readinessWindowMs?: number; live?: LiveSource } = {}): Promise<Stack> {
  const sim = await withSimulator(options.simulator);
  const config = loadConfig({ HUAWEICLOUD_SDK_PROJECT_ID: PROJECT, PORT: '0', RDS_ENDPOINT: sim.url, LOG_LEVEL: 'trace', ...TEST_DEFAULTS, ...options.env });
  const logs: string[] = [];
  const logDestination = new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done(); } });
  const app = await startApp(config, { logDestination, client: { backoffBaseMs: 10 }, now: options.now, readinessWindowMs: options.readinessWindowMs, live: options.live });
  const { gateway } = app;
  const admin = (path: string, method = 'GET', body?: unknown) =>
    rawRequest(sim.url, `/__admin/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return {
    sim,
    gateway,
    app,
    logs,
    async gql(query, variables, headers = {}) {
      const res = await rawRequest(gateway.url, '/graphql', {
        method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, body: res.json(), headers: res.headers };
    },
    async calls(instanceId) {
      return (await admin(instanceId ? `calls?instanceId=${instanceId}` : 'calls')).json();
    },
    async resetCalls() {
      await admin('calls', 'DELETE');
    },
    async setFaults(rules) {
      const res = await admin('faults', 'PUT', rules);
      if (res.status !== 200) throw new Error(res.text);
    },
    async close() {
      await app.close();
      await sim.close();
    },
  };
}

export const BACKUP_FIELDS = 'id instanceId name type status sizeKb beginTime endTime datastore { type version } databases { name } associatedWithDdm minDataVolumeCapacityForRestore';
