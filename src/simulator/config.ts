/**
 * The simulator's configuration from its SIMULATOR_* variables, validated; a bad value throws a
 * `ConfigError` naming the variable. Read by `npm run simulator` (main.ts) and, for the
 * simulator embedded in `npm start`, by index.ts. The gateway's config knows nothing of it.
 */
import { bool, ConfigError, int, str, type Env } from '../env';
import { validateFaultRule, type FaultRule } from './faults';

export interface SimulatorConfig {
  host: string;
  port: number;
  seed: number;
  rateLimitPerMinute: number;
  admin: boolean;
  tokens: string[];
  keys: Array<{ ak: string; sk: string }>;
  faults: FaultRule[];
  /** SIMULATOR_LIFECYCLE_MS: the period of the lifecycle's steps (lifecycle.ts); 0 is off. */
  lifecycleMs: number;
}

/**
 * Embedded (inside the gateway) the simulator defaults to a free port and no admin endpoints;
 * standalone, to port 4010 with them on.
 */
export function loadSimulatorConfig(env: Env = process.env, embedded = false): SimulatorConfig {
  const faults = faultRules(env);
  const latency = int(env, 'SIMULATOR_LATENCY_MS', 0, 0, 600_000);
  if (latency > 0) faults.unshift({ kind: 'latency', latencyMs: latency });
  const ak = str(env, 'SIMULATOR_AK');
  const sk = str(env, 'SIMULATOR_SK');
  if ((ak === null) !== (sk === null)) throw new ConfigError('SIMULATOR_AK and SIMULATOR_SK must be set together');
  return {
    host: str(env, 'SIMULATOR_HOST') ?? '127.0.0.1',
    port: int(env, 'SIMULATOR_PORT', embedded ? 0 : 4010, 0, 65535),
    seed: int(env, 'SIMULATOR_SEED', 20261101, 0, 2 ** 31 - 1),
    rateLimitPerMinute: int(env, 'SIMULATOR_RATE_LIMIT_PER_MINUTE', 60, 0, 1_000_000_000),
    admin: bool(env, 'SIMULATOR_ADMIN', !embedded),
    tokens: (str(env, 'SIMULATOR_TOKENS') ?? '').split(',').map((t) => t.trim()).filter(Boolean),
    keys: ak !== null && sk !== null ? [{ ak, sk }] : [],
    faults,
    lifecycleMs: lifecycleMs(env),
  };
}

/** 0 (off) or a period of at least 100 ms: a shorter one would be a busy loop, not a demo. */
function lifecycleMs(env: Env): number {
  const ms = int(env, 'SIMULATOR_LIFECYCLE_MS', 0, 0, 86_400_000);
  if (ms > 0 && ms < 100) throw new ConfigError(`SIMULATOR_LIFECYCLE_MS must be 0 (off) or from 100 to 86400000, got ${ms}`);
  return ms;
}

function faultRules(env: Env): FaultRule[] {
  const raw = str(env, 'SIMULATOR_FAULTS');
  if (raw === null) return [];
  let parsed: unknown;
  try { parsed = JSON.parse(raw); } catch { throw new ConfigError('SIMULATOR_FAULTS must be a JSON array of fault rules'); }
  if (!Array.isArray(parsed)) throw new ConfigError('SIMULATOR_FAULTS must be a JSON array of fault rules');
  const problem = parsed.map(validateFaultRule).find((p) => p !== null);
  if (problem) throw new ConfigError(`SIMULATOR_FAULTS: ${problem}`);
  return parsed as FaultRule[];
}
