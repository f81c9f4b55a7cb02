/** The AK/SK signer: NOTES.md's published vectors, and agreement with the official SDK's AKSKSigner. */
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner';

import { createRandom } from '../../src/simulator/data';
import { canonicalRequest, signRequest, toSdkDate } from '../../src/upstream/signer';

const KEY = { ak: 'AccessKey', sk: 'SecretKey' };
const signatureOf = (authorization: string): string => /Signature=([0-9a-f]+)$/.exec(authorization)![1]!;

describe('signRequest()', () => {
  it('passes the first published vector (signed headers: x-sdk-date)', () => {
    const { Authorization } = signRequest({ method: 'GET', pathSegments: ['path'], query: [['limit', '1']], headers: {} }, KEY, new Date('2006-01-02T15:04:05Z'));
    expect(Authorization).toBe('SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624');
  });

  it('passes the second published vector (signed headers: host;x-sdk-date)', () => {
    const signed = signRequest({ method: 'GET', pathSegments: ['resources'], query: [['size', '1']], headers: { host: 'service.endpoint.myhuaweicloud.com' } }, KEY, new Date('2020-06-08T02:39:00Z'));
    expect(signed).toEqual({
      'X-Sdk-Date': '20200608T023900Z',
      Authorization: 'SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host;x-sdk-date, Signature=cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128e12cd842',
    });
  });

  it('builds the canonical request with a trailing / and %2B for +', () => {
    const { text } = canonicalRequest({ method: 'get', pathSegments: ['v3', 'p1', 'backups'], query: [['end_time', '2026-10-02T00:00:00+0000'], ['begin_time', '2026-10-01T00:00:00+0000']], headers: { Host: ' rds.example.com ' } }, '20261126T120000Z');
    expect(text.split('\n').slice(0, 5)).toEqual([
      'GET', '/v3/p1/backups/', 'begin_time=2026-10-01T00%3A00%3A00%2B0000&end_time=2026-10-02T00%3A00%3A00%2B0000',
      'host:rds.example.com', 'x-sdk-date:20261126T120000Z',
    ]);
  });

  it('writes X-Sdk-Date as basic ISO 8601 in UTC', () => {
    expect(toSdkDate(new Date('2026-11-26T20:01:02.345+01:00'))).toBe('20261126T190102Z');
  });
});

describe('agreement with the official SDK (AKSKSigner.sign), on random requests', () => {
  const random = createRandom(4242);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  // Path characters the SDK's url.parse leaves alone (it escapes spaces and quotes, and a % would be encoded twice).
  const PATH_CHARS = [...'abcXYZ019-_.~!$&()*+,;=:@', 'é', '中', '😀'];
  const TEXT_CHARS = [...'abcXYZ019-_.~!$&\'()*+,;=:@/?#[]% "<>^`{|}', 'é', 'ß', '中', '文', '😀', '\u00a0'];
  const word = (chars: readonly string[], max: number) => Array.from({ length: 1 + Math.floor(random() * max) }, () => pick(chars)).join('');
  const HEADERS = ['Content-Type', 'X-Project-Id', 'X-Language', 'X-Security-Token', 'X-Custom-Thing'];

  it('signs 300 random requests identically', () => {
    for (let i = 0; i < 300; i++) {
      const pathSegments = Array.from({ length: 1 + Math.floor(random() * 4) }, () => word(PATH_CHARS, 8));
      const queryParams: Record<string, string> = {};
      for (let q = Math.floor(random() * 6); q > 0; q--) queryParams[word(TEXT_CHARS, 6)] = word(TEXT_CHARS, 12);
      const headers: Record<string, string> = {};
      for (const h of HEADERS) if (random() < 0.5) headers[h] = word([...'abc019-_.:/;= ', 'x'], 16).trim() || 'v';
      const host = pick(['rds.ap-southeast-1.myhuaweicloud.com', 'rds.eu-west-101.myhuaweicloud.eu', '127.0.0.1:4010']);
      const method = pick(['GET', 'POST', 'DELETE']);
      const now = new Date(Date.UTC(2020, 0, 1) + Math.floor(random() * 2e11) * 1000 / 1000);
      now.setUTCMilliseconds(0);

      const ours = signRequest({ method, pathSegments, query: Object.entries(queryParams), headers: { ...headers, host } }, KEY, now);
      const official = AKSKSigner.sign({
        endpoint: `https://${host}/${pathSegments.join('/')}`, method, queryParams,
        headers: { ...headers, 'X-Sdk-Date': toSdkDate(now) },
      } as never, { getAk: () => KEY.ak, getSk: () => KEY.sk } as never) as Record<string, string>;

      expect({ i, signature: signatureOf(ours.Authorization) }).toEqual({ i, signature: signatureOf(official.Authorization!) });
      expect(ours.Authorization).toBe(official.Authorization);
    }
  });
});
