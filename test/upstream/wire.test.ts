import { UpstreamBadResponseError } from '../../src/upstream/errors';
import { parseErrorBody, parseListBackupsResponse, toErrorCode, toRequestId } from '../../src/upstream/wire';

const row = (extra: Record<string, unknown> = {}) => ({
  id: 'b1', name: 'n', type: 'auto', size: 2803, status: 'COMPLETED', begin_time: '2018-08-06T12:41:14+0800',
  end_time: '2018-08-06T12:43:14+0800', datastore: { type: 'MySQL', version: '5.6' }, instance_id: 'i1', associated_with_ddm: false, ...extra,
});

describe('parseListBackupsResponse()', () => {
  it('reads the published SQL Server example, trimming the key "id " and values', () => {
    const text = JSON.stringify({ backups: [{ ...row({ databases: [{ name: 'user01' }, { name: 'user02' }] }), id: undefined, 'id ': '43e4br04', instance_id: 'a48ein04 ' }], total_count: 1 });
    const body = parseListBackupsResponse(text);
    expect(body.backups[0]).toMatchObject({ id: '43e4br04', instance_id: 'a48ein04', databases: [{ name: 'user01' }, { name: 'user02' }] });
    expect(body.total_count).toBe(1);
  });

  it('keeps sizes above 2^31 exact and reads the optional fields', () => {
    const body = parseListBackupsResponse(JSON.stringify({ backups: [row({ size: 3_221_225_472, min_data_volume_capacity_for_restore: 40 })], total_count: 1 }));
    expect(body.backups[0]).toMatchObject({ size: 3_221_225_472, min_data_volume_capacity_for_restore: 40 });
  });

  it.each([
    ['not JSON', '{"backups": [', 'the body is not JSON'],
    ['not an object', '[]', 'the body is not an object'],
    ['backups not a list', '{"backups": {}, "total_count": 0}', 'backups is not a list'],
    ['no total_count', '{"backups": []}', 'total_count is not a non-negative integer'],
    ['a row without id', JSON.stringify({ backups: [row({ id: undefined })], total_count: 1 }), 'backups[0].id is missing'],
    ['a size as a string', JSON.stringify({ backups: [row({ size: '12' })], total_count: 1 }), 'backups[0].size is not a non-negative integer'],
    ['a size beyond 2^53', `{"backups": [${JSON.stringify(row()).replace('2803', '9007199254740993')}], "total_count": 1}`, 'backups[0].size'],
    ['datastore missing', JSON.stringify({ backups: [row({ datastore: null })], total_count: 1 }), 'backups[0].datastore is not an object'],
    ['databases not a list', JSON.stringify({ backups: [row({ databases: 'x' })], total_count: 1 }), 'backups[0].databases is not a list'],
  ])('refuses %s as UpstreamBadResponseError naming the field', (_n, text, reason) => {
    try {
      parseListBackupsResponse(text, 'req-1');
      throw new Error('did not throw');
    } catch (error) {
      expect(error).toBeInstanceOf(UpstreamBadResponseError);
      expect((error as UpstreamBadResponseError).reason).toContain(reason);
      expect((error as UpstreamBadResponseError).requestId).toBe('req-1');
    }
  });
});

describe('parseErrorBody()', () => {
  it('reads the RDS, API gateway and SDK variants', () => {
    expect(parseErrorBody('{"error_code": "DBS.200001", "error_msg": "x"}')).toEqual({ errorCode: 'DBS.200001', requestId: undefined });
    expect(parseErrorBody('{"error_code": "APIGW.0308", "error_msg": "x", "request_id": "c0ffee00-1234-4abc-8def-0123456789ab"}')).toEqual({ errorCode: 'APIGW.0308', requestId: 'c0ffee00-1234-4abc-8def-0123456789ab' });
    expect(parseErrorBody('{"error": {"code": "APIG.0301", "message": "x"}}')).toEqual({ errorCode: 'APIG.0301', requestId: undefined });
  });
  it('never throws', () => {
    expect(parseErrorBody('<html>502</html>')).toEqual({});
    expect(parseErrorBody('null')).toEqual({});
  });
});

describe('toErrorCode() and toRequestId(): only the documented shapes are relayed', () => {
  it.each(['DBS.200001', 'APIG.0301', 'APIGW.0308', ' DBS.108000 '])('keeps the error code %j', (code) => {
    expect(toErrorCode(code)).toBe(code.trim());
  });
  it.each([
    'SDK-HMAC-SHA256 Access=HPUAEXAMPLE, SignedHeaders=host, Signature=ab12', 'caller-token', '<script>alert(1)</script>', 'DBS.', '.0301',
    'DBS.200001.x', `DBS.${'1'.repeat(60)}`, 'a'.repeat(60_000), 42, null,
  ])('drops the error code %j', (code) => {
    expect(toErrorCode(code)).toBeUndefined();
  });
  it.each(['0123456789abcdef0123456789abcdef', 'C0FFEE00-1234-4ABC-8DEF-0123456789AB', 'a1'])('keeps the request id %j', (id) => {
    expect(toRequestId(id)).toBe(id);
  });
  it.each([
    'f'.repeat(64), // an AK/SK signature is 64 hex digits
    'f'.repeat(60_000), '<script>', 'req-1', '-abc', 'ab cd', '', 7,
  ])('drops the request id %j', (id) => {
    expect(toRequestId(id)).toBeUndefined();
  });
  it('drops what an error body carries in other shapes', () => {
    expect(parseErrorBody(JSON.stringify({ error_code: 'SDK-HMAC-SHA256 Access=AK', request_id: '<b>' }))).toEqual({ errorCode: undefined, requestId: undefined });
  });
});
