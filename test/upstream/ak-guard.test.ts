/**
 * The service AK is never shown to the cloud more often wrong than the pause allows, however many
 * calls run at once: over real HTTP against the simulator, which verifies signatures and locks an
 * AK after five refusals in a row, as the cloud does.
 */
import { PROJECT, withSimulator } from '../helpers/simulator';
import type { Simulator } from '../../src/simulator/server';
import { createUpstreamClient, type UpstreamClient } from '../../src/upstream/client';
import { CredentialsPausedError, UpstreamHttpError } from '../../src/upstream/errors';

const AK = 'HPUAEXAMPLEAK123';
const SK = 'sk-example-secret-value-0123456789';

describe('the upstream client with the service AK', () => {
  let sim: Simulator;
  const clients: UpstreamClient[] = [];
  const clientWith = (sk: string): { client: UpstreamClient; call: (offset: number) => Promise<unknown> } => {
    const client = createUpstreamClient({ endpoint: sim.url, timeoutMs: 5000, retries: 2, backoffBaseMs: 1 });
    clients.push(client);
    const instanceId = sim.store.list()[0]!.id;
    return { client, call: (offset) => client.listBackups({ projectId: PROJECT, instanceId, offset, limit: 1 }, { auth: { kind: 'aksk', ak: AK, sk } }) };
  };
  const refusalsSeen = (): number => sim.calls.summary().calls.filter((c) => c.status === 401).length;

  beforeEach(async () => { sim = await withSimulator({ auth: { keys: [{ ak: AK, sk: SK }] } }); });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await sim.close();
  });

  it('shows the cloud at most three refusals when 20 concurrent calls are signed with a wrong SK, and pauses the rest', async () => {
    const { call } = clientWith('not-the-secret');
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, k) => call(k).then(() => 'answered', (e: unknown) => e)));

    expect(refusalsSeen()).toBe(3);
    const refused = outcomes.filter((e) => e instanceof UpstreamHttpError && e.status === 401);
    const paused = outcomes.filter((e): e is CredentialsPausedError => e instanceof CredentialsPausedError);
    expect(refused).toHaveLength(3);
    expect(paused).toHaveLength(17);
    expect(paused.every((e) => e.retryAfterSeconds > 200)).toBe(true);
    // The AK is not locked upstream: another user of the same AK, with the right SK, is still served.
    await expect(clientWith(SK).call(0)).resolves.toMatchObject({ body: { total_count: expect.any(Number) } });
  });

  it('answers 20 concurrent calls with the right SK, once the first answer has shown the key is accepted', async () => {
    const { call } = clientWith(SK);
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, k) => call(k)));
    expect(outcomes).toHaveLength(20);
    expect(sim.calls.summary().calls.map((c) => c.status)).toEqual(Array(20).fill(200));
  });

  it('stops waiting for a slot at the call\'s deadline', async () => {
    await sim.close();
    sim = await withSimulator({ auth: { keys: [{ ak: AK, sk: SK }] }, faults: [{ kind: 'hang' }] });
    const client = createUpstreamClient({ endpoint: sim.url, timeoutMs: 60_000, retries: 0 });
    clients.push(client);
    const instanceId = sim.store.list()[0]!.id;
    const call = (offset: number, deadline: number) =>
      client.listBackups({ projectId: PROJECT, instanceId, offset, limit: 1 }, { auth: { kind: 'aksk', ak: AK, sk: SK }, deadline }).catch((e: unknown) => e);
    // Three attempts take the three slots of a key not yet accepted, and hang at the simulator.
    const hung = [0, 1, 2].map((offset) => call(offset, Date.now() + 60_000));
    while (sim.calls.inFlight < 3) await new Promise((r) => setTimeout(r, 10));
    // A fourth waits for a slot, and gives up at its own (short) deadline without being sent.
    expect(((await call(3, Date.now() + 50)) as Error).name).toBe('UpstreamTimeoutError');
    expect(sim.calls.summary().count).toBe(3);
    await sim.close(); // ends the hung attempts
    expect((await Promise.all(hung)).every((e) => e instanceof Error)).toBe(true);
  });
});
