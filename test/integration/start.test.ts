/** `npm start` as a new user meets it: the built gateway, on the embedded simulator, with no configuration. */
import { once } from 'node:events';

import { spawnGateway } from '../helpers/process';

describe('npm start', () => {
  it('starts the gateway on the embedded simulator and answers a query, with no configuration', async () => {
    const { child, waitFor } = spawnGateway({ PORT: '0' });
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
    const { child } = spawnGateway({ PORT: '0', UPSTREAM_FANOUT: 'lots' });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^configuration error: UPSTREAM_FANOUT /)]);
  });
});
