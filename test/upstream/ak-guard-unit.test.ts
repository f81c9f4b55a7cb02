/** AkGuard alone, on an injected clock: slots before the key is accepted, the pause and what follows it. */
import { AkGuard } from '../../src/upstream/ak-guard';
import { CredentialsPausedError } from '../../src/upstream/errors';

const FOREVER = (): number => Number.POSITIVE_INFINITY;

describe('AkGuard', () => {
  let clock = 1_000_000;
  const guard = (): AkGuard => new AkGuard({ failuresBeforePause: 3, pauseMs: 300_000, now: () => clock });

  it('admits three attempts at once for a key not yet accepted, and any number once it is', async () => {
    const g = guard();
    const slots = await Promise.all([1, 2, 3].map(() => g.admit('ak', FOREVER)));
    let fourth = false;
    const waiting = g.admit('ak', FOREVER).then((release) => { fourth = true; return release; });
    await Promise.resolve();
    expect(fourth).toBe(false);
    slots[0]!('accepted');
    (await waiting)('accepted');
    expect(fourth).toBe(true);
    const many = await Promise.all(Array.from({ length: 50 }, () => g.admit('ak', FOREVER)));
    expect(many).toHaveLength(50);
  });

  it('pauses after three refusals, lets one attempt try after the pause, and pauses again if it is refused', async () => {
    const g = guard();
    for (const release of await Promise.all([1, 2, 3].map(() => g.admit('ak', FOREVER)))) release('refused');
    await expect(g.admit('ak', FOREVER)).rejects.toEqual(new CredentialsPausedError(300));
    clock += 299_000;
    await expect(g.admit('ak', FOREVER)).rejects.toEqual(new CredentialsPausedError(1));
    clock += 1_000;
    const trial = await g.admit('ak', FOREVER); // the pause is over: one attempt
    let second = false;
    void g.admit('ak', FOREVER).then(() => { second = true; }, () => { second = true; });
    await Promise.resolve();
    expect(second).toBe(false); // no other attempt while the trial is out
    trial('refused');
    await expect(g.admit('ak', FOREVER)).rejects.toBeInstanceOf(CredentialsPausedError);
  });

  it('forgets the refusals once the key is accepted again', async () => {
    const g = guard();
    for (const release of await Promise.all([1, 2].map(() => g.admit('ak', FOREVER)))) release('refused');
    (await g.admit('ak', FOREVER))('accepted');
    for (const release of await Promise.all([1, 2, 3].map(() => g.admit('ak', FOREVER)))) release('refused');
    await expect(g.admit('ak', FOREVER)).rejects.toBeInstanceOf(CredentialsPausedError);
  });
});
