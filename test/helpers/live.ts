/** A scripted upstream for the live tests (test/live/): instances' rows, failures, and a record of every call. */
import type { ListBackupsResult, UpstreamClient } from '../../src/upstream/client';
import type { ListBackupsParams } from '../../src/upstream/url';
import type { BackupForListDTO } from '../../src/upstream/wire';

/** Backup `n` of an instance: begins `n` minutes into 2026, so a greater n is newer. */
export const backupDto = (instanceId: string, n: number, status = 'COMPLETED'): BackupForListDTO => ({
  id: `${instanceId}-b${n}`, instance_id: instanceId, name: `backup ${n}`, type: 'auto', status, size: 100 + n,
  begin_time: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString().replace(/\.\d{3}Z$/, '+0000'), end_time: '', datastore: { type: 'MySQL', version: '8.0' },
});

/** An upstream of instances (rows newest first) that records every call; `fail` makes an instance's calls throw. */
export function scriptedUpstream() {
  const rows = new Map<string, BackupForListDTO[]>();
  const failures = new Map<string, Error>();
  const calls: Array<ListBackupsParams & { fresh?: boolean; token?: string }> = [];
  const client: UpstreamClient = {
    async listBackups(params, options): Promise<ListBackupsResult> {
      await options.beforeAttempt?.();
      calls.push({ ...params, fresh: options.fresh, token: options.auth.kind === 'token' ? options.auth.token : undefined });
      options.onAttempt?.({ instanceId: params.instanceId, offset: params.offset, limit: params.limit, attempt: 0, ms: 1 });
      const failure = failures.get(params.instanceId);
      if (failure) throw failure;
      const all = rows.get(params.instanceId) ?? [];
      return { body: { backups: all.slice(params.offset, params.offset + params.limit), total_count: all.length }, requestId: `r${calls.length}` };
    },
    close() {},
  };
  return { client, rows, failures, calls };
}

