import { formatSize, parseRateLimit } from '../../web/console/format';

describe('formatSize()', () => {
  it('counts sizeKb in KiB and picks the largest unit that keeps the number at 1 or more', () => {
    expect(formatSize(0)).toBe('0 KB');
    expect(formatSize(512)).toBe('512 KB');
    expect(formatSize(1536)).toBe('1.5 MB');
    expect(formatSize(52_428_800)).toBe('50 GB');
    expect(formatSize(3_221_225_472)).toBe('3 TB');
  });

  it('stops at TB', () => {
    expect(formatSize(2 ** 41)).toMatch(/^2[,.\s]?048 TB$/);
  });
});

describe('parseRateLimit()', () => {
  it('reads the gateway\'s RateLimit header', () => {
    expect(parseRateLimit('limit=60, remaining=57, reset=42')).toEqual({ limit: 60, remaining: 57, reset: 42 });
  });

  it('is null when the header is absent (not exposed cross-origin) or not of that form', () => {
    expect(parseRateLimit(null)).toBeNull();
    expect(parseRateLimit('limit=60, remaining=x, reset=42')).toBeNull();
    expect(parseRateLimit('"default";r=50;t=30')).toBeNull();
  });
});
