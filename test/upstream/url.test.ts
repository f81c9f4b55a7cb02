import { encodeRfc3986, listBackupsPath } from '../../src/upstream/url';

describe('listBackupsPath()', () => {
  it('sends + as %2B, and parameters in a fixed order', () => {
    expect(listBackupsPath({
      projectId: 'p1', instanceId: 'i1', offset: 100, limit: 100, backupType: 'auto', backupId: 'b1',
      beginTime: '2026-10-01T00:00:00+0000', endTime: '2026-10-02T00:00:00+0000', status: 'FAILED',
    })).toBe('/v3/p1/backups?backup_id=b1&backup_type=auto&begin_time=2026-10-01T00%3A00%3A00%2B0000&end_time=2026-10-02T00%3A00%3A00%2B0000&instance_id=i1&limit=100&offset=100&status=FAILED');
  });

  it('leaves out parameters not given', () => {
    expect(listBackupsPath({ projectId: 'p', instanceId: 'i', offset: 0, limit: 1 })).toBe('/v3/p/backups?instance_id=i&limit=1&offset=0');
  });

  it('percent-encodes project and instance ids as one segment or parameter each', () => {
    expect(listBackupsPath({ projectId: 'a/b', instanceId: 'x&y=z', offset: 0, limit: 1 })).toBe('/v3/a%2Fb/backups?instance_id=x%26y%3Dz&limit=1&offset=0');
  });
});

describe('encodeRfc3986()', () => {
  it('keeps only unreserved characters', () => {
    expect(encodeRfc3986("AZaz09-_.~ !'()*+/é")).toBe('AZaz09-_.~%20%21%27%28%29%2A%2B%2F%C3%A9');
  });
});
