/**
 * Cursors anyone can mint (their binding is a hash of public values): BackupService refuses, before
 * any call, those whose reads would pass the upstream's largest offset, and a cursor beyond a
 * list's known end costs no call. A fake client stands in for an upstream that, like the
 * simulator, refuses offsets above 2^31-1.
 */
import { filterKey } from '../../src/backups/filter';
import { BackupService } from '../../src/backups/service';
import { CursorStaleError, InvalidInputError } from '../../src/errors/domain';
import { cursorBinding, toCursor } from '../../src/pagination/cursor';
import type { UpstreamClient } from '../../src/upstream/client';
import { MAX_UPSTREAM_OFFSET, type ListBackupsParams } from '../../src/upstream/url';
import type { BackupForListDTO } from '../../src/upstream/wire';

const INSTANCE = 'inst01';
const idAt = (offset: number): string => `b${offset}`;
const dto = (offset: number): BackupForListDTO => ({
  id: idAt(offset), instance_id: INSTANCE, name: 'n', type: 'auto', status: 'COMPLETED', size: 1,
  begin_time: '2018-08-06T12:41:14+0800', end_time: '2018-08-06T12:43:14+0800', datastore: { type: 'MySQL', version: '8.0' },
});

/** A list of `total` backups, made up on demand; offsets above the upstream's largest are refused, as upstream. */
function service(total: number) {
  const calls: ListBackupsParams[] = [];
  const client = {
    async listBackups(params: ListBackupsParams) {
      calls.push(params);
      if (params.offset > MAX_UPSTREAM_OFFSET) throw new Error(`the upstream refuses offset ${params.offset}`);
      const end = Math.min(total, params.offset + params.limit);
      return { body: { backups: Array.from({ length: Math.max(0, end - params.offset) }, (_, k) => dto(params.offset + k)), total_count: total } };
    },
  } as unknown as UpstreamClient;
  const backups = new BackupService({ client, callOptions: {} as never, project: 'p', limit: (fn) => fn(), maxPageSize: 500 });
  return { backups, calls };
}

const cursorAt = (offset: number): string => toCursor(cursorBinding([INSTANCE, 'p', filterKey({})]), { offset, time: 1533530474, id: idAt(offset) });

describe('BackupService.connection() with minted cursors', () => {
  it('refuses first: 500 after a cursor at 2^31-1 before any call', async () => {
    const { backups, calls } = service(2 ** 31);
    await expect(backups.connection(INSTANCE, { first: 500, after: cursorAt(2 ** 31 - 1) })).rejects.toThrow(InvalidInputError);
    await expect(backups.connection(INSTANCE, { last: 5, before: cursorAt(2 ** 31 - 1) })).rejects.toThrow(/"before" is not a valid cursor/);
    expect(calls).toEqual([]);
  });

  it('serves the furthest cursor whose reads the upstream still serves, and refuses the next one', async () => {
    const furthest = MAX_UPSTREAM_OFFSET - 1 - 100 - 500 + 1; // the page of 500 and the relocation window past it end at 2^31-1
    const { backups, calls } = service(2 ** 31);
    const page = await backups.connection(INSTANCE, { first: 500, after: cursorAt(furthest) });
    expect(page.edges).toHaveLength(500);
    expect(calls.every((c) => c.offset <= MAX_UPSTREAM_OFFSET)).toBe(true);
    await expect(backups.connection(INSTANCE, { first: 500, after: cursorAt(furthest + 1) })).rejects.toThrow(InvalidInputError);
  });

  it('makes no call for a cursor beyond the known end of its list: its backup cannot be near', async () => {
    const { backups, calls } = service(150);
    await backups.connection(INSTANCE, { first: 1 }); // learns the total
    const before = calls.length;
    await expect(backups.connection(INSTANCE, { first: 20, after: cursorAt(1_000_000) })).rejects.toThrow(CursorStaleError);
    expect(calls.length).toBe(before);
  });
});
