/**
 * What replicas share: cached upstream pages and the upstream budget of each caller identity.
 * In memory by default (memory-store.ts); through Redis with REDIS_URL (redis-store.ts).
 */
import type { ListBackupsResponseDTO } from '../upstream/wire';

export interface CachedPage {
  body: ListBackupsResponseDTO;
  requestId?: string;
  /** When the upstream answered (epoch ms). */
  fetchedAt: number;
}

/** `remaining`: calls left in the window after this one. */
export type BudgetAnswer = { ok: true; remaining: number } | { ok: false; retryAfterSeconds: number };

/**
 * An identity's budget as it stands, read without spending any: calls left in the window, and
 * the seconds until the oldest counted call leaves it (one more call becomes available; what
 * `retryAfterSeconds` says once nothing is left), 0 when none is counted.
 */
export interface BudgetReading {
  remaining: number;
  resetSeconds: number;
}

export interface SharedStore {
  getPage(key: string): Promise<CachedPage | undefined>;
  /** Keeps a page for `keepMs` (its TTL plus the time it may be served stale). */
  setPage(key: string, page: CachedPage, keepMs: number): Promise<void>;
  /**
   * Counts one upstream call against `identity` if fewer than `perMinute` were counted in the
   * minute before `now` (a sliding window, as the cloud throttles); otherwise says when to retry.
   */
  takeBudget(identity: string, perMinute: number, now: number): Promise<BudgetAnswer>;
  /** The budget of `identity` at `now`, spending nothing (the RateLimit headers). */
  readBudget(identity: string, perMinute: number, now: number): Promise<BudgetReading>;
  /** For logs and readiness: where state lives now. */
  status(): { backend: 'memory' | 'redis'; healthy: boolean };
  close(): Promise<void>;
}

export const BUDGET_WINDOW_MS = 60_000;
