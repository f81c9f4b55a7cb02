/** Resolvers: translate arguments, delegate to the request's BackupService, return. */
import { GraphQLScalarType } from 'graphql';
import { GraphQLDateTime, GraphQLSafeInt } from 'graphql-scalars';

import type { Resolvers } from '../generated/graphql';
import { toIsoUtc } from '../upstream/time';
import { requireId } from './service';

/**
 * graphql-scalars' DateTime, serialising to the RFC 3339 string itself: it returns the Date, and
 * JSON.stringify then calls Date#toJSON from native code, which made serialising a page of 20
 * backups about 4 times slower (96 µs instead of 26 µs, measured on this machine); toIsoUtc
 * writes the same string as toISOString in a tenth of its time.
 */
const DateTime = new GraphQLScalarType({
  ...GraphQLDateTime.toConfig(),
  serialize: (value) => (value instanceof Date && Number.isFinite(value.getTime()) ? toIsoUtc(value.getTime()) : GraphQLDateTime.serialize(value)),
});

/** A backup id ends in `brNN`, an instance id in `inNN`: a backup is not a Node. */
const BACKUP_ID = /br\d{2}$/;

export const resolvers: Resolvers = {
  DateTime,
  SafeInt: GraphQLSafeInt,
  Query: {
    backups: (_root, { instanceId, ...args }, { backups }) => backups.connection(instanceId, args),
    backup: (_root, { instanceId, id }, { backups }) => backups.backup(instanceId, id),
    instance: (_root, { id }) => ({ id: requireId(id, 'id') }),
    instances: (_root, { ids }) => ids.map((id) => ({ id: requireId(id, 'ids') })),
    node: (_root, { id }) => (BACKUP_ID.test(requireId(id, 'id')) ? null : { id }),
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
