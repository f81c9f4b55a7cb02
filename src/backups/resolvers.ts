/** Resolvers: translate arguments, delegate to the request's BackupService, return. */
import type { Resolvers } from '../generated/graphql';
import { DateTime, SafeInt } from '../scalars';
import type { BackupChangeEvent } from '../live/source';
import { requireId, toFilter } from './filter';
import { LiveUnavailableError } from '../errors/domain';

/** A backup id ends in `brNN`, an instance id in `inNN`: a backup is not a Node. */
const BACKUP_ID = /br\d{2}$/;

export const resolvers: Resolvers = {
  DateTime,
  SafeInt,
  Query: {
    backups: (_root, { instanceId, ...args }, { backups }) => backups.connection(instanceId, args),
    backup: (_root, { instanceId, id }, { backups }) => backups.backup(instanceId, id),
    instance: (_root, { id }) => ({ id: requireId(id, 'id') }),
    instances: (_root, { ids }) => ids.map((id) => ({ id: requireId(id, 'ids') })),
    node: (_root, { id }) => (BACKUP_ID.test(requireId(id, 'id')) ? null : { id }),
  },
  Subscription: {
    backupChanges: {
      // Arguments are checked before the watch joins a poll; the source yields the field's value.
      subscribe: (_root, { instanceId, filter }, context) => {
        if (!context.live) throw new LiveUnavailableError();
        return context.live.watch(context, requireId(instanceId, 'instanceId'), toFilter(filter));
      },
      resolve: (event: BackupChangeEvent) => event,
    },
  },
  Node: {
    __resolveType: () => 'Instance',
  },
  Instance: {
    __resolveReference: ({ id }) => ({ id: requireId(id, 'Instance.id') }),
    backups: ({ id }, args, { backups }) => backups.connection(id, args),
    backup: ({ id }, args, { backups }) => backups.backup(id, args.id),
  },
  Backup: {
    // A representation is `_Any`: its key fields may be anything, so both are checked here, each by its name.
    __resolveReference: ({ instanceId, id }, { backups }) => backups.backup(requireId(instanceId, 'Backup.instanceId'), requireId(id, 'Backup.id')),
    instance: ({ instanceId }) => ({ id: instanceId }),
  },
};
