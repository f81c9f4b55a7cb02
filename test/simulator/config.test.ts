/** The embedded simulator's SIMULATOR_* variables: defaults, parsing, and a ConfigError naming a bad one. */
import { ConfigError } from '../../src/env';
import { loadSimulatorConfig } from '../../src/simulator/config';

describe('loadSimulatorConfig()', () => {
  it('embedded in the gateway, defaults to a free port, no admin endpoints and 60 calls a minute', () => {
    expect(loadSimulatorConfig({}, true)).toMatchObject({ port: 0, admin: false, rateLimitPerMinute: 60 });
  });

  it('reads tokens, a key pair, latency and faults', () => {
    const c = loadSimulatorConfig({ SIMULATOR_TOKENS: 'a, b', SIMULATOR_AK: 'ak', SIMULATOR_SK: 'sk', SIMULATOR_LATENCY_MS: '20', SIMULATOR_FAULTS: '[{"kind":"error","status":503,"rate":0.1}]' });
    expect(c).toMatchObject({ port: 4010, admin: true, tokens: ['a', 'b'], keys: [{ ak: 'ak', sk: 'sk' }] });
    expect(c.faults).toEqual([{ kind: 'latency', latencyMs: 20 }, { kind: 'error', status: 503, rate: 0.1 }]);
  });

  it('has the lifecycle off unless SIMULATOR_LIFECYCLE_MS sets its period', () => {
    expect(loadSimulatorConfig({}, true).lifecycleMs).toBe(0);
    expect(loadSimulatorConfig({}).lifecycleMs).toBe(0);
    expect(loadSimulatorConfig({ SIMULATOR_LIFECYCLE_MS: '0' }).lifecycleMs).toBe(0);
    expect(loadSimulatorConfig({ SIMULATOR_LIFECYCLE_MS: ' 5000 ' }, true).lifecycleMs).toBe(5000);
  });

  it.each([
    ['SIMULATOR_FAULTS', '[{"kind":"nope"}]'], ['SIMULATOR_FAULTS', '{'], ['SIMULATOR_AK', 'x'], ['SIMULATOR_PORT', 'x'],
    ['SIMULATOR_LIFECYCLE_MS', 'soon'], ['SIMULATOR_LIFECYCLE_MS', '-1'], ['SIMULATOR_LIFECYCLE_MS', '50'], ['SIMULATOR_LIFECYCLE_MS', '86400001'],
  ])('stops on a bad %s', (name, value) => {
    expect(() => loadSimulatorConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadSimulatorConfig({ [name]: value })).toThrow(name);
  });
});
