/**
 * Readers for environment variables, shared by the gateway's config (config.ts) and the
 * simulator's (simulator/config.ts). Each reads one variable, treats unset or blank as "use the
 * default", and throws a `ConfigError` naming the variable when the value is not valid, which
 * start-up prints as one line.
 */

/** A bad environment variable; the message names it (and never echoes a secret). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The environment as read: `process.env`, or a plain object in tests. */
export type Env = Record<string, string | undefined>;

/** A whole number from `min` to `max`; `fallback` when unset or blank. */
export function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got ${raw}`);
  return value;
}

/** 1/true/yes/on or 0/false/no/off, any case; `fallback` when unset or blank. */
export function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(env[name])}`);
}

/** The trimmed value; null when unset or blank. */
export function str(env: Env, name: string): string | null {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? null : raw.trim();
}

/**
 * For start-up scripts only: a ConfigError printed as one line, and exit code 1; anything else
 * thrown on. For what start-up finds wrong after the variables were read (a manifest of trusted
 * documents that does not check out).
 */
export function exitOnConfigError(error: unknown): never {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`configuration error: ${error.message}`);
  process.exit(1);
}

/**
 * For start-up scripts only (`npm start`, `npm run simulator`, `npm run console`): the result of
 * `load`, or, when it throws a ConfigError, that error printed as one line and exit code 1.
 */
export function loadOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    return exitOnConfigError(error);
  }
}
