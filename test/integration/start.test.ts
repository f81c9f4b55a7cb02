/** `npm start` as a new user meets it: the built gateway, on the embedded simulator, with no configuration. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

const ENTRY = path.join(__dirname, '..', '..', 'dist', 'index.js'); // built by `pretest`

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  return { ...env, PORT: '0', ...extra };
}

/** Collects a child's stdout from the start, so that no line is missed between two waits. */
function watch(child: ChildProcess): (pattern: RegExp, timeoutMs?: number) => Promise<RegExpExecArray> {
  let out = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => { out += chunk.toString(); waiters.forEach((w) => w()); });
  return (pattern, timeoutMs = 25_000) => new Promise((resolve, reject) => {
    const check = (): void => {
      const m = pattern.exec(out);
      if (m) { waiters.delete(check); clearTimeout(timer); resolve(m); }
    };
    const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`no line matching ${pattern} in: ${out}`)); }, timeoutMs);
    waiters.add(check);
    check();
  });
}

describe('npm start', () => {
  it('starts the gateway on the embedded simulator and answers a query, with no configuration', async () => {
    const child = spawn(process.execPath, [ENTRY], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const waitFor = watch(child);
    try {
      const [, url] = await waitFor(/GraphQL at (http:\/\/\S+\/graphql)/);
      const [, instance] = await waitFor(/instanceId: \\"([0-9a-f]{32}in\d\d)\\"/);
      const res = await fetch(url!, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `{ backups(instanceId: "${instance}", first: 2) { totalCount nodes { id type } } }` }),
      });
      const body = await res.json() as any;
      expect(body.errors).toBeUndefined();
      expect(body.data.backups.totalCount).toBe(1234);
      expect(body.data.backups.nodes).toHaveLength(2);
    } finally {
      child.kill('SIGTERM');
      const [code, signal] = await once(child, 'exit');
      expect([code, signal]).toEqual([0, null]);
    }
  });

  it('stops on a bad configuration with one line naming the variable', async () => {
    const child = spawn(process.execPath, [ENTRY], { env: cleanEnv({ UPSTREAM_FANOUT: 'lots' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^configuration error: UPSTREAM_FANOUT /)]);
  });
});
