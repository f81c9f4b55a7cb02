/**
 * Upstream calls through a real forward proxy (the `proxy` package, a Squid-like proxy in a
 * child node): HTTP_PROXY with and without credentials, NO_PROXY, a proxy that is down or drops
 * CONNECT, and an https upstream through a CONNECT tunnel (the built gateway as a child
 * process, trusting a throw-away CA through NODE_EXTRA_CA_CERTS).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

import { basic, startForwardProxy, type ForwardProxy } from '../helpers/forward-proxy';
import { liveClient, until, WATCH } from '../helpers/live-clients';
import { rawRequest } from '../helpers/http';
import { startGatewayProcess, type GatewayProcess } from '../helpers/process';
import { PROJECT, withSimulator } from '../helpers/simulator';
import { startStack, type Stack } from '../helpers/stack';

const LIST = 'query($id: ID!, $first: Int) { backups(instanceId: $id, first: $first) { totalCount nodes { id } } }';
const PASSWORD = 's3cret-Pr0xy-pass';
const AK = 'HPUAEXAMPLEAK123';
const SK = 'sk-example-secret-value-0123456789';

/** Everything a test could leak a secret into: the gateway's log lines and the answers it gave. */
function expectNoSecret(texts: string[], secret = PASSWORD): void {
  const base64 = Buffer.from(`user:${secret}`).toString('base64');
  for (const text of texts) {
    expect(text).not.toContain(secret);
    expect(text).not.toContain(base64);
  }
}

/** A loopback port that nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('HTTP_PROXY with credentials', () => {
  let proxy: ForwardProxy;
  let stack: Stack;
  let id: string;
  beforeAll(async () => {
    proxy = await startForwardProxy({ authorization: basic('user', PASSWORD) });
    stack = await startStack({
      env: { HTTP_PROXY: `http://user:${PASSWORD}@127.0.0.1:${proxy.port}`, HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SK: SK },
      simulator: { auth: { keys: [{ ak: AK, sk: SK }] } },
    });
    id = stack.sim.store.list()[0]!.id;
  });
  afterAll(async () => {
    await stack.close();
    await proxy.close();
  });

  it('sends the readiness probe through the proxy, with the credentials as Proxy-Authorization', async () => {
    const ready = await rawRequest(stack.gateway.url, '/readyz');
    expect(ready.status).toBe(200);
    expect(await proxy.seen()).toContainEqual({ method: 'GET', url: `${stack.sim.url}/`, proxyAuthorization: basic('user', PASSWORD) });
  });

  it('sends every upstream call of a query through the proxy, AK/SK signatures intact', async () => {
    await stack.resetCalls();
    const before = (await proxy.seen()).length;
    const res = await stack.gql(LIST, { id, first: 250 });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.backups.nodes).toHaveLength(250);
    const upstream = await stack.calls();
    const proxied = (await proxy.seen()).slice(before);
    expect(upstream.count).toBeGreaterThanOrEqual(3); // 100 rows a call
    expect(upstream.calls.every((c: any) => c.status === 200 && c.caller === `ak:${AK}`)).toBe(true);
    expect(proxied).toHaveLength(upstream.count);
    for (const request of proxied) {
      expect(request).toEqual({ method: 'GET', url: expect.stringMatching(new RegExp(`^${stack.sim.url}/v3/${PROJECT}/backups\\?instance_id=${id}&`)), proxyAuthorization: basic('user', PASSWORD) });
    }
  });

  it('polls live subscriptions through the proxy', async () => {
    await stack.resetCalls();
    const before = (await proxy.seen()).length;
    const client = liveClient(stack.gateway.url);
    try {
      void client.iterate({ query: WATCH, variables: { id } }).next().catch(() => undefined);
      await until(async () => (await stack.calls(id)).count >= 1);
      const polls = (await proxy.seen()).slice(before).filter((r) => r.url.includes(`instance_id=${id}&`));
      expect(polls.length).toBeGreaterThanOrEqual((await stack.calls(id)).count);
    } finally {
      await client.dispose();
    }
  });

  it('says which proxy it uses at start-up, with its credentials as ***, and logs them nowhere', async () => {
    const line = stack.logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'upstream calls go through a proxy');
    expect(line).toMatchObject({ proxy: `http://***@127.0.0.1:${proxy.port}`, variable: 'HTTP_PROXY' });
    expectNoSecret(stack.logs);
  });
});

describe('HTTP_PROXY refusing the credentials, or down', () => {
  let proxy: ForwardProxy;
  beforeAll(async () => {
    proxy = await startForwardProxy({ authorization: basic('user', 'the-right-one') });
  });
  afterAll(() => proxy.close());

  it('answers UPSTREAM_UNAVAILABLE after bounded retries when the proxy says 407', async () => {
    const stack = await startStack({ env: { HTTP_PROXY: `http://user:${PASSWORD}@127.0.0.1:${proxy.port}`, UPSTREAM_RETRIES: '2' } });
    try {
      const before = (await proxy.seen()).length;
      const res = await stack.gql(LIST, { id: stack.sim.store.list()[0]!.id, first: 1 });
      expect(res.status).toBe(200);
      expect(res.body.data.backups).toBeNull();
      expect(res.body.errors[0].extensions.code).toBe('UPSTREAM_UNAVAILABLE');
      expect((await proxy.seen()).length - before).toBe(3);
      expect((await stack.calls()).count).toBe(0);
      expect(stack.logs.some((l) => l.includes('PROXY_407'))).toBe(true);
      expectNoSecret([...stack.logs, JSON.stringify(res.body)]);
    } finally {
      await stack.close();
    }
  });

  it('answers UPSTREAM_UNAVAILABLE, not a 500, when nothing listens at the proxy\'s address', async () => {
    const stack = await startStack({ env: { HTTP_PROXY: `http://user:${PASSWORD}@127.0.0.1:${await closedPort()}` } });
    try {
      const res = await stack.gql(LIST, { id: stack.sim.store.list()[0]!.id, first: 1 });
      expect(res.status).toBe(200);
      expect(res.body.errors[0].extensions.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(res.body.errors[0].message).toBe('The upstream could not be reached; retry later.');
      expect((await rawRequest(stack.gateway.url, '/readyz')).status).toBe(503);
      expect((await stack.calls()).count).toBe(0);
      expectNoSecret([...stack.logs, JSON.stringify(res.body)]);
    } finally {
      await stack.close();
    }
  });

  it('fails a CONNECT the proxy drops, after bounded retries, instead of reconnecting for ever', async () => {
    let connections = 0;
    const dropper = net.createServer((socket) => {
      connections++;
      // Past ten, a refusal: without the fix the loop then ends, and the count below fails the test rather than hanging it.
      if (connections > 10) socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });
    await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
    // An https upstream, so the call needs a tunnel; the TLS handshake never comes.
    const stack = await startStack({ env: { RDS_ENDPOINT: 'https://127.0.0.1:9', HTTPS_PROXY: `127.0.0.1:${(dropper.address() as net.AddressInfo).port}`, UPSTREAM_RETRIES: '2' } });
    try {
      const res = await stack.gql(LIST, { id: stack.sim.store.list()[0]!.id, first: 1 });
      expect(res.body.errors[0].extensions.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(connections).toBe(3);
      expect(stack.logs.some((l) => l.includes('PROXY_CONNECT_CLOSED'))).toBe(true);
    } finally {
      await stack.close();
      await new Promise((resolve) => dropper.close(resolve));
    }
  });
});

describe('NO_PROXY', () => {
  let proxy: ForwardProxy;
  beforeAll(async () => {
    proxy = await startForwardProxy();
  });
  afterAll(() => proxy.close());

  it.each([['NO_PROXY', '127.0.0.1'], ['no_proxy', 'example.com, 127.0.0.0/8'], ['NO_PROXY', '*']])('%s=%j bypasses the proxy for the upstream', async (variable, value) => {
    const stack = await startStack({ env: { HTTP_PROXY: proxy.url, [variable]: value } });
    try {
      const before = (await proxy.seen()).length;
      const res = await stack.gql(LIST, { id: stack.sim.store.list()[0]!.id, first: 3 });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.backups.nodes).toHaveLength(3);
      expect((await stack.calls()).count).toBe(1);
      expect((await proxy.seen()).length).toBe(before);
      expect(stack.logs.map((l) => JSON.parse(l))).toContainEqual(expect.objectContaining({ msg: 'upstream calls go direct: NO_PROXY names the upstream', variable }));
    } finally {
      await stack.close();
    }
  });

  it('leaves other hosts, and the upstream on another port, to the proxy', async () => {
    const stack = await startStack({ env: { HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1:1,.example.com' } });
    try {
      const before = (await proxy.seen()).length;
      const res = await stack.gql(LIST, { id: stack.sim.store.list()[0]!.id, first: 3 });
      expect(res.body.errors).toBeUndefined();
      expect((await proxy.seen()).length - before).toBe(1);
    } finally {
      await stack.close();
    }
  });

  it('an https upstream never goes through HTTP_PROXY (as in curl)', async () => {
    const stack = await startStack({ env: { RDS_ENDPOINT: 'https://127.0.0.1:9', HTTP_PROXY: proxy.url, UPSTREAM_RETRIES: '0' } });
    try {
      const before = (await proxy.seen()).length;
      const res = await stack.gql(LIST, { id: stack.sim.store.list()[0]!.id, first: 1 });
      expect(res.body.errors[0].extensions.code).toBe('UPSTREAM_UNAVAILABLE'); // nothing at :9, reached directly
      expect((await proxy.seen()).length).toBe(before);
    } finally {
      await stack.close();
    }
  });
});

describe('an https upstream through HTTPS_PROXY (CONNECT), the built gateway as npm start runs it', () => {
  let dir: string;
  let proxy: ForwardProxy;
  let sim: Awaited<ReturnType<typeof withSimulator>>;
  let front: tls.Server;
  let gateway: GatewayProcess & { url: string };
  beforeAll(async () => {
    // A throw-away certificate for 127.0.0.1, trusted by the gateway alone (NODE_EXTRA_CA_CERTS).
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-proxy-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    sim = await withSimulator();
    const simPort = Number(new URL(sim.url).port);
    // TLS in front of the simulator: the upstream the gateway sees is https://127.0.0.1:<port>.
    front = tls.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) }, (socket) => {
      const upstream = net.connect(simPort, '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      const end = (): void => { socket.destroy(); upstream.destroy(); };
      socket.on('error', end);
      upstream.on('error', end);
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    proxy = await startForwardProxy({ authorization: basic('user', PASSWORD) });
    gateway = await startGatewayProcess({
      RDS_ENDPOINT: `https://127.0.0.1:${(front.address() as net.AddressInfo).port}`,
      HUAWEICLOUD_SDK_PROJECT_ID: PROJECT,
      https_proxy: `http://user:${PASSWORD}@127.0.0.1:${proxy.port}`,
      HTTPS_PROXY: 'http://127.0.0.1:1', // lower case wins
      NODE_EXTRA_CA_CERTS: path.join(dir, 'cert.pem'),
    });
  });
  afterAll(async () => {
    gateway?.child.kill();
    await proxy?.close();
    await new Promise((resolve) => front?.close(resolve));
    await sim?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('tunnels the calls through the proxy, verifies the upstream\'s certificate, and keeps the password out of its output', async () => {
    const id = sim.store.list()[0]!.id;
    const res = await rawRequest(new URL(gateway.url).origin, '/graphql', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: LIST, variables: { id, first: 3 } }),
    });
    expect(res.json()).toMatchObject({ data: { backups: { nodes: [{ id: expect.any(String) }, { id: expect.any(String) }, { id: expect.any(String) }] } } });
    const tunnels = (await proxy.seen()).filter((r) => r.method === 'CONNECT');
    expect(tunnels.length).toBeGreaterThanOrEqual(1);
    expect(tunnels.every((r) => r.url === `127.0.0.1:${(front.address() as net.AddressInfo).port}` && r.proxyAuthorization === basic('user', PASSWORD))).toBe(true);
    const startLine = await gateway.waitFor(/^.*"msg":"upstream calls go through a proxy".*$/m);
    expect(startLine[0]).toContain(`"variable":"https_proxy"`);
    expect(gateway.output()).toContain(`http://***@127.0.0.1:${proxy.port}`);
    expectNoSecret([gateway.output(), res.text]);
  });
});
