/**
 * Readiness: the upstream answered (with any HTTP status) in the last 30 s, or answers a cheap
 * probe now; and Redis is reachable when it is configured, judged afresh at every check (one
 * slow command earlier must not keep a replica unready while Redis answers again).
 */
export interface ReadinessOptions {
  /** Any HTTP answer from the upstream within the timeout. */
  probe: (timeoutMs: number) => Promise<boolean>;
  /** Where shared state lives, and whether that is healthy now (e.g. after a PING). */
  store: () => StoreHealth | Promise<StoreHealth>;
  /** How recent an upstream answer keeps the gateway ready without a probe. @default 30 s */
  windowMs?: number;
  probeTimeoutMs?: number;
}

export interface StoreHealth {
  backend: 'memory' | 'redis';
  healthy: boolean;
}

export interface ReadinessReport {
  ready: boolean;
  upstream: 'answering' | 'unreachable';
  store: string;
}

export interface Readiness {
  /** Call whenever the upstream answered with any HTTP status. */
  upstreamAnswered(): void;
  check(): Promise<ReadinessReport>;
}

export function createReadiness({ probe, store, windowMs = 30_000, probeTimeoutMs = 2000 }: ReadinessOptions): Readiness {
  let lastAnswer = Number.NEGATIVE_INFINITY;
  return {
    upstreamAnswered() {
      lastAnswer = Date.now();
    },
    async check() {
      const judgeUpstream = async (): Promise<boolean> => {
        if (Date.now() - lastAnswer <= windowMs) return true;
        if (!(await probe(probeTimeoutMs))) return false;
        lastAnswer = Date.now();
        return true;
      };
      const [upstream, { backend, healthy }] = await Promise.all([judgeUpstream(), store()]);
      const storeState = backend === 'memory' ? 'memory' : healthy ? 'redis' : 'redis unreachable (serving from memory)';
      return { ready: upstream && healthy, upstream: upstream ? 'answering' : 'unreachable', store: storeState };
    },
  };
}
