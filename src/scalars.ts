/**
 * The schema's custom scalars: `DateTime` (RFC 3339 in UTC, written by toIsoUtc) and `SafeInt`.
 */
import { GraphQLScalarType } from 'graphql';
import { GraphQLDateTime, GraphQLSafeInt } from 'graphql-scalars';

/** The character code of the digit of `n` at `unit` (1, 10, 100...). */
const digitAt = (n: number, unit: number): number => 48 + (Math.floor(n / unit) % 10);

/**
 * `new Date(ms).toISOString()` for years 0 to 9999, about ten times faster: it runs for every
 * time of every row served, and toISOString took about 1 µs each. Days to civil date after
 * Howard Hinnant's `civil_from_days`. The string is made in one piece from character codes: a
 * template literal of its parts made a rope that JSON.stringify then had to flatten, which cost
 * more than making it.
 */
export function toIsoUtc(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  const msOfDay = ms - days * 86_400_000;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const h = Math.floor(msOfDay / 3_600_000);
  const m = Math.floor((msOfDay % 3_600_000) / 60_000);
  const s = Math.floor((msOfDay % 60_000) / 1000);
  const milli = msOfDay % 1000;
  // '-' 45, 'T' 84, ':' 58, '.' 46, 'Z' 90
  return String.fromCharCode(
    digitAt(year, 1000), digitAt(year, 100), digitAt(year, 10), digitAt(year, 1), 45, digitAt(month, 10), digitAt(month, 1), 45,
    digitAt(day, 10), digitAt(day, 1), 84, digitAt(h, 10), digitAt(h, 1), 58, digitAt(m, 10), digitAt(m, 1), 58,
    digitAt(s, 10), digitAt(s, 1), 46, digitAt(milli, 100), digitAt(milli, 10), digitAt(milli, 1), 90,
  );
}

/**
 * graphql-scalars' DateTime, serialising to the RFC 3339 string itself: it returns the Date, and
 * JSON.stringify then calls Date#toJSON from native code, which made serialising a page of 20
 * backups about 4 times slower (96 µs instead of 26 µs, measured on this machine); toIsoUtc
 * writes the same string as toISOString in a tenth of its time.
 */
export const DateTime = new GraphQLScalarType({
  ...GraphQLDateTime.toConfig(),
  serialize: (value) => (value instanceof Date && Number.isFinite(value.getTime()) ? toIsoUtc(value.getTime()) : GraphQLDateTime.serialize(value)),
});

/** Integers within ±(2^53 - 1), graphql-scalars' own. */
export const SafeInt = GraphQLSafeInt;
