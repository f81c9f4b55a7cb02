/** The pace of one identity's live polls: half its budget, spread over its keys. */
import { IdentityPace, pollInterval, pollsPerMinute } from '../../src/live/pace';

describe('pollInterval()', () => {
  it('is the base interval while the keys fit in half the budget, then stretches: k keys, k × 60 s / (budget / 2)', () => {
    expect(pollInterval(10_000, 1, 60)).toBe(10_000);
    expect(pollInterval(10_000, 5, 60)).toBe(10_000);
    expect(pollInterval(10_000, 6, 60)).toBe(12_000);
    expect(pollInterval(10_000, 30, 60)).toBe(60_000);
    expect(pollInterval(10_000, 30, 61)).toBe(60_000); // half of 61 is 30 calls
  });

  it('gives a budget of 1 one poll a minute rather than none', () => {
    expect(pollsPerMinute(1)).toBe(1);
    expect(pollInterval(10_000, 1, 1)).toBe(60_000);
    expect(pollInterval(10_000, 0, 60)).toBe(10_000);
  });
});

describe('IdentityPace', () => {
  it('lets polls call until half the budget is spent in a minute, then says when the oldest call leaves the minute', () => {
    const pace = new IdentityPace(2);
    expect(pace.waitMs(0)).toBe(0);
    pace.record(0);
    pace.record(1000);
    expect(pace.waitMs(5000)).toBe(55_001);
    expect(pace.waitMs(60_000)).toBe(1); // a call exactly a minute old still counts
    expect(pace.waitMs(60_001)).toBe(0);
    expect(pace.idle(60_001)).toBe(false);
    expect(pace.idle(61_001)).toBe(true);
  });
});
