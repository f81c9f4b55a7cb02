/** `npm start` as a new user meets it: the built gateway, on the embedded simulator, with no configuration. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

const ENTRY = path.join(__dirname, '..', '..', 'dist', 'index.js'); // built by `pretest`

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  return { ...env, PORT: '0', ...extra };
}

async function readLine(child: ChildProcess, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} in: ${out}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = pattern.exec(out);
      if (m) { clearTimeout(timer); resolve(m); }
    });
  });
}

describe('npm start', () => {
  it('starts the gateway on the embedded simulator and answers a query, with no configuration', async () => {
    const child = spawn(process.execPath, [ENTRY], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const [, url] = await readLine(child, /GraphQL at (http:\/\/\S+\/graphql)/);
      const [, instance] = await readLine(child, /instanceId: \\"([0-9a-f]{32}in\d\d)\\"/);
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
