/**
 * The upstream client's transport over real HTTP: what goes on the wire and how each way an
 * answer can fail becomes a typed error. A scripted server stands in for the upstream, so each
 * case controls exactly one thing; the gateway-level behaviour is in test/integration.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { createUpstreamClient } from '../../src/upstream/client';
import { UpstreamBadResponseError, UpstreamHttpError, UpstreamNetworkError, UpstreamTimeoutError } from '../../src/upstream/errors';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const ROW = { id: 'b1', instance_id: 'i1', name: 'n', type: 'auto', status: 'COMPLETED', size: 1, begin_time: '2026-10-31T08:00:00+0800', end_time: '2026-10-31T08:10:00+0800', datastore: { type: 'MySQL', version: '8.0' } };
const PARAMS = { projectId: 'p1', instanceId: 'i1', offset: 0, limit: 1 };
const NONE = { auth: { kind: 'none' as const } };

async function withUpstream(handler: Handler, run: (url: string, seen: string[]) => Promise<void>): Promise<void> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => { seen.push(req.url ?? ''); handler(req, res); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const answer = (status: number, body: unknown, headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

describe('upstream client transport', () => {
  it('keeps a path prefix of the endpoint (a proxy in front of RDS) and encodes the query as the API wants', async () => {
    await withUpstream(answer(200, { backups: [ROW], total_count: 1 }, { 'x-request-id': '0a1b2c3d4e5f60718293a4b5c6d7e8f9' }), async (url, seen) => {
      const client = createUpstreamClient({ endpoint: `${url}/rds-proxy/`, timeoutMs: 2000, retries: 0 });
      try {
        const result = await client.listBackups({ ...PARAMS, beginTime: '2026-10-31T00:00:00+0800', endTime: '2026-10-31T01:00:00+0800' }, NONE);
        expect(result.requestId).toBe('0a1b2c3d4e5f60718293a4b5c6d7e8f9');
        expect(result.body.backups.map((b) => b.id)).toEqual(['b1']);
        expect(seen).toEqual(['/rds-proxy/v3/p1/backups?begin_time=2026-10-31T00%3A00%3A00%2B0800&end_time=2026-10-31T01%3A00%3A00%2B0800&instance_id=i1&limit=1&offset=0']);
      } finally {
        client.close();
      }
    });
  });

  it('does not follow a redirect', async () => {
    await withUpstream(answer(302, '', { location: '/elsewhere' }), async (url, seen) => {
      const client = createUpstreamClient({ endpoint: url, timeoutMs: 2000, retries: 0 });
      try {
        await expect(client.listBackups(PARAMS, NONE)).rejects.toMatchObject({ name: 'UpstreamHttpError', status: 302 });
        expect(seen).toHaveLength(1);
      } finally {
        client.close();
      }
    });
  });

  it('reads Retry-After and the error body of a refusal', async () => {
    await withUpstream(answer(429, { error_code: 'APIGW.0308', error_msg: 'throttled', request_id: '9f8e7d6c5b4a39281706f5e4d3c2b1a0' }, { 'retry-after': '30' }), async (url) => {
      const client = createUpstreamClient({ endpoint: url, timeoutMs: 2000, retries: 0 });
      try {
        const error = await client.listBackups(PARAMS, NONE).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UpstreamHttpError);
        expect(error).toMatchObject({ status: 429, errorCode: 'APIGW.0308', requestId: '9f8e7d6c5b4a39281706f5e4d3c2b1a0', retryAfterSeconds: 30 });
      } finally {
        client.close();
      }
    });
  });

  it('gives up on an answer that does not come within the timeout', async () => {
    await withUpstream(() => { /* never answers */ }, async (url) => {
      const client = createUpstreamClient({ endpoint: url, timeoutMs: 150, retries: 0 });
      try {
        await expect(client.listBackups(PARAMS, NONE)).rejects.toBeInstanceOf(UpstreamTimeoutError);
      } finally {
        client.close();
      }
    });
  });

  it('reads a deadline given as a function afresh, so an attempt goes on when the deadline moves later', async () => {
    const first = Date.now() + 1000;
    let deadline = first;
    // The deadline moves once the attempt is on the wire (armed for the first deadline); the answer comes after that one.
    await withUpstream((_req, res) => { deadline = Date.now() + 60_000; setTimeout(() => answer(200, { backups: [ROW], total_count: 1 })(_req, res), first + 200 - Date.now()); }, async (url) => {
      const client = createUpstreamClient({ endpoint: url, timeoutMs: 10_000, retries: 0 });
      try {
        await expect(client.listBackups(PARAMS, { ...NONE, deadline: () => deadline })).resolves.toMatchObject({ body: { total_count: 1 } });
      } finally {
        client.close();
      }
    });
  });

  it('gives up on a body that stops half-way (the timeout covers the body too)', async () => {
    await withUpstream((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.write('{"backups": ['); }, async (url) => {
      const client = createUpstreamClient({ endpoint: url, timeoutMs: 150, retries: 0 });
      try {
        await expect(client.listBackups(PARAMS, NONE)).rejects.toBeInstanceOf(UpstreamTimeoutError);
      } finally {
        client.close();
      }
    });
  });

  it('refuses a body over 32 MiB without reading it all', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    await withUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const write = (left: number): void => { if (left === 0 || res.destroyed) { res.end(); return; } if (res.write(chunk)) write(left - 1); else res.once('drain', () => write(left - 1)); };
      write(40);
    }, async (url) => {
      const client = createUpstreamClient({ endpoint: url, timeoutMs: 10_000, retries: 0 });
      try {
        await expect(client.listBackups(PARAMS, NONE)).rejects.toBeInstanceOf(UpstreamBadResponseError);
      } finally {
        client.close();
      }
    });
  });

  it('names the network failure when nothing listens', async () => {
    let port = 0;
    await withUpstream(answer(200, {}), async (url) => { port = Number(new URL(url).port); });
    const client = createUpstreamClient({ endpoint: `http://127.0.0.1:${port}`, timeoutMs: 2000, retries: 0 });
    try {
      await expect(client.listBackups(PARAMS, NONE)).rejects.toMatchObject({ name: 'UpstreamNetworkError', code: 'ECONNREFUSED' });
      await expect(client.listBackups(PARAMS, NONE)).rejects.toBeInstanceOf(UpstreamNetworkError);
    } finally {
      client.close();
    }
  });

  it('probes any HTTP answer as reachable, and a closed port as not', async () => {
    await withUpstream(answer(404, ''), async (url) => {
      const client = createUpstreamClient({ endpoint: url, timeoutMs: 2000, retries: 0 });
      try {
        expect(await client.probe!(1000)).toBe(true);
      } finally {
        client.close();
      }
    });
    const dead = createUpstreamClient({ endpoint: 'http://127.0.0.1:9', timeoutMs: 2000, retries: 0 });
    try {
      expect(await dead.probe!(1000)).toBe(false);
    } finally {
      dead.close();
    }
  });
});
