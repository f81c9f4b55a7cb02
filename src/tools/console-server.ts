/**
 * Serves the example console (dist/console/, built from web/console/ by scripts/build-console.mjs)
 * on a port of its own, so every request the page makes to the gateway is cross-origin, as a
 * frontend team's dev server would have it. `config.json` tells the page where the gateway is and
 * which instances to show first (the API cannot list instances).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { listen } from '../http/server';

/** What the page reads from `config.json` (web/console/main.tsx). */
export interface ConsoleSettings {
  /** The gateway's GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  graphqlUrl: string;
  /** Sent with every operation, e.g. `X-Project-Id` (over WebSocket, in the `connection_init` payload). */
  headers?: Record<string, string>;
  instances: { id: string; name?: string }[];
}

export interface ConsoleServerOptions {
  /** The built console. */
  root: string;
  settings: ConsoleSettings;
  /** @default 5173 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
}

export interface ConsoleServer {
  url: string;
  close(): Promise<void>;
}

interface File {
  type: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Starts the server; the files are read once, so a rebuild needs a restart. */
export async function startConsoleServer({ root, settings, port = 5173, host = '127.0.0.1' }: ConsoleServerOptions): Promise<ConsoleServer> {
  const files = readFiles(root);
  files.set('/config.json', { type: TYPES['.json']!, body: Buffer.from(JSON.stringify(settings)) });
  // The page may call its own server and the gateway (over HTTP and WebSocket), nothing else. A
  // source of scheme http: does not match ws: (CSP3 matches ws: only to 'self' or a ws: source).
  const gateway = new URL(settings.graphqlUrl);
  const csp = `default-src 'self'; connect-src 'self' ${gateway.origin} ${gateway.protocol === 'https:' ? 'wss' : 'ws'}://${gateway.host}; img-src 'self' data:`;
  const server = http.createServer((req, res) => {
    const file = req.method === 'GET' || req.method === 'HEAD' ? files.get(new URL(req.url ?? '/', 'http://console').pathname) : undefined;
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache', 'content-security-policy': csp, 'x-content-type-options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  });
  const url = await listen(server, port, host);
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function readFiles(root: string): Map<string, File> {
  if (!fs.existsSync(path.join(root, 'index.html'))) throw new Error(`no console built in ${root}: run node scripts/build-console.mjs (npm run console does)`);
  const files = new Map<string, File>();
  for (const name of fs.readdirSync(root)) {
    files.set(`/${name}`, { type: TYPES[path.extname(name)] ?? 'application/octet-stream', body: fs.readFileSync(path.join(root, name)) });
  }
  files.set('/', files.get('/index.html')!);
  return files;
}
