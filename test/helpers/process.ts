/** The built gateway (`dist/index.js`, made by `pretest`) as a child process, as `npm start` runs it. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const ENTRY = path.join(__dirname, '..', '..', 'dist', 'index.js');

export interface GatewayProcess {
  child: ChildProcess;
  /** Resolves with the first match of `pattern` in everything the process wrote to stdout so far or later. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Everything written to stdout so far. */
  output(): string;
}

/** Spawns the gateway (`entry`: another build of it) with only PATH and HOME from this environment, plus `env`. */
export function spawnGateway(env: Record<string, string>, entry = ENTRY): GatewayProcess {
  const child = spawn(process.execPath, [entry], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => { out += chunk.toString(); waiters.forEach((w) => w()); });
  return {
    child,
    output: () => out,
    waitFor: (pattern, timeoutMs = 25_000) => new Promise((resolve, reject) => {
      const check = (): void => {
        const m = pattern.exec(out);
        if (m) { waiters.delete(check); clearTimeout(timer); resolve(m); }
      };
      const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`no line matching ${pattern} in: ${out}`)); }, timeoutMs);
      waiters.add(check);
      check();
    }),
  };
}

/** Spawns the gateway and waits until it prints its GraphQL URL. */
export async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess & { url: string }> {
  const gateway = spawnGateway({ PORT: '0', ...env });
  const [, url] = await gateway.waitFor(/GraphQL at (\S+)/);
  return { ...gateway, url: url! };
}
