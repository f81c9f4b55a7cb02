/**
 * Backups by id for one request: lookups batched per instance (a DataLoader), answered from the
 * rows the request's lists already hold wherever they can be, and otherwise by the fewest calls.
 */
import DataLoader from 'dataloader';

import { CHUNK, type BackupList } from './lists';
import type { Backup, BackupFilter } from './model';

/** The lists of one request, as the lookups read them. */
export interface RequestLists {
  /** The list of an instance under a filter: made on first use, then the same one. */
  get(instanceId: string, filter: BackupFilter): BackupList;
  /** Every list of an instance made so far, whatever its filter. */
  of(instanceId: string): BackupList[];
}

const keyOf = (instanceId: string, id: string): string => `${instanceId}\u0000${id}`;

/** The lookups of one request, over that request's lists (never shared between requests). */
export class BackupLookups {
  private readonly loader = new DataLoader<string, Backup | null>((keys) => this.loadByIds(keys), { maxBatchSize: 1000 });

  constructor(private readonly lists: RequestLists) {}

  /** One backup by id, or null; lookups made in the same tick are one batch. */
  load(instanceId: string, id: string): Promise<Backup | null> {
    return this.loader.load(keyOf(instanceId, id));
  }

  /**
   * The batch behind `load()`. Per instance and operation, n ids cost at most n calls: one
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
   * four. Pricing each lookup at one call (cost.ts) relies on this bound.
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
    const list = this.lists.get(instanceId, {});
    const found = new Map<string, Backup>();
    const wanted = new Set(ids);
    // Rows any list of this instance fetched (whatever its filter) answer lookups for free.
    const collect = (): string[] => {
      for (const other of this.lists.of(instanceId)) {
        for (const row of other.knownRows()) if (wanted.has(row.id)) found.set(row.id, row);
      }
      return ids.filter((id) => !found.has(id));
    };
    let missing = collect();
    if (missing.length === 0) return found;
    // Reads of this instance already in flight are paid for: wait for them before calling.
    const underway = this.lists.of(instanceId).map((l) => l.underway());
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
        const { rows } = await this.lists.get(instanceId, { backupId: id }).range(0, 1);
        const row = rows.find((r) => r.id === id);
        if (row) found.set(id, row);
      }));
    }
    return found;
  }
}
