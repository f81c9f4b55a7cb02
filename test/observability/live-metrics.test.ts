/** The live polls' metrics as /metrics shows them: pollers now, polls by outcome, skipped polls apart. */
import { createMetrics } from '../../src/observability/metrics';

describe('createMetrics(): live polls', () => {
  it('shows the pollers of the moment, sent polls by outcome, and skipped polls in a counter of their own', async () => {
    const metrics = createMetrics();
    metrics.livePollers(3);
    metrics.livePollers(2);
    for (const outcome of ['ok', 'ok', 'failed', 'ended', 'skipped', 'skipped'] as const) metrics.livePoll(outcome);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^live_pollers 2$/m);
    expect(text).toMatch(/^live_polls_total\{outcome="ok"\} 2$/m);
    expect(text).toMatch(/^live_polls_total\{outcome="failed"\} 1$/m);
    expect(text).toMatch(/^live_polls_total\{outcome="ended"\} 1$/m);
    expect(text).not.toMatch(/outcome="skipped"/);
    expect(text).toMatch(/^live_polls_skipped_total 2$/m);
  });
});
