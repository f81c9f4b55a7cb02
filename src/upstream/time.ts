/**
 * The upstream's time format: `yyyy-mm-ddThh:mm:ss±hhmm` (offset without colon, e.g. `+0800`).
 * No SDK parses it; `Date.parse` does not accept `+0800`, so the offset is rewritten with a colon.
 */

/** Formats an instant for a query parameter, in UTC and to the second: `2026-10-31T16:00:00+0000`. */
export function toUpstreamTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+0000`;
}

const UPSTREAM_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):?(\d{2}))$/;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Parses an upstream time to an instant, or returns null if it is not one.
 * Accepts `+0800` (what the API writes), `+08:00` and `Z` (what a future API might write).
 *
 * Fields are read with one regex and `Date.UTC` rather than `Date.parse` (which refuses `+0800`
 * and rolls 2026-02-30 over to March): this runs for every time of every row, and the earlier
 * rewrite-then-`Date.parse`-then-check version took about 10% of the CPU of a page request.
 */
export function parseUpstreamTime(value: string): Date | null {
  const m = UPSTREAM_TIME.exec(value);
  if (!m) return null;
  const year = +m[1]!, month = +m[2]!, day = +m[3]!, hour = +m[4]!, minute = +m[5]!, second = +m[6]!;
  if (month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]! || hour > 23 || minute > 59 || second > 59) return null;
  if (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return null;
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  const offsetMinutes = m[8] === 'Z' ? 0 : (m[9] === '-' ? -1 : 1) * (+m[10]! * 60 + +m[11]!);
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000);
}
