/** The Runs list's query: its state, how it becomes a `GET /api/runs` query, sort keys. */
import type { RunQuery, SortOrder } from '../api/client';
import type { RunStatus, RunSummary } from '../api/types';

/** What the daemon is asked for. */
export interface RunsQueryState {
  page: number;
  perPage: number;
  /** created_at, started_at, ended_at, duration, status, entry_point, name, metrics.<k> or
   * params.<k> */
  sort: string;
  order: SortOrder;
  /** Statuses to keep; empty means all. */
  statuses: readonly RunStatus[];
  project: string | null;
}

/** Sort keys that always exist (metric and param keys are added from the runs shown). */
export const BASE_SORT_KEYS: readonly string[] = [
  'created_at',
  'started_at',
  'ended_at',
  'duration',
  'status',
  'entry_point',
  'name'
];

const MAX_PER_PAGE = 500;

/** The order a newly chosen key starts with: names ascending, numbers and times descending. */
export function defaultOrder(sort: string): SortOrder {
  const byName = ['status', 'entry_point', 'name'].includes(sort) || sort.startsWith('params.');
  return byName ? 'asc' : 'desc';
}

/** The `GET /api/runs` query of a query state (no status or project when not set). */
export function toRunQuery(q: Readonly<RunsQueryState>): RunQuery {
  return {
    page: q.page,
    per_page: q.perPage,
    sort: q.sort,
    order: q.order,
    ...(q.statuses.length ? { status: q.statuses.join(',') } : {}),
    ...(q.project ? { project: q.project } : {})
  };
}

/** The sort keys to offer: the fixed ones, then the metric and param keys of `runs`. */
export function sortKeysFor(runs: readonly RunSummary[], current: string): string[] {
  const extra = new Set<string>();
  for (const run of runs) {
    Object.keys(run.metrics).forEach(k => extra.add(`metrics.${k}`));
    Object.keys(run.params).forEach(k => extra.add(`params.${k}`));
  }
  if (!BASE_SORT_KEYS.includes(current)) {
    extra.add(current);
  }
  return [...BASE_SORT_KEYS, ...[...extra].sort()];
}

/** The other sort order. */
export function flip(order: SortOrder): SortOrder {
  return order === 'asc' ? 'desc' : 'asc';
}

/** A page size the daemon accepts (1 to 500). */
export function clampPerPage(perPage: number): number {
  return Math.max(1, Math.min(MAX_PER_PAGE, Math.floor(perPage) || 25));
}
