import { isId } from '../src/ids';

describe('isId()', () => {
  it('takes tokens of 1 to 64 letters, digits, - and _', () => {
    expect(isId('a')).toBe(true);
    expect(isId('A-b_9'.padEnd(64, 'x'))).toBe(true);
    expect(isId('x'.repeat(65))).toBe(false);
    expect(isId('')).toBe(false);
    expect(isId('a b')).toBe(false);
  });

  // RegExp#test stringifies its argument: undefined was the id "undefined", ["x"] the id "x".
  it.each([[undefined], [null], [['x']], [5], [{ toString: () => 'x' }], [true]])('is false for the non-string %p', (value) => {
    expect(isId(value)).toBe(false);
  });
});
