/** GraphiQL over HTTP (the browser test is test/e2e/): served from the gateway itself, compressed, cacheable. */
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { rawRequest } from '../helpers/http';
import { ENTRY, spawnGateway } from '../helpers/process';
import { startStack, type Stack } from '../helpers/stack';

const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

describe('GraphiQL', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack(); });
  afterAll(() => stack.close());

  it('serves a page whose every script and style comes from the gateway, with a strict CSP', async () => {
    const res = await rawRequest(stack.gateway.url, '/graphql', { headers: BROWSER });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toMatch(/script-src 'self';/); // no inline script, no eval
    expect(csp).toContain("connect-src 'self'");
    const srcs = [...res.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(srcs.length).toBeGreaterThanOrEqual(2);
    for (const src of srcs) expect(src).toMatch(/^(\/graphiql\/app\.(js|css)\?v=[\w-]+|data:,)$/);
  });

  it('serves the bundle compressed, cacheable for a year, and revalidates with the ETag', async () => {
    const page = await rawRequest(stack.gateway.url, '/graphql', { headers: BROWSER });
    const js = /src="([^"]+app\.js[^"]*)"/.exec(page.text)![1]!;
    const br = await rawRequest(stack.gateway.url, js, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toMatch(/javascript/);
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const gz = await rawRequest(stack.gateway.url, js, { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(Number(gz.headers['content-length'])).toBeLessThan(600_000);
    const again = await rawRequest(stack.gateway.url, js, { headers: { 'if-none-match': br.headers.etag as string } });
    expect(again.status).toBe(304);
    expect((await rawRequest(stack.gateway.url, '/graphiql/../package.json')).status).toBe(404);
    expect((await rawRequest(stack.gateway.url, '/graphiql/secret.js')).status).toBe(404);
  });

  it('opens with the example query, a simulator instance and headers naming the project', async () => {
    const html = await (await fetch(`${stack.gateway.url}/graphql`, { headers: BROWSER })).text();
    const settings = JSON.parse(/<script id="graphiql-settings" type="application\/json">([^<]*)<\/script>/.exec(html)![1]!);
    expect(settings.query).toContain('pageInfo');
    expect(JSON.parse(settings.headers)).toEqual({ 'X-Project-Id': expect.any(String) }); // the simulator needs no token
    expect(settings.endpoint).toBe('/graphql');
    expect(JSON.parse(settings.variables)).toEqual({ instanceId: expect.any(String), first: 5 });
  });

  it('still answers GraphQL GETs on the same path (with CSRF prevention: a preflight header is required)', async () => {
    const get = await rawRequest(stack.gateway.url, '/graphql?query=%7B__typename%7D', { headers: { accept: 'application/json', 'apollo-require-preflight': 'true' } });
    expect(get.json()).toEqual({ data: { __typename: 'Query' } });
    const simple = await rawRequest(stack.gateway.url, '/graphql?query=%7B__typename%7D', { headers: { accept: 'application/json' } });
    expect(simple.status).toBe(400);
  });
});

describe('in production', () => {
  it('has no GraphiQL and no introspection unless GRAPHIQL=true', async () => {
    const off = await startStack({ env: { NODE_ENV: 'production' } });
    const on = await startStack({ env: { NODE_ENV: 'production', GRAPHIQL: 'true' } });
    try {
      expect((await rawRequest(off.gateway.url, '/graphql', { headers: BROWSER })).headers['content-type']).not.toMatch(/text\/html/);
      const introspection = await off.gql('{ __schema { types { name } } }');
      expect(introspection.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect((await off.gql('{ __typename }')).body.data).toEqual({ __typename: 'Query' });
      expect((await rawRequest(on.gateway.url, '/graphql', { headers: BROWSER })).headers['content-type']).toMatch(/text\/html/);
      expect((await on.gql('{ __schema { queryType { name } } }')).body.data.__schema.queryType.name).toBe('Query');
    } finally {
      await off.close();
      await on.close();
    }
  });
});

describe('a build without the GraphiQL assets', () => {
  // A copy of dist/ without dist/graphiql/ (the real one stays for the tests running alongside),
  // next to the schema and node_modules it loads, as a checkout whose assets were never built.
  const ROOT = path.join(path.dirname(ENTRY), '..');
  let copy: string;
  beforeAll(async () => {
    copy = await fs.mkdtemp(path.join(os.tmpdir(), 'gateway-without-graphiql-'));
    const assets = path.join(ROOT, 'dist', 'graphiql');
    await fs.cp(path.join(ROOT, 'dist'), path.join(copy, 'dist'), { recursive: true, filter: (source) => source !== assets && !source.startsWith(`${assets}${path.sep}`) });
    await fs.symlink(path.join(ROOT, 'schema'), path.join(copy, 'schema'));
    await fs.symlink(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  });
  afterAll(() => fs.rm(copy, { recursive: true, force: true }));

  it('starts and serves the API; the GraphiQL page is a 503, with one warning at start-up', async () => {
    const { child, waitFor, output } = spawnGateway({ PORT: '0' }, path.join(copy, 'dist', 'index.js'));
    let exited = false;
    child.once('exit', () => { exited = true; });
    try {
      const [, url] = await waitFor(/GraphQL at (http:\/\/\S+)\/graphql/);
      const [, instance] = await waitFor(/instanceId: \\"([0-9a-f]{32}in\d\d)\\"/);
      await waitFor(/"msg":"GraphiQL is unavailable[^"]*"/);
      for (let i = 0; i < 2; i++) {
        const page = await rawRequest(url!, '/graphql', { headers: BROWSER });
        expect(page.status).toBe(503);
        expect(page.json()).toEqual({ error: expect.stringMatching(/GraphiQL is not available/) });
      }
      const query = await rawRequest(url!, '/graphql', {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `{ backups(instanceId: "${instance}", first: 1) { totalCount } }` }),
      });
      expect(query.json()).toEqual({ data: { backups: { totalCount: 1234 } } });
      expect((await rawRequest(url!, '/healthz')).json()).toEqual({ status: 'ok' });
      expect(output().match(/GraphiQL is unavailable/g)).toHaveLength(1);
      expect(exited).toBe(false);
    } finally {
      child.kill('SIGTERM');
      if (!exited) await once(child, 'exit');
    }
  });
});
