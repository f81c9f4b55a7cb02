/**
 * Sliding-window throttling per caller, as the API gateway applies it (60 calls a minute by default).
 *
 * Memory is bounded however many callers come and go: a caller whose window is empty (no call
 * counted in the last minute) is forgotten, and past `maxCallers` the least recently counted
 * caller is forgotten too, window and all, so it may briefly get more than its limit. The cloud
 * would not do that; for a simulator it is the better trade than unbounded growth.
 */
export class Throttle {
  /** Each caller's call times in the last minute, oldest first; the Map's order is that of each caller's latest counted call. */
  private readonly windows = new Map<string, number[]>();

  constructor(public perMinute: number, private readonly now: () => number = Date.now, readonly maxCallers = 10_000) {
    if (!Number.isInteger(maxCallers) || maxCallers < 1) throw new RangeError(`maxCallers is a whole number of at least 1, got ${maxCallers}`);
  }

  /** Callers remembered now. */
  get size(): number {
    return this.windows.size;
  }

  /** Records a call, or returns the seconds to wait when the caller is over its limit. */
  take(caller: string): { ok: true } | { ok: false; retryAfterSeconds: number } {
    if (this.perMinute <= 0) return { ok: true };
    const now = this.now();
    this.forgetIdle(now);
    const window = (this.windows.get(caller) ?? []).filter((t) => t > now - 60_000);
    if (window.length >= this.perMinute) {
      this.windows.set(caller, window); // a refusal is not a counted call: the caller keeps its place
      const oldest = window[0] ?? now;
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + 60_000 - now) / 1000)) };
    }
    window.push(now);
    this.windows.delete(caller); // re-inserted last: the most recently counted caller
    this.windows.set(caller, window);
    if (this.windows.size > this.maxCallers) this.windows.delete(this.windows.keys().next().value!);
    return { ok: true };
  }

  reset(): void {
    this.windows.clear();
  }

  /**
   * Drops callers whose latest counted call is over a minute old. They lead the Map (its order
   * is that of the latest counted call), so this stops at the first caller still active: O(1)
   * amortised.
   */
  private forgetIdle(now: number): void {
    for (const [caller, window] of this.windows) {
      const latest = window[window.length - 1];
      if (latest !== undefined && latest > now - 60_000) return;
      this.windows.delete(caller);
    }
  }
}
