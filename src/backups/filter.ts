/**
 * Validation of the arguments that name backups: ids, and a connection's filter, brought to the
 * model's BackupFilter (and to one stable string, for list keys and cursor bindings).
 */
import { InvalidInputError } from '../errors/domain';
import { isId } from '../ids';
import type { BackupFilter, BackupStatus, BackupType } from './model';

/** A connection's filter as GraphQL hands it over (its times already `Date`s). */
export interface FilterInput {
  backupId?: string | null;
  type?: BackupType | null;
  beginTime?: Date | null;
  endTime?: Date | null;
  status?: BackupStatus | null;
}

/** The value when it is an id; else INVALID_INPUT naming `what`. */
export function requireId(value: string, what: string): string {
  if (!isId(value)) throw new InvalidInputError(`${what} must be 1 to 64 letters, digits, - or _.`);
  return value;
}

/** Validates a filter and brings its times to whole seconds (the upstream's precision). */
export function toFilter(input: FilterInput | null | undefined): BackupFilter {
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
