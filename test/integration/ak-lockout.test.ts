/**
 * A wrong service SK under load: the gateway shows the cloud no more refusals than its pause
 * allows, so the AK is never locked for its other users, and every caller is told why.
 */
import { startStack, type Stack } from '../helpers/stack';
import { PROJECT } from '../helpers/simulator';
import { createUpstreamClient } from '../../src/upstream/client';

const AK = 'HPUAEXAMPLEAK123';
const SK = 'sk-example-secret-value-0123456789';
const LOOKUP = 'query($i: ID!, $b: ID!) { backup(instanceId: $i, id: $b) { id } }';

describe('a gateway whose service SK is wrong', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SK: 'not-the-secret' }, simulator: { auth: { keys: [{ ak: AK, sk: SK }] } } });
  });
  afterAll(() => stack.close());

  it('answers 20 concurrent operations UNAUTHENTICATED after at most three refusals upstream, and the AK stays usable', async () => {
    const instance = stack.sim.store.list()[0]!;
    const answers = await Promise.all(instance.backups.slice(0, 20).map((b) => stack.gql(LOOKUP, { i: instance.id, b: b.id })));

    const extensions = answers.map((a) => a.body.errors[0].extensions);
    expect(extensions.map((e: any) => e.code)).toEqual(Array(20).fill('UNAUTHENTICATED'));
    const refusedUpstream = extensions.filter((e: any) => e.upstream?.status === 401);
    const paused = extensions.filter((e: any) => e.upstream === undefined && e.retryAfterSeconds > 200);
    expect(refusedUpstream.length + paused.length).toBe(20);
    expect((await stack.calls()).calls.filter((c: any) => c.status === 401)).toHaveLength(3);

    // The simulator locks an AK after five refusals in a row; the right SK is still served.
    const rightClient = createUpstreamClient({ endpoint: stack.sim.url, timeoutMs: 5000, retries: 0 });
    try {
      await expect(rightClient.listBackups({ projectId: PROJECT, instanceId: instance.id, offset: 0, limit: 1 }, { auth: { kind: 'aksk', ak: AK, sk: SK } }))
        .resolves.toMatchObject({ body: { total_count: instance.backups.length } });
    } finally {
      rightClient.close();
    }
  });
});
