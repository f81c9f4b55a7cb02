/** The console: a filter for every card, the caller's upstream budget, and one card per instance. */
import { useReactiveVar } from '@apollo/client/react';
import { useMemo, useState, type FormEvent } from 'react';

import { rateLimit } from './client';
import { InstanceCard, type BackupFilter, type BackupType } from './InstanceCard';

export interface Instance {
  id: string;
  name?: string;
}

const TYPES: BackupType[] = ['AUTO', 'MANUAL', 'FRAGMENT', 'INCREMENTAL'];

export function App({ instances: initial }: { instances: Instance[] }) {
  const [instances, setInstances] = useState(initial);
  const [type, setType] = useState<BackupType | ''>('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const filter = useMemo(() => toFilter(type, from, to), [type, from, to]);

  const add = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const input = event.currentTarget.elements.namedItem('id') as HTMLInputElement;
    const id = input.value.trim();
    if (id && !instances.some((i) => i.id === id)) setInstances([...instances, { id }]);
    input.value = '';
  };

  return (
    <>
      <header className="bar">
        <h1>RDS backups</h1>
        <label>
          Type{' '}
          <select value={type} onChange={(e) => setType(e.target.value as BackupType | '')}>
            <option value="">All</option>
            {TYPES.map((t) => <option key={t}>{t}</option>)}
          </select>
        </label>
        <label>From <input type="datetime-local" name="from" value={from} onChange={(e) => setFrom(e.target.value)} /></label>
        <label>To <input type="datetime-local" name="to" value={to} onChange={(e) => setTo(e.target.value)} /></label>
        {(from || to) && !(from && to) && <span className="hint">Give both ends of the range.</span>}
        <form onSubmit={add}>
          <input name="id" placeholder="Instance id" aria-label="Instance id" />
          <button>Add</button>
        </form>
        <Budget />
      </header>
      <main>
        {instances.map((instance) => (
          <InstanceCard key={instance.id} {...instance} filter={filter} onRemove={() => setInstances(instances.filter((i) => i !== instance))} />
        ))}
      </main>
    </>
  );
}

/** The API takes both ends of a time range or neither: half a range is not sent. */
function toFilter(type: BackupType | '', from: string, to: string): BackupFilter | undefined {
  const filter: BackupFilter = {};
  if (type) filter.type = type;
  if (from && to) {
    // datetime-local values carry no offset: Date reads them in the browser's time zone.
    filter.beginTime = new Date(from).toISOString();
    filter.endTime = new Date(to).toISOString();
  }
  return Object.keys(filter).length > 0 ? filter : undefined;
}

function Budget() {
  const budget = useReactiveVar(rateLimit);
  if (!budget) return <p className="budget">Upstream budget: not reported yet</p>;
  return (
    <p className="budget">
      Upstream budget: <strong>{budget.remaining}</strong> of {budget.limit} calls left, full again in {budget.reset} s
    </p>
  );
}
