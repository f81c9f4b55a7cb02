/**
 * Backups for one GraphQL request: connections, lookups by id, and the upstream calls behind
 * them. Built per request by the context factory, so its lists, loaders and caches never outlive
 * the request or cross callers.
 */
import DataLoader from 'dataloader';

import { CursorStaleError, InvalidInputError } from '../errors/domain';
import { isId } from '../ids';
import { checkPageArgs, needsTotal, toConnection, toWindow, type PageRequest } from '../pagination/connection';
import { cursorBinding, fromCursor, toCursor, type CursorPosition } from '../pagination/cursor';
import type { CallOptions, UpstreamClient } from '../upstream/client';
import { toUpstreamTime } from '../upstream/time';
import { MAX_UPSTREAM_OFFSET, UPSTREAM_MAX_LIMIT, type ListBackupsParams } from '../upstream/url';
import { BackupList, CHUNK, type Chunk } from './lists';
import type { Backup, BackupConnectionModel, BackupFilter, BackupStatus, BackupType } from './model';
import { toBackup, WIRE_BACKUP_TYPE } from './normalize';

/** Connection arguments as GraphQL hands them over (the filter's times already `Date`s). */
export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  filter?: {
    backupId?: string | null;
    type?: BackupType | null;
    beginTime?: Date | null;
    endTime?: Date | null;
    status?: BackupStatus | null;
  } | null;
}

export interface BackupServiceOptions {
  client: UpstreamClient;
  /** Credentials and language of this request's calls, or the error that forbids any call. */
  callOptions: CallOptions | Error;
  /** The project of this request, or the error that explains why there is none. */
  project: string | Error;
  /** Runs an upstream call; bounds how many are in flight at once for this request. */
  limit: <T>(fn: () => Promise<T>) => Promise<T>;
  maxPageSize: number;
  /** Fetch full chunks of 100 rows for reuse (see lists.ts). @default true */
  prefetch?: boolean;
}

export function requireId(value: string, what: string): string {
  if (!isId(value)) throw new InvalidInputError(`${what} must be 1 to 64 letters, digits, - or _.`);
  return value;
}

/** Validates a filter and brings its times to whole seconds (the upstream's precision). */
export function toFilter(input: ConnectionArgs['filter']): BackupFilter {
  const filter: BackupFilter = {};
  if (!input) return filter;
  if (input.backupId != null) filter.backupId = requireId(input.backupId, 'filter.backupId');
  if (input.type != null) filter.type = input.type;
  if (input.status != null) {
    if (input.status === 'DELETING') throw new InvalidInputError('filter.status can be BUILDING, COMPLETED or FAILED (the upstream does not filter DELETING).');
    filter.status = input.status;
  }
  const begin = input.beginTime ?? undefined;
  const end = input.endTime ?? undefined;
  if ((begin === undefined) !== (end === undefined)) throw new InvalidInputError('Give both filter.beginTime and filter.endTime, or neither.');
  if (begin && end) {
    const b = Math.floor(begin.getTime() / 1000) * 1000;
    const e = Math.floor(end.getTime() / 1000) * 1000;
    if (e <= b) throw new InvalidInputError('filter.endTime must be at least one second later than filter.beginTime.');
    if (b < 0 || e > Date.UTC(9999, 11, 31, 23, 59, 59)) throw new InvalidInputError('filter times must be between 1970 and 9999.');
    filter.beginTime = new Date(b);
    filter.endTime = new Date(e);
  }
  return filter;
}

/** A filter as one stable string: part of list keys and cursor bindings. */
export function filterKey(f: BackupFilter): string {
  return [f.backupId ?? '', f.type ?? '', f.beginTime?.getTime() ?? '', f.endTime?.getTime() ?? '', f.status ?? ''].join('|');
}

function toWireParams(project: string, instanceId: string, f: BackupFilter, offset: number, limit: number): ListBackupsParams {
  const p: ListBackupsParams = { projectId: project, instanceId, offset, limit };
  if (f.backupId !== undefined) p.backupId = f.backupId;
  if (f.type !== undefined) p.backupType = WIRE_BACKUP_TYPE[f.type];
  if (f.beginTime && f.endTime) {
    p.beginTime = toUpstreamTime(f.beginTime);
    p.endTime = toUpstreamTime(f.endTime);
  }
  if (f.status !== undefined) p.status = f.status;
  return p;
}

const keyOf = (instanceId: string, id: string): string => `${instanceId}\u0000${id}`;

/** How far from its old offset a cursor's backup is looked for (each side): one call's rows. */
export const RELOCATION_WINDOW = UPSTREAM_MAX_LIMIT;

/** Whether the row at a cursor's offset is no longer the backup the cursor was made on (v1 cursors carry no id: never). */
function isMoved(list: BackupList, position: CursorPosition): boolean {
  return position.id !== undefined && list.rowAt(position.offset)?.id !== position.id;
}

/**
 * The new offset of a cursor's backup, looked for within RELOCATION_WINDOW rows on each side:
 * first on the side its begin time points to (newer rows at its old offset mean it moved down),
 * then on the other. Each side is one read of RELOCATION_WINDOW rows past what the page read
 * already fetched, plus the page to serve next to it when the page sits on that side (the pad):
 * a shift costs one extra call, two when the order gives no hint (the proof is in
 * limits/upstream-calls.ts). A backup found in the pad moved further than the window, and is
 * CURSOR_STALE like one not found: accepting it would need the page rows past the pad, more
 * calls than the operation was priced at.
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

/**
 * Refuses, before any call, cursors whose reads would reach offsets the upstream does not serve.
 * A cursor's binding is a hash of public values (instance, project, filter), so anyone can mint
 * one at any offset; without this, `first: 500` after a cursor at 2^31-1 made six calls, five of
 * them at offsets the upstream refuses. The furthest row read is the page after an `after`
 * cursor plus the relocation window past it, or the window past a `before` cursor (relocate()).
 * No list the upstream can page reaches such an offset, so the cursor is bad input, not stale.
 */
function refuseUnreachable(first: number | undefined, after: CursorPosition | undefined, before: CursorPosition | undefined): void {
  const reach = (position: CursorPosition, pad: number): number => position.offset + 1 + RELOCATION_WINDOW + pad;
  for (const [argument, end] of [['after', after && reach(after, first ?? 0)], ['before', before && reach(before, 0)]] as const) {
    if (end !== undefined && end - 1 > MAX_UPSTREAM_OFFSET) {
      throw new InvalidInputError(`Argument "${argument}" is not a valid cursor: it points beyond any list the upstream can page.`);
    }
  }
}

export class BackupService {
  private readonly lists = new Map<string, BackupList>();
  /** Made on the first lookup: most requests only list, and need no loader. */
  private byId?: DataLoader<string, Backup | null>;

  constructor(private readonly options: BackupServiceOptions) {}

  /**
   * A page of an instance's backups as a Relay connection.
   *
   * Paging stays stable while backups come and go: the rows a cursor points at are fetched in
   * the same calls as the page and checked against the cursor's backup id. When they differ,
   * the list has shifted; `relocate()` finds the backup again nearby, and the page continues
   * right next to it. A cursor whose backup is gone is CURSOR_STALE, never a guessed page.
   */
  async connection(instanceId: string, args: ConnectionArgs): Promise<BackupConnectionModel> {
    requireId(instanceId, 'instanceId');
    const page = checkPageArgs(args, this.options.maxPageSize);
    const filter = toFilter(args.filter);
    const project = this.project();
    const binding = cursorBinding([instanceId, project, filterKey(filter)]);
    const after = args.after != null ? fromCursor(args.after, binding, 'after') : undefined;
    const before = args.before != null ? fromCursor(args.before, binding, 'before') : undefined;
    refuseUnreachable(page.first, after, before);
    this.callOptions(); // fail before any call when there are no credentials

    const list = this.list(instanceId, filter);
    // `last` without `before` needs the total: one call at the head of the list, which also
    // holds the whole page when the list is short.
    if (needsTotal({ ...page, beforeOffset: before?.offset })) await list.head();
    const request = (): PageRequest => ({ ...page, afterOffset: after?.offset, beforeOffset: before?.offset });
    let window = toWindow(request(), list.total);

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
    if (movedAfter || movedBefore) window = toWindow(request(), list.total);

    const { rows, total } = await list.range(window.start, window.end);
    return toConnection(rows, window.start, total, (offset, node) => toCursor(binding, { offset, id: node.id, time: Math.floor(node.beginTime.getTime() / 1000) }));
  }

  /** One backup by id, or null. Lookups in one request are batched per instance. */
  backup(instanceId: string, id: string): Promise<Backup | null> {
    requireId(instanceId, 'instanceId');
    requireId(id, 'id');
    this.project();
    this.callOptions();
    this.byId ??= new DataLoader((keys) => this.loadByIds(keys), { maxBatchSize: 1000 });
    return this.byId.load(keyOf(instanceId, id));
  }

  private project(): string {
    if (this.options.project instanceof Error) throw this.options.project;
    return this.options.project;
  }

  private callOptions(): CallOptions {
    if (this.options.callOptions instanceof Error) throw this.options.callOptions;
    return this.options.callOptions;
  }

  private list(instanceId: string, filter: BackupFilter): BackupList {
    const key = `${instanceId}\u0000${filterKey(filter)}`;
    let list = this.lists.get(key);
    if (!list) {
      list = new BackupList(instanceId, filter, (i, f, offset, limit) => this.fetchChunk(i, f, offset, limit), this.options.prefetch ?? true);
      this.lists.set(key, list);
    }
    return list;
  }

  /** One upstream call: up to `limit` rows from `offset`, normalised (lookups by id find them in the lists). */
  private async fetchChunk(instanceId: string, filter: BackupFilter, offset: number, limit: number): Promise<Chunk> {
    const params = toWireParams(this.project(), instanceId, filter, offset, limit);
    const { body, requestId } = await this.options.limit(() => this.options.client.listBackups(params, this.callOptions()));
    const rows = body.backups.map((dto) => toBackup(dto, requestId));
    return { offset, rows, total: body.total_count };
  }

  /**
   * The batch behind `backup()`. Per instance and operation, n ids cost at most n calls: one
   * `backup_id` lookup each, or fewer. No call is made on speculation: the batch first waits for
   * this operation's reads of the instance already in flight and takes the ids they hold; then,
   * only when the operation knows the total (it read a page of the instance's unfiltered list),
   * it reads the rest of the list instead when that is fewer calls than the ids still missing.
   * So the cost is at most min(n, the chunks of the list not read yet); rows this operation
   * already fetched cost nothing.
   *
   * Why not min(n, ceil(total/100) + 1), with a head call when the total is unknown: no strategy
   * keeps that bound. On an empty instance it allows one call for two ids, so the first call
   * would have to be an unfiltered page; on a long list whose ids lie outside that page, the ids
   * then need n more calls: n + 1. A head call "when n > 2" made three lookups past row 100 cost
   * four. Pricing each lookup at one call (limits/upstream-calls.ts) relies on this bound.
   */
  private async loadByIds(keys: readonly string[]): Promise<Array<Backup | null | Error>> {
    const byInstance = new Map<string, string[]>();
    for (const key of keys) {
      const [instanceId, id] = key.split('\u0000') as [string, string];
      byInstance.set(instanceId, [...(byInstance.get(instanceId) ?? []), id]);
    }
    const results = new Map<string, Backup | null | Error>();
    await Promise.all([...byInstance].map(async ([instanceId, ids]) => {
      try {
        const found = await this.findInInstance(instanceId, [...new Set(ids)]);
        for (const id of ids) results.set(keyOf(instanceId, id), found.get(id) ?? null);
      } catch (error) {
        for (const id of ids) results.set(keyOf(instanceId, id), error as Error);
      }
    }));
    return keys.map((k) => results.get(k) ?? null);
  }

  private async findInInstance(instanceId: string, ids: string[]): Promise<Map<string, Backup>> {
    const list = this.list(instanceId, {});
    const found = new Map<string, Backup>();
    const wanted = new Set(ids);
    // Rows any list of this instance fetched (whatever its filter) answer lookups for free.
    const collect = (): string[] => {
      for (const other of this.lists.values()) {
        if (other.instanceId !== instanceId) continue;
        for (const row of other.knownRows()) if (wanted.has(row.id)) found.set(row.id, row);
      }
      return ids.filter((id) => !found.has(id));
    };
    let missing = collect();
    if (missing.length === 0) return found;
    // Reads of this instance already in flight are paid for: wait for them before calling.
    const underway = [...this.lists.values()].filter((l) => l.instanceId === instanceId).map((l) => l.underway());
    if (underway.some((u) => u !== undefined)) {
      await Promise.all(underway);
      missing = collect();
      if (missing.length === 0) return found;
    }
    const unread = list.missingChunks();
    if (list.total !== undefined && unread.length < missing.length) {
      await Promise.all(unread.map((offset) => list.range(offset, offset + CHUNK)));
      collect();
    } else {
      await Promise.all(missing.map(async (id) => {
        const { rows } = await this.list(instanceId, { backupId: id }).range(0, 1);
        const row = rows.find((r) => r.id === id);
        if (row) found.set(id, row);
      }));
    }
    return found;
  }
}
