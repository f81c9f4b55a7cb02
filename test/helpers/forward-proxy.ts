/**
 * A real forward proxy (the `proxy` package, "think Squid") in a child node on a free loopback
 * port: absolute-form requests and CONNECT tunnels, optionally behind Basic proxy
 * authentication. It runs in a child because the package is ES-module-only, which jest's
 * module system refuses without --experimental-vm-modules.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

/** A request the proxy received: absolute-form (`GET http://host/path`) or a `CONNECT host:port`. */
export interface ProxiedRequest {
  method: string;
  url: string;
  proxyAuthorization: string | null;
}

export interface ForwardProxy {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** Every request it received so far (refused ones too). */
  seen(): Promise<ProxiedRequest[]>;
  close(): Promise<void>;
}

const SCRIPT = `
import http from 'node:http';
import { createProxy } from 'proxy';
const expected = process.env.PROXY_AUTHORIZATION;
const seen = [];
const server = createProxy(http.createServer());
if (expected) server.authenticate = (req) => req.headers['proxy-authorization'] === expected;
const record = (req) => seen.push({ method: req.method, url: req.url, proxyAuthorization: req.headers['proxy-authorization'] ?? null });
server.prependListener('request', record);
server.prependListener('connect', record);
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', () => process.send({ seen }));
process.on('disconnect', () => process.exit(0));
`;

/** Starts the proxy; with `authorization`, it answers 407 to any request without that exact Proxy-Authorization. */
export function startForwardProxy(options: { authorization?: string } = {}): Promise<ForwardProxy> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
  if (options.authorization) env.PROXY_AUTHORIZATION = options.authorization;
  const child = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT], {
    cwd: path.join(__dirname, '..', '..'), env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const next = <T>(): Promise<T> => new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`the forward proxy exited (${code})`));
    child.once('exit', onExit);
    child.once('message', (message) => {
      child.off('exit', onExit);
      resolve(message as T);
    });
  });
  return next<{ port: number }>().then(({ port }) => ({
    url: `http://127.0.0.1:${port}`,
    port,
    async seen() {
      const answer = next<{ seen: ProxiedRequest[] }>();
      child.send('seen');
      return (await answer).seen;
    },
    close: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) resolve();
      else {
        child.once('exit', () => resolve());
        child.kill();
      }
    }),
  }));
}

/** Basic credentials as a Proxy-Authorization header value. */
export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
