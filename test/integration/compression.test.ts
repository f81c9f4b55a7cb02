/**
 * Compression over real HTTP (DESIGN.md, "Browser frontends"): answers over 1 KiB in brotli or
 * gzip as `Accept-Encoding` says, the same JSON once decoded; small answers, requests without
 * the header or for `identity` get the bytes as they are; GraphiQL's pre-compressed assets pass
 * through once encoded. (Server-sent events and streamed bodies: test/http/compression.test.ts.)
 */
import http from 'node:http';
import zlib from 'node:zlib';

import { BACKUP_FIELDS, startStack, type Stack } from '../helpers/stack';

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

/** The bytes as they came (test/helpers/http.ts decodes them as text). */
function request(stack: Stack, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const url = new URL(stack.gateway.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path, method: init.method ?? 'GET', headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const varyOf = (a: Answer): string[] => String(a.headers.vary ?? '').split(',').map((n) => n.trim().toLowerCase()).filter(Boolean);

describe('compression', () => {
  let stack: Stack;
  let large: string;
  beforeAll(async () => {
    stack = await startStack();
    large = JSON.stringify({ query: `{ backups(instanceId: "${stack.sim.store.list()[0]!.id}", first: 50) { totalCount nodes { ${BACKUP_FIELDS} } } }` });
  });
  afterAll(() => stack.close());

  const post = (body: string, acceptEncoding?: string) => request(stack, '/graphql', {
    method: 'POST', body, headers: { 'content-type': 'application/json', ...(acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding }) },
  });

  it('sends an answer over 1 KiB in brotli or gzip, each decoding to the same JSON as the plain answer', async () => {
    const plain = await post(large);
    const expected = JSON.parse(plain.body.toString());
    expect(expected.errors).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(10_000);
    const br = await post(large, 'br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(Number(br.headers['content-length'])).toBe(br.body.length);
    expect(br.body.length).toBeLessThan(plain.body.length / 3);
    expect(JSON.parse(zlib.brotliDecompressSync(br.body).toString())).toEqual(expected);
    const gzip = await post(large, 'gzip');
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(zlib.gunzipSync(gzip.body).toString())).toEqual(expected);
    for (const a of [plain, br, gzip]) expect(varyOf(a)).toContain('accept-encoding');
  });

  it('honours q-values, and takes brotli when the client likes both alike', async () => {
    const codings = await Promise.all(['gzip, deflate, br, zstd', 'br;q=0.5, gzip', 'gzip;q=0, br;q=0', 'deflate'].map(async (a) => (await post(large, a)).headers['content-encoding']));
    expect(codings).toEqual(['br', 'gzip', undefined, undefined]);
  });

  it('sends as they are an answer of 1 KiB or less, and any answer to a request without Accept-Encoding or for identity', async () => {
    const small = await post(JSON.stringify({ query: '{ __typename }' }), 'br, gzip');
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(varyOf(small)).not.toContain('accept-encoding');
    expect(JSON.parse(small.body.toString())).toEqual({ data: { __typename: 'Query' } });
    for (const accepted of [undefined, 'identity']) {
      const plain = await post(large, accepted);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(JSON.parse(plain.body.toString()).data.backups.nodes).toHaveLength(50);
      expect(varyOf(plain)).toContain('accept-encoding'); // it would have been compressed for another request
    }
  });

  it('gives a compressed GET answer an ETag of its own coding, which revalidates with the same Vary', async () => {
    const path = `/graphql?query=${encodeURIComponent(JSON.parse(large).query)}`;
    const headers = { 'apollo-require-preflight': 'true' };
    const plain = await request(stack, path, { headers });
    const br = await request(stack, path, { headers: { ...headers, 'accept-encoding': 'br' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.etag).toMatch(/^"[\w-]{22}-br"$/);
    expect(br.headers.etag).not.toBe(plain.headers.etag);
    const revalidated = await request(stack, path, { headers: { ...headers, 'accept-encoding': 'br', 'if-none-match': String(br.headers.etag) } });
    expect(revalidated.status).toBe(304);
    expect(revalidated.body.length).toBe(0);
    expect(revalidated.headers.vary).toBe(br.headers.vary);
    expect(varyOf(revalidated)).toContain('accept-encoding');
  });

  it('encodes each answer once: the API\'s by this filter, GraphiQL\'s assets as their route did', async () => {
    const api = await post(large, 'br');
    expect(api.headers['content-encoding']).toBe('br');
    const page = await request(stack, '/graphql', { headers: { accept: 'text/html' } });
    const js = /src="([^"]+app\.js[^"]*)"/.exec(page.body.toString())![1]!;
    const asIs = await request(stack, js);
    expect(asIs.headers['content-encoding']).toBeUndefined();
    for (const [accepted, decode] of [['br', zlib.brotliDecompressSync], ['gzip', zlib.gunzipSync]] as const) {
      const asset = await request(stack, js, { headers: { 'accept-encoding': accepted } });
      expect(asset.headers['content-encoding']).toBe(accepted);
      expect(String(asset.headers.vary).toLowerCase().split(/\s*,\s*/)).toEqual(['accept-encoding', 'origin']); // origin: the CORS filter's
      expect(decode(asset.body).equals(asIs.body)).toBe(true); // one decoding gives the script
    }
  });
});
