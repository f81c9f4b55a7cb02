import { cursorBinding, fromCursor, toCursor } from '../../src/pagination/cursor';
import { InvalidInputError } from '../../src/errors/domain';

const BIG = 'aec672cf5aee9078c91de1d099c4d0d3in01';
const PROJECT = '0123456789abcdef0123456789abcdef';
const BACKUP = 'fcbecf0fcd562c259a33459436aade41br01';

describe('cursorBinding()', () => {
  it('is a pinned 12-character hash of instance, project and filter', () => {
    expect(cursorBinding([BIG, PROJECT, '||||'])).toBe('3Y_d7cWj2aOo');
  });

  it('differs when any part differs, including how parts split', () => {
    const base = cursorBinding([BIG, PROJECT, '||||']);
    expect(cursorBinding([BIG, 'other-project', '||||'])).not.toBe(base);
    expect(cursorBinding([BIG, PROJECT, '|AUTO|||'])).not.toBe(base);
    expect(cursorBinding(['ab', 'c'])).not.toBe(cursorBinding(['a', 'bc']));
  });
});

describe('toCursor() / fromCursor()', () => {
  const binding = '3Y_d7cWj2aOo';
  const at = (offset: number) => ({ offset, time: 1793577540, id: BACKUP });

  it('writes the pinned wire format: base64url of v2:<binding>:<offset>:<time>:<id>', () => {
    expect(toCursor(binding, at(0))).toBe('djI6M1lfZDdjV2oyYU9vOjA6MTc5MzU3NzU0MDpmY2JlY2YwZmNkNTYyYzI1OWEzMzQ1OTQzNmFhZGU0MWJyMDE');
    expect(toCursor(binding, at(1233))).toBe('djI6M1lfZDdjV2oyYU9vOjEyMzM6MTc5MzU3NzU0MDpmY2JlY2YwZmNkNTYyYzI1OWEzMzQ1OTQzNmFhZGU0MWJyMDE');
  });

  it('reads back the position it wrote', () => {
    for (const offset of [0, 1, 99, 100, 1233, 2 ** 31 - 1]) expect(fromCursor(toCursor(binding, at(offset)), binding, 'after')).toEqual(at(offset));
    expect(fromCursor(toCursor(binding, { offset: 3, time: 0, id: 'odd:id' }), binding, 'after')).toEqual({ offset: 3, time: 0, id: 'odd:id' });
  });

  it('still reads version 1 cursors (offset only)', () => {
    expect(fromCursor('djE6M1lfZDdjV2oyYU9vOjE5', binding, 'after')).toEqual({ offset: 19 });
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'djE6+/=='],
    ['too long', 'a'.repeat(300)],
    ['of another shape', Buffer.from('offset:5').toString('base64url')],
    ['of another version', Buffer.from(`v3:${binding}:5:1:x`).toString('base64url')],
    ['with a negative offset', Buffer.from(`v2:${binding}:-1:1:x`).toString('base64url')],
    ['with a leading zero', Buffer.from(`v2:${binding}:05:1:x`).toString('base64url')],
    ['with an offset beyond 2^31-1', Buffer.from(`v2:${binding}:2147483648:1:x`).toString('base64url')],
    ['without an id', Buffer.from(`v2:${binding}:5:1:`).toString('base64url')],
    ['with a time that is not a number', Buffer.from(`v2:${binding}:5:soon:x`).toString('base64url')],
    ['version 1 with extra parts', Buffer.from(`v1:${binding}:5:1`).toString('base64url')],
    ['of another list', toCursor('AAAAAAAAAAAA', at(5))],
  ])('refuses a cursor %s, naming the argument', (_name, cursor) => {
    expect(() => fromCursor(cursor, binding, 'before')).toThrow(InvalidInputError);
    expect(() => fromCursor(cursor, binding, 'before')).toThrow(/"before"/);
  });
});
