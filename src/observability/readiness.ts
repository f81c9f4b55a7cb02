/**
 * Readiness: the upstream answered (with any HTTP status) in the last 30 s, or answers a cheap
 * probe now; and Redis is reachable when it is configured.
 */
export interface ReadinessOptions {
  /** Any HTTP answer from the upstream within the timeout. */
  probe: (timeoutMs: number) => Promise<boolean>;
  /** Where shared state lives, and whether that is healthy. */
  store: () => { backend: 'memory' | 'redis'; healthy: boolean };
  /** How recent an upstream answer keeps the gateway ready without a probe. @default 30 s */
  windowMs?: number;
  probeTimeoutMs?: number;
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
      let upstream = Date.now() - lastAnswer <= windowMs;
      if (!upstream && (await probe(probeTimeoutMs))) {
        lastAnswer = Date.now();
        upstream = true;
      }
      const { backend, healthy } = store();
      const storeState = backend === 'memory' ? 'memory' : healthy ? 'redis' : 'redis unreachable (serving from memory)';
      return { ready: upstream && healthy, upstream: upstream ? 'answering' : 'unreachable', store: storeState };
    },
  };
}
