/** The simulator's three auth modes: open, tokens, and AK/SK signatures (with NOTES.md's published vectors). */
import { canonicalRequest, expectedSignature } from '../../src/simulator/auth';
import type { Simulator } from '../../src/simulator/server';
import { rawRequest } from '../helpers/http';
import { adminInstances, listPath, withSimulator } from '../helpers/simulator';

const VECTOR_1 = {
  date: '20060102T150405Z', path: '/path', query: 'limit=1', signedHeaders: 'x-sdk-date', headers: {} as Record<string, string>,
  signature: '5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624',
};
const VECTOR_2 = {
  date: '20200608T023900Z', path: '/resources', query: 'size=1', signedHeaders: 'host;x-sdk-date',
  headers: { host: 'service.endpoint.myhuaweicloud.com' } as Record<string, string>,
  signature: 'cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128e12cd842',
};
const authorization = (signedHeaders: string, signature: string, ak = 'AccessKey'): string =>
  `SDK-HMAC-SHA256 Access=${ak}, SignedHeaders=${signedHeaders}, Signature=${signature}`;

describe('canonical request and signature', () => {
  it('builds the canonical request of NOTES.md (trailing / on the URI, sorted RFC 3986 query)', () => {
    const text = canonicalRequest({ method: 'get', rawPath: '/v3/p%20x/backups', rawQuery: 'b=%2B1&a=x+y&a=%7E', headers: { 'x-sdk-date': ' 20060102T150405Z ' } }, ['x-sdk-date']);
    expect(text).toBe([
      'GET', '/v3/p%20x/backups/', 'a=x%20y&a=~&b=%2B1', 'x-sdk-date:20060102T150405Z\n', 'x-sdk-date',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    ].join('\n'));
  });

  it.each([['first', VECTOR_1], ['second', VECTOR_2]])('matches the %s published vector', (_n, v) => {
    const signature = expectedSignature({ method: 'GET', rawPath: v.path, rawQuery: v.query, headers: { 'x-sdk-date': v.date, ...v.headers } },
      v.signedHeaders.split(';'), 'SecretKey');
    expect(signature).toBe(v.signature);
  });
});

describe('token mode', () => {
  let sim: Simulator;
  let instance: string;
  beforeAll(async () => {
    sim = await withSimulator({ auth: { tokens: ['token-alice', 'token-bob'] } });
    instance = (await adminInstances(sim))[0]!.id;
  });
  afterAll(() => sim.close());

  it('accepts a configured X-Auth-Token', async () => {
    const res = await rawRequest(sim.url, listPath(`instance_id=${instance}&limit=1`), { headers: { 'X-Auth-Token': 'token-alice' } });
    expect(res.status).toBe(200);
  });

  it.each([
    ['an unknown token', { 'X-Auth-Token': 'token-mallory' }],
    ['no credentials', {}],
    ['a bearer token (the API wants X-Auth-Token)', { Authorization: 'Bearer token-alice' }],
  ])('refuses %s with 401 APIG.0301', async (_n, headers) => {
    const res = await rawRequest(sim.url, listPath(`instance_id=${instance}`), { headers });
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ error_code: 'APIG.0301', request_id: res.headers['x-request-id'] });
  });
});

describe('AK/SK mode', () => {
  let sim: Simulator;
  let clock = Date.UTC(2006, 0, 2, 15, 4, 5);
  beforeAll(async () => {
    sim = await withSimulator({ auth: { keys: [{ ak: 'AccessKey', sk: 'SecretKey' }] }, now: () => clock });
  });
  afterAll(() => sim.close());

  const send = (v: typeof VECTOR_1, signature: string, ak = 'AccessKey') => rawRequest(sim.url, `${v.path}?${v.query}`, {
    headers: { 'X-Sdk-Date': v.date, ...v.headers, Authorization: authorization(v.signedHeaders, signature, ak) },
  });

  it('verifies both published vectors over HTTP (then routes: the vector paths are not RDS APIs)', async () => {
    clock = Date.UTC(2006, 0, 2, 15, 4, 5);
    const one = await send(VECTOR_1, VECTOR_1.signature);
    expect([one.status, one.json().error_code]).toEqual([404, 'APIGW.0101']);
    clock = Date.UTC(2020, 5, 8, 2, 39, 0);
    const two = await send(VECTOR_2, VECTOR_2.signature);
    expect([two.status, two.json().error_code]).toEqual([404, 'APIGW.0101']);
  });

  it('refuses a wrong signature, an unknown AK, and a date more than 15 minutes away', async () => {
    clock = Date.UTC(2006, 0, 2, 15, 4, 5);
    const bad = await send(VECTOR_1, VECTOR_1.signature.replace(/^5/, '6'));
    expect([bad.status, bad.json().error_code]).toEqual([401, 'APIG.0301']);
    expect((await send(VECTOR_1, VECTOR_1.signature, 'OtherKey')).status).toBe(401);
    clock = Date.UTC(2006, 0, 2, 15, 20, 0);
    expect((await send(VECTOR_1, VECTOR_1.signature)).status).toBe(401);
  });

  it('lists backups for a correctly signed request', async () => {
    const instance = sim.store.list()[0]!.id;
    clock = Date.UTC(2026, 10, 26, 12, 0, 0);
    const date = '20261126T120000Z';
    const path = listPath('x').split('?')[0]!;
    const query = `instance_id=${instance}&limit=2&begin_time=2026-10-01T00:00:00%2B0800&end_time=2026-11-02T00:00:00%2B0800`;
    const headers = { 'x-sdk-date': date, host: 'rds.example.com' };
    const signature = expectedSignature({ method: 'GET', rawPath: path, rawQuery: query, headers }, ['host', 'x-sdk-date'], 'SecretKey');
    const res = await rawRequest(sim.url, `${path}?${query}`, { headers: { ...headers, Authorization: authorization('host;x-sdk-date', signature) } });
    expect(res.status).toBe(200);
    expect(res.json().backups).toHaveLength(2);
  });

  it('locks an AK for five minutes after five failures in a row', async () => {
    const locked = await withSimulator({ auth: { keys: [{ ak: 'AccessKey', sk: 'SecretKey' }] }, now: () => clock });
    try {
      clock = Date.UTC(2006, 0, 2, 15, 4, 5);
      const go = (sig: string) => rawRequest(locked.url, `/path?limit=1`, { headers: { 'X-Sdk-Date': VECTOR_1.date, Authorization: authorization('x-sdk-date', sig) } });
      for (let i = 0; i < 5; i++) expect((await go('00')).status).toBe(401);
      const refused = await go(VECTOR_1.signature);
      expect(refused.status).toBe(401);
      expect(refused.json().error_msg).toMatch(/locked/);
      clock += 5 * 60_000 + 1000; // the lock is over, and the vector's date is still within 15 minutes
      expect((await go(VECTOR_1.signature)).json().error_code).toBe('APIGW.0101');
    } finally {
      await locked.close();
    }
  });
});
