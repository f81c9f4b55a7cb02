/**
 * The changes between two polls of one live key (DESIGN.md, "Live changes"): pure, no I/O. A
 * window is the newest rows of an instance under a filter (at most LIVE_WINDOW, newest first),
 * as the upstream returned them.
 *
 * - ADDED: in the new window, not in the old one, and newer than the old window's oldest row.
 * - REMOVED: in the old window, missing from the new one, and newer than the new window's oldest row.
 * - UPDATED: in both, with `status`, `sizeKb`, `endTime` or `name` changed.
 * - A row pushed out of the window by newer ones is not an event, nor is an older row that
 *   moves into it when a newer one goes.
 *
 * Two decisions the contract leaves open, taken here:
 * - "Newer" is the order (beginTime, then id): a later begin time is newer; for equal begin
 *   times the greater id (compared as strings) is. A total order that does not depend on how the
 *   upstream happens to order ties, so a row never counts as both inside and outside the bound.
 * - A window with fewer than LIVE_WINDOW rows is the whole list: nothing lies past its end, so it
 *   has no oldest-row bound. Without this, deleting the oldest backup of a short list (or the
 *   last one) would never be REMOVED, and a backup added with an old begin time (or one that
 *   starts matching the filter) to a short list would never be ADDED.
 *
 * The first poll of a key has no previous window: it is the baseline and yields no event (a
 * client subscribes first, then queries, so it reads that state itself).
 */
import { UPSTREAM_MAX_LIMIT } from '../upstream/url';
import type { Backup } from '../backups/model';
import type { BackupChangeKind } from './source';

/** Rows a live key watches: the upstream's largest page, so one call per poll. */
export const LIVE_WINDOW = UPSTREAM_MAX_LIMIT;

/** One change, before its poll's totalCount is attached. */
export interface BackupChange {
  kind: BackupChangeKind;
  /** As in the new window; for REMOVED, as in the old one. */
  backup: Backup;
}

/** Negative when `a` is newer than `b` (sorts newest first), 0 for the same begin time and id. */
export function newestFirst(a: Backup, b: Backup): number {
  const byTime = b.beginTime.getTime() - a.beginTime.getTime();
  if (byTime !== 0) return byTime;
  if (a.id === b.id) return 0;
  return a.id > b.id ? -1 : 1;
}

/** The oldest row of a full window (newer than it: inside the bound); undefined when the window is the whole list. */
function boundOf(window: readonly Backup[], windowSize: number): Backup | undefined {
  if (window.length < windowSize) return undefined;
  return window.reduce((oldest, row) => (newestFirst(row, oldest) > 0 ? row : oldest));
}

const isNewerThan = (row: Backup, bound: Backup | undefined): boolean => bound === undefined || newestFirst(row, bound) < 0;

const sameTime = (a: Date | null, b: Date | null): boolean => (a === null || b === null ? a === b : a.getTime() === b.getTime());

/** Whether a row changed in a way a subscriber sees: status, size, end time or name. */
export function hasChanged(before: Backup, after: Backup): boolean {
  return before.status !== after.status || before.sizeKb !== after.sizeKb || before.name !== after.name || !sameTime(before.endTime, after.endTime);
}

/**
 * The events from the `previous` window to the `next` one, newest first. `previous` undefined:
 * the first poll, the baseline, no events. `windowSize` is how many rows a poll asks for.
 */
export function toChanges(previous: readonly Backup[] | undefined, next: readonly Backup[], windowSize: number = LIVE_WINDOW): BackupChange[] {
  if (previous === undefined) return [];
  const before = new Map(previous.map((row) => [row.id, row]));
  const after = new Map(next.map((row) => [row.id, row]));
  const oldBound = boundOf(previous, windowSize);
  const newBound = boundOf(next, windowSize);
  const changes: BackupChange[] = [];
  for (const row of after.values()) {
    const was = before.get(row.id);
    if (was === undefined) {
      if (isNewerThan(row, oldBound)) changes.push({ kind: 'ADDED', backup: row });
    } else if (hasChanged(was, row)) {
      changes.push({ kind: 'UPDATED', backup: row });
    }
  }
  for (const row of before.values()) {
    if (!after.has(row.id) && isNewerThan(row, newBound)) changes.push({ kind: 'REMOVED', backup: row });
  }
  return changes.sort((a, b) => newestFirst(a.backup, b.backup));
}
