/** What the console's table shows: sizes in binary units, local times, and the RateLimit header read. */

const UNITS = ['KB', 'MB', 'GB', 'TB'] as const;
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const localTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** `sizeKb` (the API counts KiB) in the largest unit that keeps the number at 1 or more: 52428800 → "50 GB". */
export function formatSize(kb: number): string {
  let value = kb;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${decimal.format(value)} ${UNITS[unit]}`;
}

/** An RFC 3339 instant (the API answers in UTC) in the browser's time zone and language. */
export function formatTime(iso: string): string {
  return localTime.format(new Date(iso));
}

/** The caller's upstream budget: calls allowed per window, left in this one, seconds until it refills. */
export interface RateLimit {
  limit: number;
  remaining: number;
  reset: number;
}

/** `limit=60, remaining=57, reset=42` (the gateway's `RateLimit` header) → its numbers; null when absent or malformed. */
export function parseRateLimit(header: string | null): RateLimit | null {
  if (!header) return null;
  const fields = new Map(header.split(',').map((part) => part.trim().split('=') as [string, string]));
  const [limit, remaining, reset] = ['limit', 'remaining', 'reset'].map((name) => Number(fields.get(name) ?? NaN));
  return Number.isInteger(limit) && Number.isInteger(remaining) && Number.isInteger(reset) ? { limit: limit!, remaining: remaining!, reset: reset! } : null;
}
