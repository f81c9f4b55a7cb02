/**
 * What the end-to-end live tests (test/integration/live*.test.ts) share: the real graphql-ws
 * client on `ws`, a reader of one sample of the gateway's /metrics, and a wait for a condition
 * the tests observe (a count in the simulator's call log or the metrics), never for a time.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

import { rawRequest } from './http';

export const WATCH = 'subscription Watch($id: ID!, $filter: BackupFilter) { backupChanges(instanceId: $id, filter: $filter) { kind totalCount backup { id instanceId status } } }';

/** A graphql-ws client of `/graphql` at `base` (the gateway's http origin), never retrying; `origin` and `headers` go on the upgrade. */
export function liveClient(base: string, options: { connectionParams?: Record<string, unknown>; origin?: string; headers?: Record<string, string> } = {}): Client {
  const { origin, headers } = options;
  const webSocketImpl = class extends WebSocket {
    constructor(url: string, protocols: string[]) { super(url, protocols, { origin, headers }); }
  };
  return createClient({ url: `${base.replace(/^http/, 'ws')}/graphql`, webSocketImpl, retryAttempts: 0, lazy: true, connectionParams: options.connectionParams });
}

/** One sample of a metric of the gateway at `base` (`labels` as Prometheus writes them, e.g. `outcome="ok"`); 0 before its first observation. */
export async function metric(base: string, name: string, labels?: string): Promise<number> {
  const text = (await rawRequest(base, '/metrics')).text;
  const prefix = labels === undefined ? `${name} ` : `${name}{${labels}} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return Number(line?.slice(prefix.length) ?? 0);
}

/** Resolves once `check` holds; each round trip of `check` is the pace (the test's timeout is the bound, for a hang). */
export async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setImmediate(resolve));
}

/** The gateway's http origin from the URL it prints (`…/graphql`). */
export const originOf = (graphqlUrl: string): string => new URL(graphqlUrl).origin;
