/**
 * What one `backups` connection or one `backup` lookup costs in upstream calls, at most: the
 * read strategy of service.ts, lists.ts, relocation.ts and lookups.ts, restated as arithmetic
 * for the per-operation limit (limits/upstream-calls.ts), which prices an operation before it
 * runs. A change to how those files read must change this file with it.
 *
 * Calls read at most CHUNK (the upstream's largest `limit`, 100) rows; with prefetch, chunks
 * aligned to multiples of 100; without, chunks that start where the rows needed start. Each
 * bound is an upper bound, term by term (calls that aliases share, or that the cache answers,
 * are counted anyway). For a `backups` connection with a page of n rows (`first`, `last`, or 20):
 * - `last` without `before`: one head call for the total.
 * - The page read: n rows, plus the row of each cursor when it is right next to the page (`first`
 *   after a cursor, `last` before one). From offset 0 (no `after`, no `last`) r rows take
 *   ceil(r/100) calls; from any other offset, aligned chunks may add one: floor((r + 98)/100) + 1.
 *   Never fewer than one call (even `first: 0` asks for the total).
 * - A cursor row that is not next to the page (`after` with `last`, `before` with `first`) is
 *   read on its own: one call.
 * - Relocation, for each cursor (its backup may have moved): at most one call on each side. The
 *   forward side reads 100 rows past the rows the page read already has (plus, after an `after`
 *   cursor, the page beside it, which the page read holds); the backward side the 100 rows
 *   before them. A span of 100 rows starting right after (or ending right before) rows already
 *   fetched needs one new chunk: one aligned chunk past the last one fetched, or one unaligned
 *   call of 100 rows from where the fetched rows end. The backup is accepted only within 100
 *   rows, so the page served next to it lies in rows already read: no further call. Two cursors,
 *   four calls.
 * - Plus n times what each row's selection costs (a connection nested in every row multiplies):
 *   connectionRows() is that n.
 * A `backup` lookup is LOOKUP_CALLS: per instance, n lookups cost at most n calls (lookups.ts
 * makes none on speculation).
 *
 * A router's demand control cannot run this file: it prices an operation from the `@cost` and
 * `@listSize` directives in the subgraph SDL (schema/federation.graphql says which weight is
 * where), a sum of weights times list sizes. Those weights restate this file at
 * ROUTER_COST_PER_CALL units per call: a connection 100 + 1 per row (exact at 20 and 500 rows,
 * within one call between: a sum cannot follow ceil(rows/100)), `after` 360, `last` 240, `before`
 * 120, a lookup 120. test/federation/demand-control.test.ts runs Hive Gateway's demand control
 * over the composed supergraph and checks that it orders operations as upstreamCallsOf() does and
 * refuses the same ones at ROUTER_COST_PER_CALL x MAX_UPSTREAM_CALLS_PER_OPERATION. A change here
 * must change those weights with it.
 */
import { DEFAULT_PAGE_SIZE } from '../pagination/connection';
import { CHUNK } from './lists';

/** Connection arguments as the cost model reads them: a page size counts only when it is a number, a cursor only when present. */
export interface CostArgs {
  first?: unknown;
  last?: unknown;
  after?: unknown;
  before?: unknown;
}

/** The cost units a router's demand control counts for one upstream call (see the module comment). */
export const ROUTER_COST_PER_CALL = 120;

/** The calls of one `backup` lookup, its selection not included (see the module comment). */
export const LOOKUP_CALLS = 1;

/** Calls to read `rows` consecutive rows, from offset 0 or from anywhere (see the module comment). */
export function spanCalls(rows: number, fromStart: boolean): number {
  if (rows <= 0) return 1;
  return fromStart ? Math.ceil(rows / CHUNK) : Math.floor((rows + CHUNK - 2) / CHUNK) + 1;
}

/** The calls of one `backups` connection's own reads (its rows' selections not included). */
export function connectionCalls(args: CostArgs): number {
  const last = typeof args.last === 'number' ? args.last : undefined;
  const first = typeof args.first === 'number' ? args.first : undefined;
  const backward = last !== undefined;
  const rows = Math.max(0, backward ? last : first ?? DEFAULT_PAGE_SIZE);
  const after = args.after != null;
  const before = args.before != null;
  const head = backward && !before ? 1 : 0;
  const besidePage = Number(after && !backward) + Number(before && backward);
  const apart = Number(after && backward) + Number(before && !backward);
  const relocation = 2 * (Number(after) + Number(before));
  return head + spanCalls(rows + besidePage, !after && !backward) + apart + relocation;
}

/** The rows of one `backups` connection's page: how many times its rows' selection is paid. */
export function connectionRows(args: CostArgs): number {
  const rows = typeof args.last === 'number' ? args.last : typeof args.first === 'number' ? args.first : DEFAULT_PAGE_SIZE;
  return Math.max(0, rows);
}
