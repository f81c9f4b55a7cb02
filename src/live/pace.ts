/**
 * How often the live polls of one caller identity may call upstream: together at most half its
 * budget (DESIGN.md, "Live changes"), so that its queries keep the other half. Two parts:
 *
 * - the interval of each key stretches with the number of keys the identity watches
 *   (`pollInterval()`), which spreads the polls evenly;
 * - a log of the identity's poll calls over the last minute holds a poll back while the half is
 *   spent (`IdentityPace.waitMs()`). The interval alone is not enough: polls of keys that start
 *   together, or of keys whose interval was shorter before another key joined, can bunch into
 *   one minute.
 *
 * A poll held back here is delayed, not skipped: skipping is for a poll that the shared budget
 * itself refuses (the identity's queries spent it).
 */
import Denque from 'denque';

import { BUDGET_WINDOW_MS } from '../shared-upstream/store';

/** Calls of an identity's polls per minute: half its budget, and at least one (a budget of 1 still gets a poll a minute). */
export function pollsPerMinute(budgetPerMinute: number): number {
  return Math.max(1, Math.floor(budgetPerMinute / 2));
}

/** The interval of each of an identity's `keys` live keys: `baseMs`, or longer so that together they poll `pollsPerMinute()` times a minute. */
export function pollInterval(baseMs: number, keys: number, budgetPerMinute: number): number {
  return Math.max(baseMs, Math.ceil((Math.max(1, keys) * BUDGET_WINDOW_MS) / pollsPerMinute(budgetPerMinute)));
}

/** The live keys of one identity and the times of their poll calls in the last minute. */
export class IdentityPace {
  /** Live keys of this identity being polled. */
  keys = 0;
  private readonly calls = new Denque<number>();

  constructor(private readonly perMinute: number) {}

  /**
   * Milliseconds until a poll may call (0: now). A call exactly a minute old still counts: the
   * shared budget's window may count it too (its clock and this one are read at different moments).
   */
  waitMs(now: number): number {
    this.forgetBefore(now - BUDGET_WINDOW_MS);
    if (this.calls.length < this.perMinute) return 0;
    return this.calls.peekFront()! + BUDGET_WINDOW_MS + 1 - now;
  }

  /** Whether no call of the last minute counts any more. */
  idle(now: number): boolean {
    this.forgetBefore(now - BUDGET_WINDOW_MS);
    return this.calls.length === 0;
  }

  /** A poll called upstream (each retry of it too). */
  record(now: number): void {
    this.calls.push(now);
  }

  private forgetBefore(start: number): void {
    while (this.calls.length > 0 && this.calls.peekFront()! < start) this.calls.shift();
  }
}
