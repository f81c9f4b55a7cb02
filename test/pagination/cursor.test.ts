import { cursorBinding, cursorToOffset, offsetToCursor } from '../../src/pagination/cursor';
import { InvalidInputError } from '../../src/errors/domain';

const BIG = 'aec672cf5aee9078c91de1d099c4d0d3in01';
const PROJECT = '0123456789abcdef0123456789abcdef';

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

describe('offsetToCursor() / cursorToOffset()', () => {
  const binding = '3Y_d7cWj2aOo';

  it('writes the pinned wire format: base64url of v1:<binding>:<offset>', () => {
    expect(offsetToCursor(binding, 0)).toBe('djE6M1lfZDdjV2oyYU9vOjA');
    expect(offsetToCursor(binding, 19)).toBe('djE6M1lfZDdjV2oyYU9vOjE5');
    expect(offsetToCursor(binding, 1233)).toBe('djE6M1lfZDdjV2oyYU9vOjEyMzM');
  });

  it('reads back the offset it wrote', () => {
    for (const offset of [0, 1, 99, 100, 1233, 2 ** 31 - 1]) expect(cursorToOffset(offsetToCursor(binding, offset), binding, 'after')).toBe(offset);
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'djE6+/=='],
    ['too long', 'a'.repeat(200)],
    ['of another shape', Buffer.from('offset:5').toString('base64url')],
    ['of another version', Buffer.from(`v2:${binding}:5`).toString('base64url')],
    ['with a negative offset', Buffer.from(`v1:${binding}:-1`).toString('base64url')],
    ['with a leading zero', Buffer.from(`v1:${binding}:05`).toString('base64url')],
    ['with an offset beyond 2^31-1', Buffer.from(`v1:${binding}:2147483648`).toString('base64url')],
    ['of another list', offsetToCursor('AAAAAAAAAAAA', 5)],
  ])('refuses a cursor %s, naming the argument', (_name, cursor) => {
    expect(() => cursorToOffset(cursor, binding, 'before')).toThrow(InvalidInputError);
    expect(() => cursorToOffset(cursor, binding, 'before')).toThrow(/"before"/);
  });
});
