/** createGraphiQLHandler() when its assets are missing: a 503 on the page, never a rejection, and the page once they appear. */
import { once } from 'node:events';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { ASSETS_DIR, createGraphiQLHandler } from '../../src/http/graphiql';
import { rawRequest } from '../helpers/http';

const BROWSER = { accept: 'text/html' };

describe('createGraphiQLHandler() without its assets', () => {
  let dir: string;
  let server: http.Server;
  let url: string;
  const handler = () => createGraphiQLHandler({ assetsDir: dir, endpoint: '/graphql', assetsPath: '/graphiql', exampleHeaders: {} });
  let graphiql: ReturnType<typeof handler>;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'graphiql-assets-'));
    graphiql = handler();
    server = http.createServer((req, res) => {
      const request = { method: req.method ?? 'GET', pathname: (req.url ?? '/').split('?')[0]!, search: '', header: (name: string) => req.headers[name] as string | undefined };
      void graphiql.handle(request).then((reply) => {
        if (!reply) { res.statusCode = 404; res.end(); return; }
        res.writeHead(reply.status, reply.headers);
        res.end(reply.body as Buffer | string | undefined);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('warms up to an error, not a rejection', async () => {
    const problem = await graphiql.warm();
    expect(problem).toBeInstanceOf(Error);
    expect(problem!.message).toMatch(/app\.js/);
  });

  it('answers the page and the assets with 503 and a JSON body that names no path', async () => {
    for (const target of ['/graphql', '/graphiql/app.js']) {
      const res = await rawRequest(url, target, { headers: BROWSER });
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json()).toEqual({ error: expect.stringMatching(/not built/) });
      expect(res.text).not.toContain(dir);
    }
  });

  it('serves the page once the assets are there', async () => {
    for (const file of ['app.js', 'app.css']) await fs.copyFile(path.join(ASSETS_DIR, file), path.join(dir, file));
    expect(await graphiql.warm()).toBeUndefined();
    const res = await rawRequest(url, '/graphql', { headers: BROWSER });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  });
});
