/**
 * Relay connections over offset/limit, as pure functions: which rows a page needs, and the
 * connection built from them. Nothing here imports GraphQL or HTTP.
 */
import { InvalidInputError } from '../errors/domain';

export interface PageArgs {
  first?: number | null;
  last?: number | null;
}

/** A page request with cursors already decoded to offsets. */
export interface PageRequest {
  first?: number;
  last?: number;
  /** Offset of the `after` cursor: the page starts right after it. */
  afterOffset?: number;
  /** Offset of the `before` cursor: the page ends right before it. */
  beforeOffset?: number;
}

/** Rows [start, end) of the list. */
export interface Window {
  start: number;
  end: number;
}

export interface PageInfoModel {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export const DEFAULT_PAGE_SIZE = 20;

/** Checks `first`/`last`: not both, not negative, not above `maxPageSize`. Neither means the first 20. */
export function checkPageArgs(args: PageArgs, maxPageSize: number): { first?: number; last?: number } {
  const first = args.first ?? undefined;
  const last = args.last ?? undefined;
  if (first !== undefined && last !== undefined) throw new InvalidInputError('Give "first" or "last", not both.');
  for (const [name, value] of [['first', first], ['last', last]] as const) {
    if (value !== undefined && (value < 0 || value > maxPageSize)) {
      throw new InvalidInputError(`Argument "${name}" must be from 0 to ${maxPageSize}, got ${value}.`);
    }
  }
  return first === undefined && last === undefined ? { first: DEFAULT_PAGE_SIZE } : { first, last };
}

/** Whether the window can only be placed once the list's total is known (`last` without `before`). */
export function needsTotal(req: PageRequest): boolean {
  return req.last !== undefined && req.beforeOffset === undefined;
}

/**
 * The rows a page covers, as graphql-relay's algorithm places them, on offsets. `total` may be
 * unknown unless `needsTotal(req)`; when known, the window is clipped to it.
 */
export function toWindow(req: PageRequest, total?: number): Window {
  let start = req.afterOffset === undefined ? 0 : req.afterOffset + 1;
  let end = req.beforeOffset ?? total ?? Number.POSITIVE_INFINITY;
  if (req.first !== undefined) end = Math.min(end, start + req.first);
  if (req.last !== undefined) {
    if (!Number.isFinite(end)) throw new Error('toWindow: `last` without `before` needs the total');
    start = Math.max(start, end - req.last);
  }
  if (total !== undefined) end = Math.min(end, total);
  return { start, end: Math.max(start, end) };
}

/** The connection of a page: edges with cursors, and exact page info from the offsets. */
export function toConnection<T>(rows: readonly T[], start: number, total: number, cursorAt: (offset: number, node: T) => string) {
  const edges = rows.map((node, i) => ({ cursor: cursorAt(start + i, node), node }));
  const pageInfo: PageInfoModel = {
    hasPreviousPage: Math.min(start, total) > 0,
    hasNextPage: start + rows.length < total,
    startCursor: edges[0]?.cursor ?? null,
    endCursor: edges[edges.length - 1]?.cursor ?? null,
  };
  return { edges, nodes: rows as T[], pageInfo, totalCount: total };
}
