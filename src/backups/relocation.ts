/**
 * Drift-proof cursors: paging stays stable while backups come and go. The rows a cursor points at
 * are fetched in the same calls as the page and checked against the cursor's backup id; when they
 * differ, the list has shifted, and the backup is looked for again nearby. A cursor whose backup
 * is gone is CURSOR_STALE, never a guessed page.
 */
import { CursorStaleError, InvalidInputError } from '../errors/domain';
import { toWindow, type PageRequest, type Window } from '../pagination/connection';
import type { CursorPosition } from '../pagination/cursor';
import { MAX_UPSTREAM_OFFSET, UPSTREAM_MAX_LIMIT } from '../upstream/url';
import type { BackupList } from './lists';

/** How far from its old offset a cursor's backup is looked for (each side): one call's rows. */
export const RELOCATION_WINDOW = UPSTREAM_MAX_LIMIT;

/**
 * Refuses, before any call, cursors whose reads would reach offsets the upstream does not serve.
 * A cursor's binding is a hash of public values (instance, project, filter), so anyone can mint
 * one at any offset; without this, `first: 500` after a cursor at 2^31-1 made six calls, five of
 * them at offsets the upstream refuses. The furthest row read is the page after an `after`
 * cursor plus the relocation window past it, or the window past a `before` cursor (relocate()).
 * No list the upstream can page reaches such an offset, so the cursor is bad input, not stale.
 */
export function refuseUnreachable(first: number | undefined, after: CursorPosition | undefined, before: CursorPosition | undefined): void {
  const reach = (position: CursorPosition, pad: number): number => position.offset + 1 + RELOCATION_WINDOW + pad;
  for (const [argument, end] of [['after', after && reach(after, first ?? 0)], ['before', before && reach(before, 0)]] as const) {
    if (end !== undefined && end - 1 > MAX_UPSTREAM_OFFSET) {
      throw new InvalidInputError(`Argument "${argument}" is not a valid cursor: it points beyond any list the upstream can page.`);
    }
  }
}

/**
 * The window of the page to serve, its cursors placed where their backups are now: reads the
 * page with the rows its cursors point at, and moves each cursor whose backup has shifted to its
 * new offset (`after` and `before` are updated). The list's total must be known when the page
 * needs it (needsTotal()).
 */
export async function locatePage(list: BackupList, page: { first?: number; last?: number }, after: CursorPosition | undefined, before: CursorPosition | undefined): Promise<Window> {
  const request = (): PageRequest => ({ ...page, afterOffset: after?.offset, beforeOffset: before?.offset });
  const window = toWindow(request(), list.total);

  // The row each cursor points at is read with the page: in the same calls when it is right
  // next to the page (`first` after a cursor, `last` before one), else as one row of its own.
  // Never as one span from cursor to cursor: `first: 1` between cursors a million rows apart
  // would be ten thousand calls.
  const pageRead = { start: window.start, end: window.end };
  const apart: number[] = [];
  if (after) {
    if (after.offset === window.start - 1) pageRead.start = after.offset;
    else apart.push(after.offset);
  }
  if (before) {
    if (before.offset === window.end) pageRead.end = before.offset + 1;
    else apart.push(before.offset);
  }
  await Promise.all([list.range(pageRead.start, pageRead.end), ...apart.map((offset) => list.range(offset, offset + 1))]);
  const movedAfter = after && isMoved(list, after);
  const movedBefore = before && isMoved(list, before);
  // The pad is the page that will be served beside the relocated cursor: only `first` pages
  // sit after an `after` cursor, only `last` pages before a `before` cursor.
  if (movedAfter) after.offset = await relocate(list, after, { forwardPad: page.first ?? 0, backwardPad: 0 });
  if (movedBefore) before.offset = await relocate(list, before, { forwardPad: 0, backwardPad: page.last ?? 0 });
  return movedAfter || movedBefore ? toWindow(request(), list.total) : window;
}

/** Whether the row at a cursor's offset is no longer the backup the cursor was made on (v1 cursors carry no id: never). */
function isMoved(list: BackupList, position: CursorPosition): boolean {
  return position.id !== undefined && list.rowAt(position.offset)?.id !== position.id;
}

/**
 * The new offset of a cursor's backup, looked for within RELOCATION_WINDOW rows on each side:
 * first on the side its begin time points to (newer rows at its old offset mean it moved down),
 * then on the other. Each side is one read of RELOCATION_WINDOW rows past what the page read
 * already fetched, plus the page to serve next to it when the page sits on that side (the pad):
 * a shift costs one extra call, two when the order gives no hint (the proof is in cost.ts). A
 * backup found in the pad moved further than the window, and is CURSOR_STALE like one not
 * found: accepting it would need the page rows past the pad, more calls than the operation was
 * priced at.
 */
async function relocate(list: BackupList, position: CursorPosition, pads: { forwardPad: number; backwardPad: number }): Promise<number> {
  const at = list.rowAt(position.offset);
  const movedDown = at !== undefined && at.beginTime.getTime() >= (position.time ?? 0) * 1000;
  for (const side of movedDown ? ['forward', 'backward'] as const : ['backward', 'forward'] as const) {
    const start = side === 'forward' ? position.offset + 1 : Math.max(0, position.offset - RELOCATION_WINDOW - pads.backwardPad);
    const end = side === 'forward' ? position.offset + 1 + RELOCATION_WINDOW + pads.forwardPad : position.offset;
    if (start >= end || (side === 'forward' && list.total !== undefined && start >= list.total)) continue;
    const { rows } = await list.range(start, end);
    const found = rows.findIndex((row) => row.id === position.id);
    if (found !== -1 && Math.abs(start + found - position.offset) <= RELOCATION_WINDOW) return start + found;
  }
  throw new CursorStaleError();
}
