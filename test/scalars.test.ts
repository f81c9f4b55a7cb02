import { DateTime, toIsoUtc } from '../src/scalars';

describe('toIsoUtc()', () => {
  it('writes what Date#toISOString writes, from year 0 to 9999', () => {
    const edges = [0, -1, 1, 951_782_400_000, 951_868_799_999, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(0, 0, 1) - 1970 * 0, -62_167_219_200_000];
    let seed = 11;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const samples = [...edges, ...Array.from({ length: 5000 }, () => Math.floor(random() * 315_537_897_599_999) - 62_167_219_200_000)];
    for (const ms of samples) expect(toIsoUtc(ms)).toBe(new Date(ms).toISOString());
  });
});

describe('DateTime', () => {
  it('serialises a Date to its RFC 3339 string in UTC', () => {
    expect(DateTime.serialize(new Date('2018-08-06T12:41:14+0800'))).toBe('2018-08-06T04:41:14.000Z');
  });
});
