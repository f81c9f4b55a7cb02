/** The cost model of backups' reads (src/backups/cost.ts): the calls a span of rows takes. */
import { spanCalls } from '../../src/backups/cost';

describe('spanCalls()', () => {
  it('reads r rows from offset 0 in ceil(r/100) calls, and at least one', () => {
    expect([0, 1, 100, 101, 500].map((r) => spanCalls(r, true))).toEqual([1, 1, 1, 2, 5]);
  });

  it('allows one chunk more from any other offset (chunks aligned to 100)', () => {
    // rows 99..100 span chunks 0 and 1; rows 99..199 still two; rows 99..200 three
    expect([1, 2, 100, 101, 102].map((r) => spanCalls(r, false))).toEqual([1, 2, 2, 2, 3]);
  });
});
