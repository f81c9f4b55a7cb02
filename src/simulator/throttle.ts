/** Sliding-window throttling per caller, as the API gateway applies it (60 calls a minute by default). */
export class Throttle {
  private readonly windows = new Map<string, number[]>();

  constructor(public perMinute: number, private readonly now: () => number = Date.now) {}

  /** Records a call, or returns the seconds to wait when the caller is over its limit. */
  take(caller: string): { ok: true } | { ok: false; retryAfterSeconds: number } {
    if (this.perMinute <= 0) return { ok: true };
    const now = this.now();
    const window = (this.windows.get(caller) ?? []).filter((t) => t > now - 60_000);
    if (window.length >= this.perMinute) {
      this.windows.set(caller, window);
      const oldest = window[0] ?? now;
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + 60_000 - now) / 1000)) };
    }
    window.push(now);
    this.windows.set(caller, window);
    return { ok: true };
  }

  reset(): void {
    this.windows.clear();
  }
}
