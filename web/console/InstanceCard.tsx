/**
 * One instance's backups, newest first, a page at a time (`fetchMore` with the last cursor), kept
 * live by a `backupChanges` subscription (`subscribeToMore`) for the same filter, with the
 * instance's own error (its `extensions.code`) shown on the card while other cards carry on.
 */
import { gql, type ErrorLike, type SubscribeToMoreFunction, type TypedDocumentNode } from '@apollo/client';
import { CombinedGraphQLErrors } from '@apollo/client/errors';
import { useQuery, useReactiveVar } from '@apollo/client/react';
import { useEffect, useState } from 'react';

import { applyChange, type BackupChange, type BackupList, type BackupType } from './backups';
import { liveState } from './client';
import { formatSize, formatTime } from './format';

export type { BackupType } from './backups';
export interface BackupFilter {
  type?: BackupType;
  beginTime?: string;
  endTime?: string;
}

interface InstanceBackups {
  instance: { id: string; backups: BackupList | null };
}
interface Variables {
  id: string;
  first: number;
  after?: string | null;
  filter?: BackupFilter;
}

/** The upstream answers up to 100 rows per call: a page of 100 costs one call. */
const PAGE_SIZE = 100;

/** The row's fields, the same in the query and the subscription: so the cache updates a row by its id. */
const BACKUP_ROW = gql`
  fragment BackupRow on Backup { id name type status sizeKb beginTime }
`;

const INSTANCE_BACKUPS: TypedDocumentNode<InstanceBackups, Variables> = gql`
  query InstanceBackups($id: ID!, $first: Int!, $after: String, $filter: BackupFilter) {
    instance(id: $id) {
      id
      backups(first: $first, after: $after, filter: $filter) {
        totalCount
        edges { cursor node { ...BackupRow } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
  ${BACKUP_ROW}
`;

const BACKUP_CHANGES: TypedDocumentNode<{ backupChanges: BackupChange }, { instanceId: string; filter?: BackupFilter }> = gql`
  subscription BackupChanges($instanceId: ID!, $filter: BackupFilter) {
    backupChanges(instanceId: $instanceId, filter: $filter) {
      kind
      totalCount
      backup { ...BackupRow }
    }
  }
  ${BACKUP_ROW}
`;

export function InstanceCard({ id, name, filter, onRemove }: { id: string; name?: string; filter?: BackupFilter; onRemove(): void }) {
  // errorPolicy 'all': the answer's data and its errors both reach the card (a field that failed
  // is an error here, not a failed query), and a refetch that fails keeps the rows already shown.
  const { data, error, loading, fetchMore, refetch, subscribeToMore } = useQuery(INSTANCE_BACKUPS, { variables: { id, first: PAGE_SIZE, filter }, errorPolicy: 'all' });
  const liveError = useBackupChanges(subscribeToMore, id, filter);
  // fetchMore's errors are not the query's: they reject its promise and leave the rows as they were.
  const [moreError, setMoreError] = useState<ErrorLike>();
  useEffect(() => setMoreError(undefined), [filter]);
  const backups = data?.instance.backups;
  const loadMore = () => {
    setMoreError(undefined);
    fetchMore({ variables: { after: backups?.pageInfo.endCursor } }).catch(setMoreError);
  };
  const shownError = moreError ?? error;
  return (
    <section className="card" data-instance={id}>
      <header>
        <h2>{name ?? 'Instance'}</h2>
        <code>{id}</code>
        <Live error={liveError} />
        <button className="remove" onClick={onRemove} aria-label={`Remove ${id}`}>×</button>
      </header>
      {shownError && !loading && <ErrorLine error={shownError} retry={moreError ? loadMore : () => void refetch()} />}
      {backups && backups.edges.length > 0 && (
        <div className="rows">
          <table>
            <thead>
              <tr><th>Started</th><th>Type</th><th>Status</th><th className="size">Size</th><th>Name</th></tr>
            </thead>
            <tbody>
              {backups.edges.map(({ node }) => (
                <tr key={node.id}>
                  <td><time dateTime={node.beginTime}>{formatTime(node.beginTime)}</time></td>
                  <td>{node.type}</td>
                  <td><span className={`status ${node.status.toLowerCase()}`}>{node.status}</span></td>
                  <td className="size">{formatSize(node.sizeKb)}</td>
                  <td className="name" title={node.name}>{node.name}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <footer>
        {backups && <span className="count">{backups.edges.length} of {backups.totalCount ?? '?'} backups</span>}
        {loading && <span>Loading…</span>}
        {!loading && backups?.pageInfo.hasNextPage && <button onClick={loadMore}>Load more</button>}
      </footer>
    </section>
  );
}

/**
 * Subscribes to the changes of the card's instance and filter (again when the filter changes) and
 * writes each into the query's list; the error that ended the subscription, if one did (NOT_FOUND
 * for an unknown instance): the card is no longer live then.
 */
function useBackupChanges(subscribeToMore: SubscribeToMoreFunction<InstanceBackups, Variables>, id: string, filter?: BackupFilter): ErrorLike | undefined {
  const [error, setError] = useState<ErrorLike>();
  useEffect(() => {
    setError(undefined);
    return subscribeToMore({
      document: BACKUP_CHANGES,
      variables: { instanceId: id, filter },
      updateQuery: (_, options) => {
        if (!options.complete) return;
        const { instance } = options.previousData;
        if (!instance.backups) return;
        return { instance: { ...instance, backups: applyChange(instance.backups, options.subscriptionData.data.backupChanges) } };
      },
      onError: setError,
    });
  }, [subscribeToMore, id, filter]);
  return error;
}

/** Whether the card's rows change as the backups do: its subscription runs and the WebSocket is up. */
function Live({ error }: { error?: ErrorLike }) {
  const state = useReactiveVar(liveState);
  if (error) return <span className="live off" title={error.message}>not live</span>;
  return <span className={`live ${state}`}>{state === 'live' ? 'live' : `${state}…`}</span>;
}

/** The failed field's code and message; for RATE_LIMITED, a countdown to an automatic retry. */
function ErrorLine({ error, retry }: { error: ErrorLike; retry(): void }) {
  const first = CombinedGraphQLErrors.is(error) ? error.errors[0] : undefined;
  const code = String(first?.extensions?.code ?? 'NETWORK_ERROR');
  const retryAfter = first?.extensions?.retryAfterSeconds;
  return (
    <p className="error" role="alert">
      <code>{code}</code> {first?.message ?? error.message}
      {code === 'RATE_LIMITED' && typeof retryAfter === 'number' && <Countdown seconds={retryAfter} onDone={retry} />}
    </p>
  );
}

function Countdown({ seconds, onDone }: { seconds: number; onDone(): void }) {
  const [left, setLeft] = useState(seconds);
  useEffect(() => {
    if (left <= 0) return onDone();
    const timer = setTimeout(() => setLeft(left - 1), 1000);
    return () => clearTimeout(timer);
  }, [left]);
  return <span className="countdown"> Retrying in {left} s.</span>;
}
