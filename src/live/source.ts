/**
 * What `Subscription.backupChanges` reads (DESIGN.md, "Live changes"): the changes of one
 * instance and filter, computed by the one shared poll of its key (caller identity, project,
 * instance, filter), however many subscribers watch it.
 */
import type { Backup, BackupFilter } from '../backups/model';
import type { GatewayContext } from '../context';

export type BackupChangeKind = 'ADDED' | 'UPDATED' | 'REMOVED';

/** One change, as a subscriber receives it. */
export interface BackupChangeEvent {
  kind: BackupChangeKind;
  /** As it is now; for REMOVED, as it was last seen. */
  backup: Backup;
  /** total_count of the filter at the poll that saw the change. */
  totalCount: number;
}

export interface LiveSource {
  /**
   * Joins the shared poll of the context's caller, project, `instanceId` and `filter`. The
   * iterator yields each change (those of one poll newest first), throws a GraphQLError with its
   * code when the poll ends the watch (NOT_FOUND, UNAUTHENTICATED, FORBIDDEN; RATE_LIMITED when
   * MAX_LIVE_WATCHES is reached), and leaves the poll on `return()`; the poll stops when its
   * last watcher has left.
   */
  watch(context: GatewayContext, instanceId: string, filter: BackupFilter): AsyncIterableIterator<BackupChangeEvent>;
}
