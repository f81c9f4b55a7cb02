/**
 * One instance's backups, newest first, a page at a time (`fetchMore` with the last cursor), with
 * the instance's own error (its `extensions.code`) shown on the card while other cards carry on.
 */
import { gql, type ErrorLike, type TypedDocumentNode } from '@apollo/client';
import { CombinedGraphQLErrors } from '@apollo/client/errors';
import { useQuery } from '@apollo/client/react';
import { useEffect, useState } from 'react';

import { formatSize, formatTime } from './format';

export type BackupType = 'AUTO' | 'MANUAL' | 'FRAGMENT' | 'INCREMENTAL';
export interface BackupFilter {
  type?: BackupType;
  beginTime?: string;
  endTime?: string;
}

interface Backup {
  id: string;
  name: string;
  type: BackupType;
  status: 'BUILDING' | 'COMPLETED' | 'FAILED' | 'DELETING';
  sizeKb: number;
  beginTime: string;
}
interface InstanceBackups {
  instance: {
    id: string;
    backups: { totalCount: number; edges: { cursor: string; node: Backup }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } | null;
  };
}
interface Variables {
  id: string;
  first: number;
  after?: string | null;
  filter?: BackupFilter;
}

/** The upstream answers up to 100 rows per call: a page of 100 costs one call. */
const PAGE_SIZE = 100;

const INSTANCE_BACKUPS: TypedDocumentNode<InstanceBackups, Variables> = gql`
  query InstanceBackups($id: ID!, $first: Int!, $after: String, $filter: BackupFilter) {
    instance(id: $id) {
      id
      backups(first: $first, after: $after, filter: $filter) {
        totalCount
        edges { cursor node { id name type status sizeKb beginTime } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`;

export function InstanceCard({ id, name, filter, onRemove }: { id: string; name?: string; filter?: BackupFilter; onRemove(): void }) {
  // errorPolicy 'all': the answer's data and its errors both reach the card (a field that failed
  // is an error here, not a failed query), and a refetch that fails keeps the rows already shown.
  const { data, error, loading, fetchMore, refetch } = useQuery(INSTANCE_BACKUPS, { variables: { id, first: PAGE_SIZE, filter }, errorPolicy: 'all' });
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
