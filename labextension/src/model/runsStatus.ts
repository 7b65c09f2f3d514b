/** Run statuses: which are active (still changing) and which filters the Runs list offers. */
import type { RunStatus } from '../api/types';

/** Every status a run can have, in lifecycle order. */
export const RUN_STATUSES: readonly RunStatus[] = [
  'queued',
  'preparing',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'lost'
];

/** Statuses of a run that has not ended yet: its log, metrics and status still change. */
export const ACTIVE_STATUSES: readonly RunStatus[] = ['queued', 'preparing', 'running'];

/** True while the run has not ended. */
export function isActiveStatus(status: RunStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

/** One choice of the status filter: `statuses` empty means every status. */
export interface StatusFilterOption {
  value: string;
  label: string;
  statuses: readonly RunStatus[];
}

/** The choices of the "Filter by status" select. */
export const STATUS_FILTER_OPTIONS: readonly StatusFilterOption[] = [
  { value: '', label: 'All statuses', statuses: [] },
  { value: 'active', label: 'Active', statuses: ACTIVE_STATUSES },
  ...RUN_STATUSES.map(status => ({ value: status, label: status, statuses: [status] }))
];

/** The filter option whose statuses are exactly `statuses` ('' for none). */
export function statusFilterValue(statuses: readonly RunStatus[]): string {
  const key = [...statuses].sort().join(',');
  const found = STATUS_FILTER_OPTIONS.find(o => [...o.statuses].sort().join(',') === key);
  return found ? found.value : statuses.join(',');
}
