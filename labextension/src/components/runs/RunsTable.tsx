/**
 * The runs list: a status filter and sort choices, the table of the current page (sorted,
 * filtered and paged by the daemon), checkboxes to pick runs to compare, and pagination.
 * Rows open the run's detail on click, Enter or Space.
 */
import * as React from 'react';
import type { RunSummary } from '../../api/types';
import { RunsModel } from '../../model/runs';
import { STATUS_FILTER_OPTIONS, statusFilterValue } from '../../model/runsStatus';
import {
  formatDuration,
  formatLocalTime,
  formatNumber,
  formatPairs,
  formatParam,
  formatRelativeTime,
  runDurationSeconds,
  runModuleLabel,
  shortId
} from './format';
import { StatusBadge } from './StatusBadge';
import { useSignal } from '../useSignal';

export interface RunsTableProps {
  model: RunsModel;
}

/** A readable name of a sort key ("metrics.loss" -> "metric loss"). */
export function sortKeyLabel(key: string): string {
  if (key.startsWith('metrics.')) {
    return `metric ${key.slice('metrics.'.length)}`;
  }
  if (key.startsWith('params.')) {
    return `param ${key.slice('params.'.length)}`;
  }
  const names: Record<string, string> = {
    created_at: 'created',
    started_at: 'started',
    ended_at: 'ended',
    entry_point: 'module'
  };
  return names[key] ?? key;
}

type AriaSort = 'ascending' | 'descending' | 'none';

function SortHeader(props: {
  model: RunsModel;
  label: string;
  sortKey: string;
}): JSX.Element {
  const { model, label, sortKey } = props;
  const { sort, order } = model.query;
  const active = sort === sortKey;
  const ariaSort: AriaSort = active ? (order === 'asc' ? 'ascending' : 'descending') : 'none';
  return (
    <th scope="col" aria-sort={ariaSort}>
      <button
        type="button"
        className="jp-mlops-runs-sort"
        onClick={() => model.setSort(sortKey)}
        title={`Sort by ${sortKey}`}
      >
        {label}
        <span aria-hidden="true" className="jp-mlops-runs-sort-arrow">
          {active ? (order === 'asc' ? ' ▲' : ' ▼') : ''}
        </span>
      </button>
    </th>
  );
}

/** A header that is not a button; it shows the sort when a metric/param key of it is chosen. */
function PlainHeader(props: { model: RunsModel; label: string; prefix: string }): JSX.Element {
  const { sort, order } = props.model.query;
  const active = sort.startsWith(props.prefix);
  return (
    <th scope="col" aria-sort={active ? (order === 'asc' ? 'ascending' : 'descending') : undefined}>
      {props.label}
      {active ? (
        <span className="jp-mlops-runs-sort-arrow">
          {` (${sort.slice(props.prefix.length)}${order === 'asc' ? ' ▲' : ' ▼'})`}
        </span>
      ) : null}
    </th>
  );
}

function RunRow(props: { model: RunsModel; run: RunSummary; now: number }): JSX.Element {
  const { model, run, now } = props;
  const id = shortId(run.id);
  const selected = model.isSelected(run.id);
  const params = formatPairs(run.params, formatParam);
  const metrics = formatPairs(run.metrics, formatNumber);
  const started = run.started_at ?? run.created_at;
  const open = (): void => model.openRun(run.id);
  return (
    <tr
      tabIndex={0}
      data-run-id={run.id}
      className={`jp-mlops-runs-row${selected ? ' jp-mlops-runs-row-selected' : ''}`}
      onClick={open}
      onKeyDown={event => {
        if (event.target === event.currentTarget && (event.key === 'Enter' || event.key === ' ')) {
          event.preventDefault();
          open();
        }
      }}
    >
      <td className="jp-mlops-runs-select" onClick={event => event.stopPropagation()}>
        <input
          type="checkbox"
          aria-label={`Select run ${id}`}
          checked={selected}
          onChange={event => model.toggleSelected(run.id, event.currentTarget.checked)}
        />
      </td>
      <td>
        <StatusBadge status={run.status} />
      </td>
      <td className="jp-mlops-runs-module" title={`${run.entry_point} (run ${run.id})`}>
        {run.name ? <span className="jp-mlops-runs-name">{run.name}</span> : null}
        <span>{runModuleLabel(run)}</span>
      </td>
      <td className="jp-mlops-runs-pairs" title={params}>
        {params || '—'}
      </td>
      <td className="jp-mlops-runs-pairs" title={metrics}>
        {metrics || '—'}
      </td>
      <td title={formatLocalTime(started)}>
        {run.started_at
          ? formatRelativeTime(started, now)
          : `queued ${formatRelativeTime(started, now)}`}
      </td>
      <td>{formatDuration(runDurationSeconds(run, now))}</td>
      <td>{run.executor}</td>
    </tr>
  );
}

function Toolbar({ model }: RunsTableProps): JSX.Element {
  const { query } = model;
  return (
    <div className="jp-mlops-runs-toolbar">
      <select
        aria-label="Filter by status"
        value={statusFilterValue(query.statuses)}
        onChange={event => model.setStatusFilterValue(event.currentTarget.value)}
      >
        {STATUS_FILTER_OPTIONS.map(o => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      <select
        aria-label="Sort by"
        value={query.sort}
        onChange={event => model.setSort(event.currentTarget.value)}
      >
        {model.sortKeys.map(key => (
          <option key={key} value={key}>
            {`Sort: ${sortKeyLabel(key)}`}
          </option>
        ))}
      </select>
      <button
        type="button"
        className="jp-mlops-button"
        aria-label={`Sort order: ${query.order === 'asc' ? 'ascending' : 'descending'}`}
        title="Reverse the sort order"
        onClick={() => model.setOrder(query.order === 'asc' ? 'desc' : 'asc')}
      >
        {query.order === 'asc' ? '▲' : '▼'}
      </button>
      <button
        type="button"
        className="jp-mlops-button"
        title="Refresh the list"
        onClick={() => void model.refresh()}
      >
        Refresh
      </button>
    </div>
  );
}

function Pager({ model }: RunsTableProps): JSX.Element {
  const { page } = model.query;
  const pages = model.pageCount;
  const selected = model.selection.length;
  return (
    <div className="jp-mlops-runs-pager">
      <button
        type="button"
        className="jp-mlops-button"
        aria-label="Previous page"
        title="Previous page"
        disabled={page <= 1}
        onClick={() => model.previousPage()}
      >
        ‹
      </button>
      <span>{`Page ${page} of ${pages}`}</span>
      <button
        type="button"
        className="jp-mlops-button"
        aria-label="Next page"
        title="Next page"
        disabled={page >= pages}
        onClick={() => model.nextPage()}
      >
        ›
      </button>
      <span className="jp-mlops-runs-count">
        {`${model.total} ${model.total === 1 ? 'run' : 'runs'}`}
      </span>
      <span className="jp-mlops-runs-spacer" />
      {selected ? (
        <>
          <span>{`${selected} selected`}</span>
          <button type="button" className="jp-mlops-button" onClick={() => model.clearSelection()}>
            Clear selection
          </button>
        </>
      ) : null}
      <button
        type="button"
        className="jp-mlops-button jp-mlops-button-primary"
        disabled={selected < 2}
        title={selected < 2 ? 'Select two or more runs to compare' : undefined}
        onClick={() => void model.openCompare()}
      >
        Compare
      </button>
    </div>
  );
}

export function RunsTable({ model }: RunsTableProps): JSX.Element {
  useSignal(model.changed);
  const tableRef = React.useRef<HTMLTableElement>(null);
  const now = Date.now();
  const filtered = model.query.statuses.length > 0;
  React.useEffect(() => {
    // Coming back from a run's detail: give its row the focus again.
    const id = model.lastOpenedId;
    if (id && tableRef.current) {
      const rows = tableRef.current.querySelectorAll<HTMLElement>('tr[data-run-id]');
      Array.from(rows)
        .find(row => row.dataset.runId === id)
        ?.focus();
    }
  }, []);
  let empty: string | null = null;
  if (!model.runs.length) {
    if (!model.loaded) {
      empty = model.error ? 'Runs could not be loaded.' : 'Loading runs…';
    } else {
      empty = filtered
        ? 'No runs match the filter.'
        : 'No runs yet: train a module to see it here.';
    }
  }
  return (
    <div className="jp-mlops-runs-list">
      <Toolbar model={model} />
      <div className="jp-mlops-runs-table-wrap">
        <table
          ref={tableRef}
          aria-label="Runs"
          aria-busy={model.loading}
          className="jp-mlops-runs-table"
        >
          <thead>
            <tr>
              <th scope="col" className="jp-mlops-runs-select">
                <span className="jp-mlops-runs-visually-hidden">Select</span>
              </th>
              <SortHeader model={model} label="Status" sortKey="status" />
              <SortHeader model={model} label="Module" sortKey="entry_point" />
              <PlainHeader model={model} label="Params" prefix="params." />
              <PlainHeader model={model} label="Metrics" prefix="metrics." />
              <SortHeader model={model} label="Started" sortKey="created_at" />
              <SortHeader model={model} label="Duration" sortKey="duration" />
              <th scope="col">Executor</th>
            </tr>
          </thead>
          <tbody>
            {empty ? (
              <tr>
                <td colSpan={8} className="jp-mlops-runs-empty">
                  {empty}
                </td>
              </tr>
            ) : (
              model.runs.map(run => <RunRow key={run.id} model={model} run={run} now={now} />)
            )}
          </tbody>
        </table>
      </div>
      <Pager model={model} />
    </div>
  );
}
