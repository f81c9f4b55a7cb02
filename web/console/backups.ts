/**
 * The backups a card shows, and how one `backupChanges` event changes its list (pure: the card
 * hands it to `subscribeToMore`'s `updateQuery`). UPDATED needs nothing here beyond the count:
 * the subscription selects the row's fields and id, so the normalised cache rewrites the row.
 */

export type BackupType = 'AUTO' | 'MANUAL' | 'FRAGMENT' | 'INCREMENTAL';

export interface Backup {
  id: string;
  name: string;
  type: BackupType;
  status: 'BUILDING' | 'COMPLETED' | 'FAILED' | 'DELETING';
  sizeKb: number;
  beginTime: string;
}

interface BackupEdge {
  __typename?: 'BackupEdge';
  cursor: string;
  node: Backup;
}

/** `Instance.backups` as the card's query selects it. */
export interface BackupList {
  totalCount: number;
  edges: BackupEdge[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export interface BackupChange {
  kind: 'ADDED' | 'UPDATED' | 'REMOVED';
  backup: Backup;
  /** The filter's total at the poll that saw the change. */
  totalCount: number;
}

/**
 * The list after `change`. An ADDED row goes before the first older one (a poll's events come
 * newest first, so prepending each would reverse them), once; a REMOVED row's edge is dropped.
 */
export function applyChange<L extends BackupList>(list: L, { kind, backup, totalCount }: BackupChange): L {
  const edges = list.edges.filter((edge) => edge.node.id !== backup.id);
  if (kind === 'UPDATED') return { ...list, totalCount };
  if (kind === 'REMOVED') return { ...list, edges, totalCount };
  const begin = Date.parse(backup.beginTime);
  const at = edges.findIndex((edge) => Date.parse(edge.node.beginTime) < begin);
  // Older than every row shown while more pages follow: it belongs to a page not loaded yet.
  if (at === -1 && list.pageInfo.hasNextPage) return { ...list, totalCount };
  // No cursor comes with an event: this edge is never a page boundary (pageInfo.endCursor is,
  // and cursors remember their backup, so "Load more" stays right after a row is added).
  const edge: BackupEdge = { __typename: 'BackupEdge', cursor: '', node: backup };
  return { ...list, edges: at === -1 ? [...edges, edge] : [...edges.slice(0, at), edge, ...edges.slice(at)], totalCount };
}
