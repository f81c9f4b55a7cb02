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
