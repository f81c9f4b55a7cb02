import { createReadiness, type StoreHealth } from '../../src/observability/readiness';

describe('createReadiness().check()', () => {
  it('judges the store afresh at every check, awaiting its answer', async () => {
    const answers: StoreHealth[] = [{ backend: 'redis', healthy: false }, { backend: 'redis', healthy: true }];
    const readiness = createReadiness({ probe: async () => true, store: async () => answers.shift()! });
    expect(await readiness.check()).toEqual({ ready: false, upstream: 'answering', store: 'redis unreachable (serving from memory)' });
    expect(await readiness.check()).toEqual({ ready: true, upstream: 'answering', store: 'redis' });
  });

  it('is unready when the upstream neither answered lately nor answers the probe', async () => {
    const readiness = createReadiness({ probe: async () => false, store: () => ({ backend: 'memory', healthy: true }) });
    expect(await readiness.check()).toEqual({ ready: false, upstream: 'unreachable', store: 'memory' });
    readiness.upstreamAnswered();
    expect(await readiness.check()).toEqual({ ready: true, upstream: 'answering', store: 'memory' });
  });
});

describe('createReadiness().lastVerdict() (gateway_ready)', () => {
  it('never probes: it says the latest news of the upstream, an answer, an unanswered attempt or a probe of check()', async () => {
    const outcomes = [false, true];
    let probes = 0;
    const readiness = createReadiness({ probe: async () => { probes++; return outcomes.shift()!; }, store: () => ({ backend: 'memory', healthy: true }), windowMs: -1 });
    expect((await readiness.lastVerdict()).ready).toBe(false); // no news yet
    readiness.upstreamAnswered();
    expect((await readiness.lastVerdict()).ready).toBe(true);
    expect((await readiness.check()).ready).toBe(false); // no answer counts (a window of -1 ms): a probe, which fails
    expect((await readiness.lastVerdict()).ready).toBe(false);
    expect((await readiness.check()).ready).toBe(true);
    expect((await readiness.lastVerdict()).ready).toBe(true);
    readiness.upstreamUnreachable(); // an attempt with no answer (a timeout, a refused connection)
    expect((await readiness.lastVerdict()).ready).toBe(false);
    expect(probes).toBe(2); // check()'s two probes only
  });
});
