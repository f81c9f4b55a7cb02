import { parseUpstreamTime, toUpstreamTime } from '../../src/upstream/time';

describe('toUpstreamTime()', () => {
  it('writes UTC to the second with +0000', () => {
    expect(toUpstreamTime(new Date('2026-10-31T16:00:00.999Z'))).toBe('2026-10-31T16:00:00+0000');
    expect(toUpstreamTime(new Date('2026-11-01T00:00:00+08:00'))).toBe('2026-10-31T16:00:00+0000');
  });
});

describe('parseUpstreamTime()', () => {
  it.each([
    ['2018-08-06T12:41:14+0800', '2018-08-06T04:41:14.000Z'],
    ['2018-08-06T12:41:14-0530', '2018-08-06T18:11:14.000Z'],
    ['2018-08-06T12:41:14+08:00', '2018-08-06T04:41:14.000Z'],
    ['2018-08-06T12:41:14Z', '2018-08-06T12:41:14.000Z'],
    ['2018-08-06T12:41:14.250+0000', '2018-08-06T12:41:14.250Z'],
    ['2024-02-29T00:00:00+0000', '2024-02-29T00:00:00.000Z'],
  ])('reads %s as %s', (wire, iso) => {
    expect(parseUpstreamTime(wire)?.toISOString()).toBe(iso);
  });

  it.each(['', '2018-08-06', '2018-08-06 12:41:14+0800', '2018-08-06T12:41:14 0800', '2018-08-06T12:41:14', '2026-02-30T00:00:00+0800', '2023-02-29T00:00:00+0000', '2018-13-06T12:41:14+0800', 'yesterday'])(
    'refuses %j', (wire) => expect(parseUpstreamTime(wire)).toBeNull(),
  );
});

describe('parseUpstreamTime() on the API\'s own form', () => {
  it('agrees with Date.parse on 2,000 random instants and offsets', () => {
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor(random() * 4e12) * 1000 % 4e12;
      const offset = Math.floor(random() * 27 - 13) * 60 + (random() < 0.2 ? 30 : 0);
      const local = new Date(Math.floor(ms / 1000) * 1000 + offset * 60_000).toISOString().slice(0, 19);
      const sign = offset < 0 ? '-' : '+';
      const hh = String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0');
      const mm = String(Math.abs(offset) % 60).padStart(2, '0');
      expect(parseUpstreamTime(`${local}${sign}${hh}${mm}`)?.getTime()).toBe(Date.parse(`${local}${sign}${hh}:${mm}`));
    }
  });
});
