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
  /** Call when an attempt got no answer at all (a connection failure, a timeout): bad news for lastVerdict(). */
  upstreamUnreachable(): void;
  check(): Promise<ReadinessReport>;
  /**
   * What `check()` would say without probing the upstream: the upstream part is the latest news
   * of it, an answer (ready), an attempt with no answer (not ready) or a probe's outcome (not
   * ready before any). For `gateway_ready`:
   * a scrape of /metrics never calls the upstream; /readyz, probed by Kubernetes or compose,
   * keeps the news fresh on an idle replica.
   */
  lastVerdict(): Promise<ReadinessReport>;
}

export function createReadiness({ probe, store, windowMs = 30_000, probeTimeoutMs = 2000 }: ReadinessOptions): Readiness {
  let lastAnswer = Number.NEGATIVE_INFINITY;
  /** Whether the latest news of the upstream was good: an answer, or a probe it answered (not an attempt it left unanswered). */
  let latestNewsGood = false;
  const report = async (upstreamVerdict: () => boolean | Promise<boolean>): Promise<ReadinessReport> => {
    const [upstream, { backend, healthy }] = await Promise.all([upstreamVerdict(), store()]);
    const storeState = backend === 'memory' ? 'memory' : healthy ? 'redis' : 'redis unreachable (serving from memory)';
    return { ready: upstream && healthy, upstream: upstream ? 'answering' : 'unreachable', store: storeState };
  };
  const answeredLately = (): boolean => Date.now() - lastAnswer <= windowMs;
  return {
    upstreamAnswered() {
      lastAnswer = Date.now();
      latestNewsGood = true;
    },
    upstreamUnreachable() {
      latestNewsGood = false;
    },
    check: () => report(async () => {
      if (answeredLately()) return true;
      latestNewsGood = await probe(probeTimeoutMs);
      if (latestNewsGood) lastAnswer = Date.now();
      return latestNewsGood;
    }),
    lastVerdict: () => report(() => latestNewsGood),
  };
}
