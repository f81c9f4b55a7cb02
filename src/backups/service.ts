/**
 * Backups for one GraphQL request: connections, lookups by id, and the upstream calls behind
 * them. Built per request by the context factory, so its lists, loaders and caches never outlive
 * the request or cross callers. The façade the resolvers use: filters are validated in
 * filter.ts, cursors relocated in relocation.ts, lookups batched in lookups.ts.
 */
import { checkPageArgs, needsTotal, toConnection } from '../pagination/connection';
import { cursorBinding, fromCursor, toCursor } from '../pagination/cursor';
import { callerIdentity, type CallOptions, type UpstreamClient } from '../upstream/client';
import { UPSTREAM_MAX_LIMIT } from '../upstream/url';
import { filterKey, requireId, toFilter, type FilterInput } from './filter';
import { BackupList, type Chunk } from './lists';
import { BackupLookups } from './lookups';
import type { Backup, BackupConnectionModel, BackupFilter } from './model';
import { toBackup } from './normalize';
import { locatePage, refuseUnreachable } from './relocation';
import { toWireParams } from './wire-params';

/** Connection arguments as GraphQL hands them over (the filter's times already `Date`s). */
export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  filter?: FilterInput | null;
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

/** What one call of a newest-rows reader overrides of the request's call options (a poll outlives its request). */
export type NewestRowsCall = Pick<CallOptions, 'deadline' | 'signal' | 'onAttempt' | 'trace'>;

/** The newest rows of a list, as one fresh upstream call returned them. */
export interface NewestRows {
  /** At most UPSTREAM_MAX_LIMIT rows, newest first. */
  rows: Backup[];
  totalCount: number;
}

/**
 * Reads the newest rows of one instance under one filter, again and again (a live poll): who
 * pays for the calls, the project they name, and the read.
 */
export interface NewestRowsReader {
  /** The caller identity whose budget the reads spend (`callerIdentity()`). */
  identity: string;
  project: string;
  /** One fresh upstream call (never a cached page; it refreshes the cache): the newest UPSTREAM_MAX_LIMIT rows. */
  read(call: NewestRowsCall): Promise<NewestRows>;
}

export class BackupService {
  private readonly lists = new Map<string, BackupList>();
  /** Made on the first lookup: most requests only list, and need no loader. */
  private lookups?: BackupLookups;

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
    const window = await locatePage(list, page, after, before);
    const { rows, total } = await list.range(window.start, window.end);
    return toConnection(rows, window.start, total, (offset, node) => toCursor(binding, { offset, id: node.id, time: Math.floor(node.beginTime.getTime() / 1000) }));
  }

  /** One backup by id, or null. Lookups in one request are batched per instance. */
  backup(instanceId: string, id: string): Promise<Backup | null> {
    requireId(instanceId, 'instanceId');
    requireId(id, 'id');
    this.project();
    this.callOptions();
    this.lookups ??= new BackupLookups({
      get: (i, filter) => this.list(i, filter),
      of: (i) => [...this.lists.values()].filter((list) => list.instanceId === i),
    });
    return this.lookups.load(instanceId, id);
  }

  /**
   * A reader of the newest rows of `instanceId` under `filter`, for a poll that may outlive this
   * request: each read takes its own deadline and signal rather than the request's, and reports
   * to the caller's `onAttempt`, not the request's, nor to the request's page count. Throws
   * before any call what forbids one: a bad id, no project, missing or malformed credentials.
   */
  newestRows(instanceId: string, filter: BackupFilter): NewestRowsReader {
    requireId(instanceId, 'instanceId');
    const project = this.project();
    const { auth, language } = this.callOptions();
    const params = toWireParams(project, instanceId, filter, 0, UPSTREAM_MAX_LIMIT);
    return {
      identity: callerIdentity(auth),
      project,
      read: async ({ deadline, signal, onAttempt, trace }) => {
        const { body, requestId } = await this.options.client.listBackups(params, { auth, language, deadline, signal, onAttempt, trace, fresh: true });
        return { rows: body.backups.map((dto) => toBackup(dto, requestId)), totalCount: body.total_count };
      },
    };
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
}
