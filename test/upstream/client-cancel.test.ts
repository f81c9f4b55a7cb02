/**
 * CallOptions.signal: a call whose requester left stops at once, whether an attempt is in flight
 * or the client is waiting out a backoff, and makes no further attempt. A scripted server stands
 * in for the upstream.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { createUpstreamClient } from '../../src/upstream/client';
import { UpstreamCallCancelledError } from '../../src/upstream/errors';

const PARAMS = { projectId: 'p1', instanceId: 'i1', offset: 0, limit: 1 };

async function withUpstream(handler: http.RequestListener, run: (url: string, requests: http.IncomingMessage[]) => Promise<void>): Promise<void> {
  const requests: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => { requests.push(req); handler(req, res); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('upstream client cancellation', () => {
  it('cuts the attempt in flight: the upstream sees the connection close', async () => {
    let arrived!: () => void;
    const arrival = new Promise<void>((resolve) => { arrived = resolve; });
    await withUpstream(() => arrived() /* never answers */, async (url, requests) => {
      const client = createUpstreamClient({ endpoint: url, timeoutMs: 60_000, retries: 2 });
      try {
        const left = new AbortController();
        const call = client.listBackups(PARAMS, { auth: { kind: 'none' }, signal: left.signal });
        await arrival;
        const closed = new Promise((resolve) => requests[0]!.socket.once('close', resolve));
        left.abort();
        await expect(call).rejects.toBeInstanceOf(UpstreamCallCancelledError);
        await closed;
        expect(requests).toHaveLength(1);
      } finally {
        client.close();
      }
    });
  });

  it('ends the backoff wait and makes no further attempt', async () => {
    await withUpstream((_req, res) => { res.writeHead(503); res.end(); }, async (url, requests) => {
      const left = new AbortController();
      // A backoff that would never end by itself; the first wait is where the requester leaves.
      const sleep = (): Promise<void> => { left.abort(); return new Promise(() => undefined); };
      const client = createUpstreamClient({ endpoint: url, timeoutMs: 60_000, retries: 5, sleep });
      try {
        await expect(client.listBackups(PARAMS, { auth: { kind: 'none' }, signal: left.signal })).rejects.toBeInstanceOf(UpstreamCallCancelledError);
        expect(requests).toHaveLength(1);
      } finally {
        client.close();
      }
    });
  });

  it('makes no attempt for a requester already gone', async () => {
    await withUpstream((_req, res) => { res.end(); }, async (url, requests) => {
      const client = createUpstreamClient({ endpoint: url, timeoutMs: 60_000, retries: 0 });
      try {
        await expect(client.listBackups(PARAMS, { auth: { kind: 'none' }, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(UpstreamCallCancelledError);
        expect(requests).toHaveLength(0);
      } finally {
        client.close();
      }
    });
  });
});
