/** BackupService lookups: the upstream calls a batch of `backup()` makes, recorded by a fake client. */
import { BackupService } from '../../src/backups/service';
import { InvalidInputError, MissingCredentialsError } from '../../src/errors/domain';
import { callerIdentity, type CallOptions, type UpstreamClient } from '../../src/upstream/client';
import type { ListBackupsParams } from '../../src/upstream/url';
import type { BackupForListDTO } from '../../src/upstream/wire';

const INSTANCE = 'inst01';
const idAt = (offset: number) => `b${offset}`;
const dto = (offset: number): BackupForListDTO => ({
  id: idAt(offset), instance_id: INSTANCE, name: `n${offset}`, type: 'auto', status: 'COMPLETED', size: 1,
  begin_time: '2018-08-06T12:41:14+0800', end_time: '2018-08-06T12:43:14+0800', datastore: { type: 'MySQL', version: '8.0' },
});

/** A client over one instance of `total` backups that records the parameters of every call. */
function recordingClient(total: number) {
  const calls: ListBackupsParams[] = [];
  const client = {
    async listBackups(params: ListBackupsParams) {
      calls.push(params);
      const all = Array.from({ length: total }, (_, k) => k);
      const matching = params.backupId === undefined ? all : all.filter((k) => idAt(k) === params.backupId);
      const page = matching.slice(params.offset ?? 0, (params.offset ?? 0) + (params.limit ?? 100));
      return { body: { backups: page.map(dto), total_count: matching.length }, requestId: 'r' };
    },
  } as unknown as UpstreamClient;
  return { client, calls };
}

function service(total: number, prefetch = true) {
  const { client, calls } = recordingClient(total);
  const backups = new BackupService({ client, callOptions: {} as never, project: 'p', limit: (fn) => fn(), maxPageSize: 500, prefetch });
  const lookups = (...offsets: number[]) => Promise.all(offsets.map((k) => backups.backup(INSTANCE, idAt(k))));
  return { backups, calls, lookups };
}

describe('BackupService.backup()', () => {
  it('looks ids up one by one when the operation does not read the list: three past row 100 are three calls', async () => {
    const { calls, lookups } = service(1234);
    const found = await lookups(150, 600, 1100);
    expect(found.map((b) => b?.id)).toEqual([idAt(150), idAt(600), idAt(1100)]);
    expect(calls.map((c) => c.backupId)).toEqual([idAt(150), idAt(600), idAt(1100)]);
  });

  it('makes no call on speculation, also on a short list', async () => {
    const { calls, lookups } = service(45);
    await lookups(1, 2, 3, 4);
    expect(calls.every((c) => c.backupId !== undefined)).toBe(true);
    expect(calls).toHaveLength(4);
  });

  it('waits for a read of the list in flight and takes the ids it holds', async () => {
    const { backups, calls, lookups } = service(1234);
    const [page, found] = await Promise.all([backups.connection(INSTANCE, { first: 10 }), lookups(3, 50, 99)]);
    expect(page.edges).toHaveLength(10);
    expect(found.map((b) => b?.id)).toEqual([idAt(3), idAt(50), idAt(99)]);
    expect(calls).toEqual([{ projectId: 'p', instanceId: INSTANCE, offset: 0, limit: 100 }]); // the page's call only
  });

  it('reads the rest of a listed list when that is fewer calls than the ids missing', async () => {
    const { backups, calls, lookups } = service(450);
    await backups.connection(INSTANCE, { first: 1 });
    await lookups(120, 220, 320, 420, 130);
    expect(calls.map((c) => [c.offset, c.backupId])).toEqual([[0, undefined], [100, undefined], [200, undefined], [300, undefined], [400, undefined]]);
  });

  it('looks ids up one by one on a listed list when that is fewer calls', async () => {
    const { backups, calls, lookups } = service(1234);
    await backups.connection(INSTANCE, { first: 1 });
    await lookups(500, 900);
    expect(calls.slice(1).map((c) => c.backupId)).toEqual([idAt(500), idAt(900)]);
  });

  it('answers null for an id the instance does not have, at one call', async () => {
    const { backups, calls } = service(45);
    expect(await backups.backup(INSTANCE, 'nope')).toBeNull();
    expect(calls).toHaveLength(1);
  });
});

describe('BackupService.newestRows()', () => {
  it('reads the newest 100 rows of the list in one fresh call, with the total, under the filter', async () => {
    const options: CallOptions[] = [];
    const params: ListBackupsParams[] = [];
    const client = {
      async listBackups(p: ListBackupsParams, o: CallOptions) {
        params.push(p);
        options.push(o);
        return { body: { backups: Array.from({ length: 100 }, (_, k) => dto(k)), total_count: 345 }, requestId: 'r' };
      },
    } as unknown as UpstreamClient;
    const requestSignal = new AbortController().signal;
    const onRequestAttempt = jest.fn();
    const backups = new BackupService({
      client, callOptions: { auth: { kind: 'token', token: 't' }, language: 'zh-cn', deadline: 1, signal: requestSignal, onAttempt: onRequestAttempt, onServed: jest.fn() },
      project: 'p', limit: (fn) => fn(), maxPageSize: 500,
    });
    const reader = backups.newestRows(INSTANCE, { status: 'COMPLETED' });
    expect(reader).toMatchObject({ identity: callerIdentity({ kind: 'token', token: 't' }), project: 'p' });
    const pollSignal = new AbortController().signal;
    const onPollAttempt = jest.fn();
    const { rows, totalCount } = await reader.read({ deadline: 5000, signal: pollSignal, onAttempt: onPollAttempt });
    expect(totalCount).toBe(345);
    expect(rows.map((r) => r.id).slice(0, 2)).toEqual([idAt(0), idAt(1)]);
    expect(params).toEqual([{ projectId: 'p', instanceId: INSTANCE, offset: 0, limit: 100, status: 'COMPLETED' }]);
    // The poll's own deadline, signal and attempt report, not the request's (a poll outlives it).
    expect(options[0]).toEqual({ auth: { kind: 'token', token: 't' }, language: 'zh-cn', deadline: 5000, signal: pollSignal, onAttempt: onPollAttempt, fresh: true });
  });

  it('refuses before any call a bad instance id, a missing project and missing credentials', () => {
    const { client, calls } = recordingClient(1);
    const make = (project: string | Error, callOptions: CallOptions | Error) => new BackupService({ client, callOptions, project, limit: (fn) => fn(), maxPageSize: 500 });
    const ok = { auth: { kind: 'none' } } as const;
    expect(() => make('p', ok).newestRows('bad id!', {})).toThrow(InvalidInputError);
    expect(() => make(new InvalidInputError('No project'), ok).newestRows(INSTANCE, {})).toThrow('No project');
    expect(() => make('p', new MissingCredentialsError()).newestRows(INSTANCE, {})).toThrow(MissingCredentialsError);
    expect(calls).toEqual([]);
  });
});
