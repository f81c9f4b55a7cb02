/** The in-memory SharedStore: one replica's cache (bounded LRU) and sliding-window budgets (bounded too). */
import Denque from 'denque';
import { LRUCache } from 'lru-cache';

import { BUDGET_WINDOW_MS, type BudgetAnswer, type BudgetReading, type CachedPage, type SharedStore } from './store';

export interface MemoryStoreOptions {
  /**
   * Identities whose budget window is remembered at once. Idle ones (no call in the last minute)
   * are forgotten first; when all are recent, a new identity pushes out the least recently
   * active one, which then starts afresh. That is the lesser harm: refusing newcomers instead
   * would let anyone with random tokens lock every new caller out of the gateway, while a
   * forgotten window lets one identity spend at most one extra minute's budget, and the cloud
   * throttles that user alone (RATE_LIMITED). @default 10_000
   */
  maxIdentities?: number;
  /** The clock of page expiry (ms, any origin). @default performance.now */
  now?: () => number;
}

export class MemoryStore implements SharedStore {
  private readonly pages: LRUCache<string, CachedPage>;
  /**
   * Per identity, the times of its admitted calls in the last window, oldest first. The map's
   * own order is that of each identity's latest admitted call (re-inserted on each), so the
   * identities that fall idle first are at its front: forgetting them costs O(1) amortised,
   * never a scan of the map. A deque, not an array: `Array#shift` copies the whole array once it
   * is large (15 µs at 110,000 times, a budget of a few thousand a minute), on every call.
   */
  private readonly windows = new Map<string, Denque<number>>();
  private readonly maxIdentities: number;

  /**
   * @param maxBytes a rough bound on the memory cached pages take (about 1 KB a row); expired
   *   pages are dropped on time rather than when pushed out, so an idle cache holds nothing.
   */
  constructor(maxBytes = 32 * 1024 * 1024, { maxIdentities = 10_000, now }: MemoryStoreOptions = {}) {
    if (!Number.isInteger(maxIdentities) || maxIdentities < 1) throw new RangeError(`maxIdentities must be a whole number >= 1, got ${maxIdentities}`);
    this.maxIdentities = maxIdentities;
    this.pages = new LRUCache({
      maxSize: maxBytes,
      sizeCalculation: (page) => 1024 * (1 + page.body.backups.length),
      ttlAutopurge: true,
      // An injected clock is read on every check (lru-cache otherwise reuses a reading for 1 ms of real time).
      ...(now ? { perf: { now }, ttlResolution: 0 } : {}),
    });
  }

  /** Identities whose budget window is remembered now (bounded by `maxIdentities`). */
  get identityCount(): number {
    return this.windows.size;
  }

  async getPage(key: string): Promise<CachedPage | undefined> {
    return this.pages.get(key);
  }

  async setPage(key: string, page: CachedPage, keepMs: number): Promise<void> {
    this.pages.set(key, page, { ttl: Math.max(1, keepMs) });
  }

  async takeBudget(identity: string, perMinute: number, now: number): Promise<BudgetAnswer> {
    const windowStart = now - BUDGET_WINDOW_MS;
    this.forgetIdle(windowStart);
    let window = this.windows.get(identity);
    if (window) {
      dropUntil(window, windowStart);
      if (window.length >= perMinute) return { ok: false, retryAfterSeconds: secondsUntil(window.peekFront()! + BUDGET_WINDOW_MS, now) };
      this.windows.delete(identity); // re-inserted below, at the back: the most recent
    } else {
      if (this.windows.size >= this.maxIdentities) this.forgetLeastRecent();
      window = new Denque<number>();
    }
    window.push(now);
    this.windows.set(identity, window);
    return { ok: true, remaining: perMinute - window.length };
  }

  /** Leaves the identity where it is in the map's order: reading a budget is not activity. */
  async readBudget(identity: string, perMinute: number, now: number): Promise<BudgetReading> {
    const window = this.windows.get(identity);
    if (window === undefined) return { remaining: perMinute, resetSeconds: 0 };
    const windowStart = now - BUDGET_WINDOW_MS;
    dropUntil(window, windowStart);
    if (window.length === 0) return { remaining: perMinute, resetSeconds: 0 };
    return { remaining: Math.max(0, perMinute - window.length), resetSeconds: secondsUntil(window.peekFront()! + BUDGET_WINDOW_MS, now) };
  }

  status(): { backend: 'memory'; healthy: boolean } {
    return { backend: 'memory', healthy: true };
  }

  async close(): Promise<void> {
    this.pages.clear();
    this.windows.clear();
  }

  /** Drops identities with no call after `windowStart`, from the front, stopping at the first that has one. */
  private forgetIdle(windowStart: number): void {
    for (const [identity, window] of this.windows) {
      if ((window.peekBack() ?? Number.NEGATIVE_INFINITY) > windowStart) return;
      this.windows.delete(identity);
    }
  }

  private forgetLeastRecent(): void {
    for (const identity of this.windows.keys()) {
      this.windows.delete(identity);
      return;
    }
  }
}

/** Drops the times at or before `windowStart` (oldest first). */
function dropUntil(window: Denque<number>, windowStart: number): void {
  while (window.length > 0 && window.peekFront()! <= windowStart) window.shift();
}

function secondsUntil(at: number, now: number): number {
  return Math.max(1, Math.ceil((at - now) / 1000));
}
