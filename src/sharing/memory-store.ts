/** The in-memory SharedStore: one replica's cache (bounded LRU) and sliding-window budgets. */
import { LRUCache } from 'lru-cache';

import { BUDGET_WINDOW_MS, type BudgetAnswer, type CachedPage, type SharedStore } from './store';

export class MemoryStore implements SharedStore {
  private readonly pages: LRUCache<string, CachedPage>;
  /** Per identity, the times of the calls in the last window, oldest first. */
  private readonly windows = new Map<string, number[]>();

  /**
   * @param maxBytes a rough bound on the memory cached pages take (about 1 KB a row); expired
   *   pages are dropped on time rather than when pushed out, so an idle cache holds nothing.
   */
  constructor(maxBytes = 32 * 1024 * 1024) {
    this.pages = new LRUCache({
      maxSize: maxBytes,
      sizeCalculation: (page) => 1024 * (1 + page.body.backups.length),
      ttlAutopurge: true,
    });
  }

  async getPage(key: string): Promise<CachedPage | undefined> {
    return this.pages.get(key);
  }

  async setPage(key: string, page: CachedPage, keepMs: number): Promise<void> {
    this.pages.set(key, page, { ttl: Math.max(1, keepMs) });
  }

  async takeBudget(identity: string, perMinute: number, now: number): Promise<BudgetAnswer> {
    const window = this.windows.get(identity) ?? [];
    while (window.length > 0 && window[0]! <= now - BUDGET_WINDOW_MS) window.shift();
    if (window.length >= perMinute) {
      this.windows.set(identity, window);
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((window[0]! + BUDGET_WINDOW_MS - now) / 1000)) };
    }
    window.push(now);
    this.windows.set(identity, window);
    if (this.windows.size > 10_000) this.forgetIdle(now);
    return { ok: true, remaining: perMinute - window.length };
  }

  status(): { backend: 'memory'; healthy: boolean } {
    return { backend: 'memory', healthy: true };
  }

  async close(): Promise<void> {
    this.pages.clear();
  }

  private forgetIdle(now: number): void {
    for (const [identity, window] of this.windows) if ((window.at(-1) ?? 0) <= now - BUDGET_WINDOW_MS) this.windows.delete(identity);
  }
}
