import { concurrencyLimit } from '../../src/limits/concurrency';

/** A call that finishes when told to, recording how many run at once. */
function harness() {
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const finishers = new Map<number, () => void>();
  const call = (n: number, fail = false) => async () => {
    running += 1;
    most = Math.max(most, running);
    started.push(n);
    await new Promise<void>((resolve) => finishers.set(n, resolve));
    running -= 1;
    if (fail) throw new Error(`call ${n} failed`);
    return n;
  };
  const finish = async (n: number) => { finishers.get(n)!(); await new Promise((r) => setImmediate(r)); };
  return { call, finish, started, most: () => most };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('concurrencyLimit()', () => {
  it('runs at most N at once, the rest in arrival order, and returns each result', async () => {
    const limit = concurrencyLimit(2);
    const h = harness();
    const results = [1, 2, 3, 4, 5].map((n) => limit(h.call(n)));
    await tick();
    expect(h.started).toEqual([1, 2]);
    await h.finish(2);
    expect(h.started).toEqual([1, 2, 3]);
    await h.finish(1);
    await h.finish(3);
    await h.finish(4);
    await h.finish(5);
    expect(await Promise.all(results)).toEqual([1, 2, 3, 4, 5]);
    expect(h.started).toEqual([1, 2, 3, 4, 5]);
    expect(h.most()).toBe(2);
  });

  it('frees the slot of a call that fails', async () => {
    const limit = concurrencyLimit(1);
    const h = harness();
    const failing = limit(h.call(1, true));
    const next = limit(h.call(2));
    await tick();
    await h.finish(1);
    await expect(failing).rejects.toThrow('call 1 failed');
    await h.finish(2);
    expect(await next).toBe(2);
  });
});
