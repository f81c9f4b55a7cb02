import { checkPageArgs, needsTotal, toConnection, toWindow } from '../../src/pagination/connection';
import { InvalidInputError } from '../../src/errors/domain';

describe('checkPageArgs()', () => {
  it('defaults to the first 20', () => expect(checkPageArgs({}, 500)).toEqual({ first: 20 }));
  it('passes first or last through, 0 included', () => {
    expect(checkPageArgs({ first: 0 }, 500)).toEqual({ first: 0, last: undefined });
    expect(checkPageArgs({ last: 500, first: null }, 500)).toEqual({ first: undefined, last: 500 });
  });
  it.each([[{ first: 1, last: 1 }], [{ first: -1 }], [{ last: -1 }], [{ first: 501 }], [{ last: 501 }]])('refuses %j', (args) => {
    expect(() => checkPageArgs(args, 500)).toThrow(InvalidInputError);
  });
});

describe('toWindow()', () => {
  it('places first/after from the start', () => {
    expect(toWindow({ first: 20 })).toEqual({ start: 0, end: 20 });
    expect(toWindow({ first: 20, afterOffset: 19 })).toEqual({ start: 20, end: 40 });
    expect(toWindow({ first: 20, afterOffset: 19 }, 30)).toEqual({ start: 20, end: 30 });
    expect(toWindow({ first: 0, afterOffset: 4 })).toEqual({ start: 5, end: 5 });
  });

  it('respects last and before', () => {
    expect(toWindow({ last: 10, beforeOffset: 25 })).toEqual({ start: 15, end: 25 });
    expect(toWindow({ last: 10, beforeOffset: 5 })).toEqual({ start: 0, end: 5 });
    expect(toWindow({ last: 10 }, 1234)).toEqual({ start: 1224, end: 1234 });
    expect(toWindow({ last: 10 }, 4)).toEqual({ start: 0, end: 4 });
  });

  it('combines after and before', () => {
    expect(toWindow({ first: 20, afterOffset: 1, beforeOffset: 6 })).toEqual({ start: 2, end: 6 });
    expect(toWindow({ last: 2, afterOffset: 1, beforeOffset: 6 })).toEqual({ start: 4, end: 6 });
    expect(toWindow({ first: 20, afterOffset: 8, beforeOffset: 3 })).toEqual({ start: 9, end: 9 });
  });

  it('needs the total only for last without before', () => {
    expect(needsTotal({ last: 5 })).toBe(true);
    expect(needsTotal({ last: 5, beforeOffset: 9 })).toBe(false);
    expect(needsTotal({ first: 5 })).toBe(false);
    expect(() => toWindow({ last: 5 })).toThrow(/needs the total/);
  });
});

describe('toConnection()', () => {
  const cursorAt = (o: number) => `c${o}`;

  it('builds edges, nodes and exact page info from offsets', () => {
    expect(toConnection(['x', 'y'], 10, 30, cursorAt)).toEqual({
      edges: [{ cursor: 'c10', node: 'x' }, { cursor: 'c11', node: 'y' }],
      nodes: ['x', 'y'],
      pageInfo: { hasPreviousPage: true, hasNextPage: true, startCursor: 'c10', endCursor: 'c11' },
      totalCount: 30,
    });
  });

  it('knows the first and the last page', () => {
    expect(toConnection(['x'], 0, 1, cursorAt).pageInfo).toEqual({ hasPreviousPage: false, hasNextPage: false, startCursor: 'c0', endCursor: 'c0' });
    expect(toConnection(['x', 'y'], 28, 30, cursorAt).pageInfo.hasNextPage).toBe(false);
  });

  it('gives null cursors for an empty page, and previous pages past the end', () => {
    expect(toConnection([], 0, 0, cursorAt).pageInfo).toEqual({ hasPreviousPage: false, hasNextPage: false, startCursor: null, endCursor: null });
    expect(toConnection([], 40, 30, cursorAt).pageInfo).toEqual({ hasPreviousPage: true, hasNextPage: false, startCursor: null, endCursor: null });
    expect(toConnection([], 5, 30, cursorAt).pageInfo.hasNextPage).toBe(true);
  });
});
