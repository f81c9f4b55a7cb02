/** Turns a SimulatorConfig (from SIMULATOR_* variables) into a running simulator. */
import type { SimulatorConfig } from './config';
import { startSimulator, type Simulator, type SimulatorOptions } from './server';

/**
 * Starts the simulator as configured by `SIMULATOR_*` variables (standalone or embedded in `npm start`).
 * `extra` adds what no variable sets (a test's scheduler).
 */
export function startSimulatorFromConfig(config: SimulatorConfig, extra: Pick<SimulatorOptions, 'scheduler' | 'now'> = {}): Promise<Simulator> {
  return startSimulator({
    ...extra,
    host: config.host,
    port: config.port,
    seed: config.seed,
    rateLimitPerMinute: config.rateLimitPerMinute,
    admin: config.admin,
    auth: { tokens: config.tokens, keys: config.keys },
    faults: config.faults,
    lifecycleMs: config.lifecycleMs,
  });
}
