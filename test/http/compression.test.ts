/**
 * The compression filter on its own, with Replies made by hand: which coding each
 * Accept-Encoding gets, and what is never compressed (small, streamed, already encoded, events).
 * test/integration/compression.test.ts checks the same over real HTTP.
 */
import zlib from 'node:zlib';

import { contentCodingOf, createCompressionFilter, MIN_COMPRESSED_BYTES } from '../../src/http/compression';
import type { Reply } from '../../src/http/reply';
import type { Exchange } from '../../src/http/router';
import { withVary } from '../../src/http/vary';

const exchange = (acceptEncoding?: string) => ({ header: (name: string) => (name === 'accept-encoding' ? acceptEncoding : undefined) }) as Exchange;
const json = (bytes: number, headers: Record<string, string> = {}): Reply => ({
  status: 200, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: `{"data":"${'x'.repeat(bytes - 12)}"}`,
});
const filter = createCompressionFilter();
const filtered = async (acceptEncoding: string | undefined, reply: Reply) => filter.reply!(exchange(acceptEncoding), reply);

describe('contentCodingOf()', () => {
  const big = json(2000);
  it.each([
    ['br', 'br'],
    ['gzip', 'gzip'],
    ['gzip, deflate, br, zstd', 'br'], // a tie: the server's preference
    ['gzip, br;q=0.9', 'gzip'],
    ['br;q=0.5, gzip', 'gzip'],
    ['GZIP', 'gzip'],
    ['*', 'br'],
    ['br;q=0, *', 'gzip'],
    ['identity', undefined],
    ['deflate, zstd', undefined],
    ['gzip;q=0, br;q=0', undefined],
    ['*;q=0', undefined], // nothing acceptable: sent as it is rather than refused
    ['', undefined],
    [undefined, undefined],
  ])('Accept-Encoding %p: %p', (accepted, coding) => {
    expect(contentCodingOf(exchange(accepted), big)).toBe(coding);
  });
});

describe('createCompressionFilter()', () => {
  it('compresses a body over 1 KiB, which decodes to the same bytes, and adds Accept-Encoding to Vary', async () => {
    const reply = json(4096, { vary: 'Origin' });
    const br = await filtered('br', reply);
    expect(br.headers).toMatchObject({ 'content-encoding': 'br', vary: 'Origin, Accept-Encoding', 'content-type': reply.headers['content-type'] });
    expect(zlib.brotliDecompressSync(br.body as Buffer).toString()).toBe(reply.body);
    const gzip = await filtered('gzip', reply);
    expect(zlib.gunzipSync(gzip.body as Buffer).toString()).toBe(reply.body);
  });

  it('leaves a body of 1 KiB or less as it is, Vary included; counts bytes, not characters', async () => {
    const small = json(MIN_COMPRESSED_BYTES);
    expect(await filtered('br', small)).toEqual(small);
    const wide = { ...small, body: `"${'é'.repeat(600)}"` }; // 602 characters, 1,202 bytes
    expect((await filtered('br', wide)).headers['content-encoding']).toBe('br');
  });

  it('sends a large body as it is when no coding is accepted, saying that it varies on Accept-Encoding', async () => {
    for (const accepted of [undefined, 'identity']) {
      const out = await filtered(accepted, json(4096));
      expect(out.body).toBe(json(4096).body);
      expect(out.headers['content-encoding']).toBeUndefined();
      expect(out.headers.vary).toBe('Accept-Encoding');
    }
  });

  it('never touches a body already encoded, server-sent events, a streamed body or a bodiless answer', async () => {
    const encoded: Reply = { status: 200, headers: { 'content-type': 'text/javascript', 'content-encoding': 'gzip', vary: 'accept-encoding' }, body: zlib.gzipSync('x'.repeat(5000)) };
    const events: Reply = { status: 200, headers: { 'content-type': 'text/event-stream' }, body: 'data: x\n\n'.repeat(500) };
    async function* parts() { yield 'x'.repeat(5000); }
    const streamed: Reply = { status: 200, headers: { 'content-type': 'multipart/mixed; boundary="-"' }, body: parts() };
    const notModified: Reply = { status: 304, headers: { etag: '"a"' } };
    for (const reply of [encoded, events, streamed, notModified]) expect(await filtered('br, gzip', reply)).toBe(reply);
  });
});

describe('withVary()', () => {
  it('adds names once each, whatever their case, and leaves `*` alone', () => {
    expect(withVary({}, 'Accept', 'Accept-Encoding')).toEqual({ vary: 'Accept, Accept-Encoding' });
    expect(withVary({ vary: 'accept-encoding' }, 'Accept-Encoding', 'Origin')).toEqual({ vary: 'accept-encoding, Origin' });
    const star = { vary: '*' };
    expect(withVary(star, 'Origin')).toBe(star);
  });
});
