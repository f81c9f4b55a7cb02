/**
 * The model the resolvers see: camelCase, instants as `Date`, enums in the schema's spelling,
 * keys and values trimmed. Built from wire DTOs by `normalize.ts` and nowhere else.
 */
import type { BackupStatus, BackupType, DatastoreType, PageInfo } from '../generated/graphql';

export type { BackupStatus, BackupType, DatastoreType };

export interface Backup {
  id: string;
  instanceId: string;
  name: string;
  type: BackupType;
  status: BackupStatus;
  sizeKb: number;
  beginTime: Date;
  /** Null while the backup is BUILDING (the upstream writes an empty string). */
  endTime: Date | null;
  datastore: { type: DatastoreType; version: string };
  databases: Array<{ name: string }>;
  associatedWithDdm: boolean;
  minDataVolumeCapacityForRestore: number | null;
}

/** An instance as this subgraph knows it: by id only. */
export interface InstanceRef {
  id: string;
}

/** What narrows a list, already validated. Times are whole seconds. */
export interface BackupFilter {
  backupId?: string;
  type?: BackupType;
  beginTime?: Date;
  endTime?: Date;
  status?: Exclude<BackupStatus, 'DELETING'>;
}

export interface BackupConnectionModel {
  edges: Array<{ cursor: string; node: Backup }>;
  nodes: Backup[];
  pageInfo: PageInfo;
  totalCount: number;
}
