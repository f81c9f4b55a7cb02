/**
 * Fault injection: rules that make the simulator misbehave the way a real upstream can.
 * A rule applies to one instance or to all, to a share of calls (`rate`), and optionally only
 * to the next `times` calls it matches.
 */
export type FaultKind = 'latency' | 'error' | 'throttle' | 'hang' | 'reset' | 'malformed' | 'wrong-shape';
export const FAULT_KINDS: readonly FaultKind[] = ['latency', 'error', 'throttle', 'hang', 'reset', 'malformed', 'wrong-shape'];

export interface FaultRule {
  kind: FaultKind;
  /** Only calls for this instance; all calls when absent. */
  instanceId?: string;
  /** Share of matching calls affected, 0..1. @default 1 */
  rate?: number;
  /** Affect only the next N matching calls. @default unlimited */
  times?: number;
  /** `latency`: added delay. */
  latencyMs?: number;
  /** `error`: HTTP status (5xx or 409). @default 500 */
  status?: number;
  /** `error`: the error_code in the body. @default by status */
  errorCode?: string;
  /** `throttle`: the Retry-After header. @default 2 */
  retryAfterSeconds?: number;
  /** `throttle`: send no Retry-After header at all. */
  noRetryAfter?: boolean;
}

/** Checks a rule from outside (admin endpoint, start options); returns a message when it is not valid. */
export function validateFaultRule(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a fault rule is an object';
  const r = value as Record<string, unknown>;
  if (!FAULT_KINDS.includes(r.kind as FaultKind)) return `kind must be one of ${FAULT_KINDS.join(', ')}`;
  const num = (k: string, min: number, max: number): string | null =>
    r[k] === undefined || (typeof r[k] === 'number' && Number.isFinite(r[k]) && (r[k] as number) >= min && (r[k] as number) <= max) ? null : `${k} must be a number from ${min} to ${max}`;
  return (r.instanceId !== undefined && typeof r.instanceId !== 'string' ? 'instanceId must be a string' : null)
    ?? num('rate', 0, 1) ?? num('times', 1, 1e9) ?? num('latencyMs', 0, 600_000) ?? num('status', 400, 599)
    ?? num('retryAfterSeconds', 0, 3600)
    ?? (r.errorCode !== undefined && typeof r.errorCode !== 'string' ? 'errorCode must be a string' : null)
    ?? (r.noRetryAfter !== undefined && typeof r.noRetryAfter !== 'boolean' ? 'noRetryAfter must be a boolean' : null);
}

export class FaultPlan {
  private rules: FaultRule[] = [];

  constructor(initial: readonly FaultRule[] = [], private readonly random: () => number = Math.random) {
    this.rules = initial.map((r) => ({ ...r }));
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  replace(rules: readonly FaultRule[]): void {
    this.rules = rules.map((r) => ({ ...r }));
  }

  add(rule: FaultRule): void {
    this.rules.push({ ...rule });
  }

  clear(): void {
    this.rules = [];
  }

  /**
   * The faults that hit this call: the summed latency, and the first terminal fault (if any).
   * Consumes `times` of the rules that fired.
   */
  draw(instanceId: string | undefined): { latencyMs: number; terminal?: FaultRule } {
    let latencyMs = 0;
    let terminal: FaultRule | undefined;
    for (const rule of this.rules) {
      if (rule.instanceId !== undefined && rule.instanceId !== instanceId) continue;
      if (rule.kind !== 'latency' && terminal) continue;
      if (this.random() >= (rule.rate ?? 1)) continue;
      if (rule.times !== undefined) rule.times -= 1;
      if (rule.kind === 'latency') latencyMs += rule.latencyMs ?? 0;
      else terminal = rule;
    }
    this.rules = this.rules.filter((r) => r.times === undefined || r.times > 0);
    return { latencyMs, terminal };
  }
}
