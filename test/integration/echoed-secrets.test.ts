/**
 * Echoed secrets: an upstream (or a proxy before it) that copies the request's credentials, or
 * markup, or 60 KB into the values the gateway relays (`error_code`, `X-Request-Id`). Over HTTP
 * through the gateway, against a hostile upstream of this test's own: the answer and the debug
 * log never carry the caller's token nor the service's signature; values of the wrong shape are
 * dropped, and the field keeps the code its status calls for.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';

import { startApp, type App } from '../../src/app';
import { loadConfig } from '../../src/config';
import { rawRequest } from '../helpers/http';
import { PROJECT } from '../helpers/simulator';

const AK = 'HPUAECHOEDAK0001';
const SK = 'sk-echoed-secret-value-0123456789';
const TOKEN = 'caller-token-that-must-not-come-back';
/** A token that has a request id's shape: only the client's own check keeps it from coming back. */
const HEX_TOKEN = 'deadbeef0123456789deadbeef012345';
const HONEST_ID = '0123456789abcdef0123456789abcdef';
const ROW = { id: 'b1', instance_id: 'big', name: 'n', type: 'auto', status: 'COMPLETED', size: 1, begin_time: '2026-10-31T08:00:00+0800', end_time: '2026-10-31T08:10:00+0800', datastore: { type: 'MySQL', version: '8.0' } };

/** What the hostile upstream does, by instance id. */
function hostile(req: http.IncomingMessage, res: http.ServerResponse): void {
  const instance = new URL(req.url ?? '/', 'http://x').searchParams.get('instance_id');
  const credential = String(req.headers['x-auth-token'] ?? req.headers.authorization ?? '');
  const send = (status: number, body: unknown, requestId: string): void => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': requestId });
    res.end(JSON.stringify(body));
  };
  if (instance === 'echo') send(403, { error_code: credential, error_msg: 'x', request_id: credential }, credential);
  else if (instance === 'huge') send(404, { error_code: 'DBS.200045', error_msg: 'x' }, 'a'.repeat(60_000));
  else if (instance === 'hugeOk') send(200, { backups: [ROW], total_count: 1 }, 'f'.repeat(60_000));
  else if (instance === 'markup') send(404, { error_code: '<script>alert(1)</script>', error_msg: 'x' }, '<script>alert(1)</script>');
  else send(404, { error_code: 'DBS.200045', error_msg: 'x' }, HONEST_ID);
}

let upstream: http.Server;
let app: App;
const logs: string[] = [];

beforeAll(async () => {
  upstream = http.createServer(hostile);
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const config = loadConfig({
    RDS_ENDPOINT: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, HUAWEICLOUD_SDK_PROJECT_ID: PROJECT,
    HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SK: SK, PORT: '0', LOG_LEVEL: 'debug', UPSTREAM_CACHE_TTL_MS: '0', UPSTREAM_BUDGET_PER_MINUTE: '1000000',
  });
  const logDestination = new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done(); } });
  app = await startApp(config, { logDestination });
});
afterAll(async () => {
  await app.close();
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

const QUERY = 'query($id: ID!) { backups(instanceId: $id, first: 1) { totalCount nodes { id } } }';
async function ask(id: string, headers: Record<string, string> = {}) {
  const res = await rawRequest(app.gateway.url, '/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: QUERY, variables: { id } }) });
  return { text: res.text, body: res.json() };
}

const SECRETS = [TOKEN, HEX_TOKEN, AK, SK, 'SDK-HMAC-SHA256', 'Signature'];
const expectNoSecret = (text: string): void => {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
};

describe('values an upstream relays', () => {
  it.each([
    ['a caller token echoed into error_code, request_id and X-Request-Id', 'echo', { 'X-Auth-Token': TOKEN }],
    ['the service signature echoed into error_code, request_id and X-Request-Id', 'echo', {}],
    ['a caller token of the request id\'s shape echoed into X-Request-Id', 'echo', { 'X-Auth-Token': HEX_TOKEN }],
  ])('%s: neither the answer nor the debug log carries it', async (_name, id, headers) => {
    const logsBefore = logs.length;
    const { text, body } = await ask(id, headers);
    expect(body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', upstream: { status: 403, errorCode: null, requestId: null } });
    expectNoSecret(text);
    const logged = logs.slice(logsBefore).join('');
    expect(logged).toContain('upstream call'); // the debug lines were written, and checked
    expectNoSecret(logged);
  });

  it('a 60 KB X-Request-Id is dropped, and the field keeps the code of its status', async () => {
    const { text, body } = await ask('huge');
    expect(body.errors[0].extensions).toMatchObject({ code: 'NOT_FOUND', upstream: { status: 404, errorCode: 'DBS.200045', requestId: null } });
    expect(text.length).toBeLessThan(2000);
    expect((await ask('hugeOk')).body).toEqual({ data: { backups: { totalCount: 1, nodes: [{ id: 'b1' }] } } });
  });

  it('markup in error_code and X-Request-Id is never passed through', async () => {
    const logsBefore = logs.length;
    const { text, body } = await ask('markup');
    expect(body.errors[0].extensions).toMatchObject({ code: 'NOT_FOUND', upstream: { status: 404, errorCode: null, requestId: null } });
    expect(text).not.toContain('<script>');
    expect(logs.slice(logsBefore).join('')).not.toContain('<script>');
  });

  it('values of the documented shapes are still relayed', async () => {
    const { body } = await ask('honest');
    expect(body.errors[0].extensions).toMatchObject({ code: 'NOT_FOUND', upstream: { status: 404, errorCode: 'DBS.200045', requestId: HONEST_ID } });
  });
});
