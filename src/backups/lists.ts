/**
 * The rows of each list (an instance under a filter) that this request has fetched, by offset.
 *
 * With `prefetch` (the default, when the upstream cache is on), every call asks for a full chunk
 * of 100 rows at an offset that is a multiple of 100: a call costs the same for 1 row or 100, so
 * a later page, an alias or a lookup that falls inside a chunk fetched (or in flight) costs
 * nothing, and aligned chunks are the same upstream calls from one request to the next, which
 * the shared cache then answers. Without it, a call asks for just the rows needed: parsing 100 rows to serve 20 is
 * most of a request's CPU when nothing will reuse the rest.
 */
import { UPSTREAM_MAX_LIMIT } from '../upstream/url';
import type { Backup, BackupFilter } from './model';

/** The rows of a full chunk: the upstream's largest `limit`. */
export const CHUNK = UPSTREAM_MAX_LIMIT;

export interface Chunk {
  offset: number;
  rows: Backup[];
  total: number;
}

export type FetchChunk = (instanceId: string, filter: BackupFilter, offset: number, limit: number) => Promise<Chunk>;

interface PendingChunk {
  offset: number;
  limit: number;
  promise: Promise<Chunk>;
  settled?: Chunk;
  /** The call failed: its rows are unknown, and reading them again fails the same way. */
  failed?: boolean;
}

export class BackupList {
  private readonly chunks: PendingChunk[] = [];
  /** The latest `total_count` seen for this list. */
  total?: number;

  constructor(
    readonly instanceId: string,
    readonly filter: BackupFilter,
    private readonly fetchChunk: FetchChunk,
    private readonly prefetch = true,
  ) {}

  /** Rows already fetched, whichever chunk holds them. */
  *knownRows(): Iterable<Backup> {
    for (const c of this.chunks) if (c.settled) yield* c.settled.rows;
  }

  /** The row at an offset, if a call answered for it. */
  rowAt(offset: number): Backup | undefined {
    for (const c of this.chunks) {
      if (c.settled && offset >= c.offset && offset < c.offset + c.settled.rows.length) return c.settled.rows[offset - c.offset];
    }
    return undefined;
  }

  /**
   * Offsets of the full chunks a complete read of the list would still need (once the total is
   * known). A failed chunk counts as missing: reading it fails again, so a lookup whose id may be
   * there fails rather than answering null.
   */
  missingChunks(): number[] {
    const missing: number[] = [];
    if (this.total === undefined) return missing;
    for (let pos = 0; pos < this.total;) {
      const chunk = this.covering(pos);
      if (chunk && !chunk.failed) {
        pos = chunkEnd(chunk);
      } else {
        missing.push(pos);
        pos += CHUNK;
      }
    }
    return missing;
  }

  /** Settles when the calls in flight now have answered or failed; undefined when none is. */
  underway(): Promise<void> | undefined {
    const pending = this.chunks.filter((c) => !c.settled && !c.failed).map((c) => c.promise);
    return pending.length === 0 ? undefined : Promise.allSettled(pending).then(() => undefined);
  }

  /** Learns the total with one call at the head of the list (a full chunk: a short list is then read whole). */
  async head(): Promise<number> {
    if (this.total !== undefined) return this.total;
    return (await (this.covering(0) ?? this.startChunk(0, CHUNK)).promise).total;
  }

  /**
   * Rows [start, end) with the list's total. Starts the calls for the parts not fetched yet (all
   * at once; the caller's limiter bounds the fan-out). At least one call answers even for an
   * empty range, so that the total is known.
   */
  async range(start: number, end: number): Promise<{ rows: Backup[]; total: number }> {
    if (this.total !== undefined) {
      end = Math.min(end, this.total);
      if (start >= end) return { rows: [], total: this.total };
    }
    const needed: PendingChunk[] = [];
    let pos = start;
    do {
      const chunk = this.covering(pos)
        ?? (this.prefetch ? this.startChunk(pos - (pos % CHUNK), CHUNK) : this.startChunk(pos, Math.max(1, Math.min(CHUNK, end - pos))));
      needed.push(chunk);
      pos = chunkEnd(chunk);
    } while (pos < end);
    const settled = await Promise.all(needed.map((c) => c.promise));
    const rows: Backup[] = [];
    for (let i = start; i < end; i++) {
      const chunk = settled.find((c) => i >= c.offset && i < c.offset + c.rows.length);
      if (!chunk) break; // the list is shorter than the range
      rows.push(chunk.rows[i - chunk.offset]!);
    }
    return { rows, total: settled[0]!.total };
  }

  private covering(pos: number): PendingChunk | undefined {
    return this.chunks.find((c) => pos >= c.offset && pos < chunkEnd(c));
  }

  private startChunk(offset: number, limit: number): PendingChunk {
    const pending: PendingChunk = {
      offset,
      limit,
      promise: this.fetchChunk(this.instanceId, this.filter, offset, limit).then((chunk) => {
        pending.settled = chunk;
        this.total = chunk.total;
        return chunk;
      }),
    };
    pending.promise.catch(() => { pending.failed = true; /* the error is observed by whoever awaits it */ });
    this.chunks.push(pending);
    return pending;
  }
}

/**
 * Where a chunk's rows end: its limit while in flight; once answered, its real length, or the
 * whole limit when it came back short because the list ended there.
 */
function chunkEnd(c: PendingChunk): number {
  if (!c.settled) return c.offset + c.limit;
  return c.offset + (c.settled.rows.length < c.limit && c.offset + c.settled.rows.length >= c.settled.total ? c.limit : Math.max(c.settled.rows.length, 1));
}
