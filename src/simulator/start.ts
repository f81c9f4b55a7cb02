/** Turns a SimulatorConfig (from SIMULATOR_* variables) into a running simulator. */
import type { SimulatorConfig } from './config';
import { startSimulator, type Simulator } from './server';

/** Starts the simulator as configured by `SIMULATOR_*` variables (standalone or embedded in `npm start`). */
export function startSimulatorFromConfig(config: SimulatorConfig): Promise<Simulator> {
  return startSimulator({
    host: config.host,
    port: config.port,
    seed: config.seed,
    rateLimitPerMinute: config.rateLimitPerMinute,
    admin: config.admin,
    auth: { tokens: config.tokens, keys: config.keys },
    faults: config.faults,
  });
}
