/**
 * A LiveScheduler (src/live/polls.ts) on a clock of the test's own: timers fire only when the
 * test advances it, in time order, and the promises each one starts settle at its instant.
 * Work that settles on I/O rather than promise callbacks (a Redis command) joins in through
 * `waitFor`: it is awaited at each instant too.
 */
import type { LiveScheduler } from '../../src/live/polls';

/** Lets pending promise callbacks (and what they start) run. */
export const settle = async (): Promise<void> => {
  for (let n = 0; n < 5; n++) await new Promise<void>((resolve) => setImmediate(resolve));
};

export class ManualScheduler implements LiveScheduler {
  private time: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; run: () => void }>();
  /** Awaited at each instant, with the promise callbacks: e.g. a RedisCoordination's `settled()`. */
  readonly waitFor: Array<() => Promise<void>> = [];

  constructor(start = 1_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(run: () => void, ms: number): unknown {
    this.seq += 1;
    this.timers.set(this.seq, { at: this.time + Math.max(0, ms), run });
    return this.seq;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves the clock `ms` on, firing every timer due on the way at its own time. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await this.settleAll();
      let next: [number, { at: number; run: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (next === undefined || entry[1].at < next[1].at)) next = entry;
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].run();
    }
    this.time = end;
    await this.settleAll();
  }

  /** Settles promise callbacks and `waitFor`, a few rounds: one's answer may start the other. */
  private async settleAll(): Promise<void> {
    await settle();
    for (let round = 0; round < 3 && this.waitFor.length > 0; round++) {
      for (const wait of this.waitFor) await wait();
      await settle();
    }
  }
}
