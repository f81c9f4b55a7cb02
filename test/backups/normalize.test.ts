import { toBackup } from '../../src/backups/normalize';
import { UpstreamBadResponseError } from '../../src/upstream/errors';
import type { BackupForListDTO } from '../../src/upstream/wire';

const dto = (extra: Partial<BackupForListDTO> = {}): BackupForListDTO => ({
  id: 'b1', instance_id: 'i1', name: 'n', type: 'incremental', status: 'COMPLETED', size: 3_221_225_472,
  begin_time: '2018-08-06T12:41:14+0800', end_time: '2018-08-06T12:43:14+0800', datastore: { type: 'PostgreSQL', version: '9.6' }, ...extra,
});

describe('toBackup()', () => {
  it('turns a wire row into the model', () => {
    expect(toBackup(dto({ associated_with_ddm: true, min_data_volume_capacity_for_restore: 40 }))).toEqual({
      id: 'b1', instanceId: 'i1', name: 'n', type: 'INCREMENTAL', status: 'COMPLETED', sizeKb: 3_221_225_472,
      beginTime: new Date('2018-08-06T04:41:14Z'), endTime: new Date('2018-08-06T04:43:14Z'),
      datastore: { type: 'POSTGRESQL', version: '9.6' }, databases: [], associatedWithDdm: true, minDataVolumeCapacityForRestore: 40,
    });
  });

  it('reads engine names in any case', () => {
    for (const [wire, model] of [['MySQL', 'MYSQL'], ['mysql', 'MYSQL'], ['SQLServer', 'SQLSERVER'], ['sqlserver', 'SQLSERVER'], ['MariaDB', 'MARIADB'], ['POSTGRESQL', 'POSTGRESQL']]) {
      expect(toBackup(dto({ datastore: { type: wire!, version: '1' } })).datastore.type).toBe(model);
    }
  });

  it('gives a BUILDING backup with an empty end_time a null endTime, and defaults optional fields', () => {
    const b = toBackup(dto({ status: 'BUILDING', end_time: '' }));
    expect(b).toMatchObject({ status: 'BUILDING', endTime: null, associatedWithDdm: false, minDataVolumeCapacityForRestore: null, databases: [] });
  });

  it.each([
    ['an undocumented type', { type: 'snapshot' }, 'type'],
    ['an undocumented status', { status: 'RESTORING' }, 'status'],
    ['an unknown engine', { datastore: { type: 'Oracle', version: '19' } }, 'datastore.type'],
    ['a time that is not one', { begin_time: '2018-08-06 12:41:14' }, 'begin_time'],
    ['a key name as a value', { type: 'hasOwnProperty' }, 'type'],
  ])('refuses %s', (_n, extra, field) => {
    expect(() => toBackup(dto(extra as Partial<BackupForListDTO>), 'r1')).toThrow(UpstreamBadResponseError);
    expect(() => toBackup(dto(extra as Partial<BackupForListDTO>), 'r1')).toThrow(field);
  });
});
