/**
 * The Runs section's state: the server-side query (page, sort, order, status filter), the
 * current page, the selection for compare, and the open run or comparison.
 *
 * Sorting, filtering and paging are all done by the daemon (`GET /api/runs`), so the list
 * stays fast with any number of runs. Only the newest answer is applied: a slow answer to an
 * older query never overwrites a newer one. The list is polled while the panel is visible
 * (`setActive(true)`), the list is shown, and one of its runs is active.
 */
import { ISignal, Signal } from '@lumino/signaling';
import { listRuns, submitRun, SortOrder } from '../api/client';
import { errorMessage, MlopsApiError } from '../api/request';
import type { RunStatus, RunSummary } from '../api/types';
import { CompareData, loadCompare } from './runsCompare';
import { RunDetailModel } from './runsDetail';
import {
  clampPerPage,
  defaultOrder,
  flip,
  RunsQueryState,
  sortKeysFor,
  toRunQuery
} from './runsQuery';
import { isActiveStatus, STATUS_FILTER_OPTIONS } from './runsStatus';

export type { RunsQueryState } from './runsQuery';

export interface RunsOptions {
  perPage: number;
  pollIntervalMs: number;
  /** Only the runs of this project (absolute path); default: all projects. */
  project?: string | null;
}

/** Which part of the Runs section is shown. */
export type RunsView = 'list' | 'detail' | 'compare';

function isPermanent(err: unknown): boolean {
  return err instanceof MlopsApiError && err.status >= 400 && err.status < 500;
}

export class RunsModel {
  constructor(opts: RunsOptions) {
    this._query = {
      page: 1,
      perPage: clampPerPage(opts.perPage),
      sort: 'created_at',
      order: 'desc',
      statuses: [],
      project: opts.project ?? null
    };
    this._pollIntervalMs = opts.pollIntervalMs;
  }

  /** Emitted whenever anything the section shows changes (list, selection, detail, compare). */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get query(): Readonly<RunsQueryState> {
    return this._query;
  }

  /** The runs of the current page, in the daemon's order. */
  get runs(): readonly RunSummary[] {
    return this._runs;
  }

  /** How many runs match the filter (all pages). */
  get total(): number {
    return this._total;
  }

  /** Number of pages (at least 1). */
  get pageCount(): number {
    return Math.max(1, Math.ceil(this._total / this._query.perPage));
  }

  /** True before the first answer and while a changed query is loading. */
  get loading(): boolean {
    return this._loading;
  }

  /** True once a page has been received. */
  get loaded(): boolean {
    return this._loaded;
  }

  /** The last error of the list, compare or re-run, as one line; null when none. */
  get error(): string | null {
    return this._error;
  }

  get view(): RunsView {
    return this._view;
  }

  /** The open run (view 'detail'), or null. */
  get detail(): RunDetailModel | null {
    return this._detail;
  }

  /** The comparison (view 'compare'); null while loading or when none. */
  get compare(): CompareData | null {
    return this._compare;
  }

  get compareLoading(): boolean {
    return this._compareLoading;
  }

  /** Ids selected for compare, in the order they were selected. */
  get selection(): readonly string[] {
    return [...this._selection];
  }

  /** The last run opened (to give its row the focus back). */
  get lastOpenedId(): string | null {
    return this._lastOpenedId;
  }

  /** The sort keys to offer: the fixed ones plus the metric and param keys of the page. */
  get sortKeys(): string[] {
    return sortKeysFor(this._runs, this._query.sort);
  }

  isSelected(id: string): boolean {
    return this._selection.has(id);
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Apply settings live. */
  configure(opts: Partial<RunsOptions>): void {
    if (opts.pollIntervalMs !== undefined) {
      this._pollIntervalMs = opts.pollIntervalMs;
      this._detail?.setPollInterval(opts.pollIntervalMs);
    }
    if (opts.project !== undefined && opts.project !== this._query.project) {
      this._setQuery({ project: opts.project, page: 1 });
    }
    if (opts.perPage !== undefined && clampPerPage(opts.perPage) !== this._query.perPage) {
      this._setQuery({ perPage: clampPerPage(opts.perPage), page: 1 });
    }
  }

  /** Sort by `sort`: the same key again flips the order unless `order` is given. */
  setSort(sort: string, order?: SortOrder): void {
    const same = sort === this._query.sort;
    const next = order ?? (same ? flip(this._query.order) : defaultOrder(sort));
    this._setQuery({ sort, order: next, page: 1 });
  }

  setOrder(order: SortOrder): void {
    this._setQuery({ order, page: 1 });
  }

  /** Keep only runs with these statuses (empty: all). */
  setStatusFilter(statuses: readonly RunStatus[]): void {
    this._setQuery({ statuses: [...statuses], page: 1 });
  }

  /** Apply a choice of the status filter select (see STATUS_FILTER_OPTIONS). */
  setStatusFilterValue(value: string): void {
    const option = STATUS_FILTER_OPTIONS.find(o => o.value === value);
    this.setStatusFilter(option ? option.statuses : []);
  }

  setPage(page: number): void {
    const clamped = Math.max(1, Math.min(Math.floor(page), this.pageCount));
    this._setQuery({ page: clamped });
  }

  nextPage(): void {
    if (this._query.page < this.pageCount) {
      this.setPage(this._query.page + 1);
    }
  }

  previousPage(): void {
    if (this._query.page > 1) {
      this.setPage(this._query.page - 1);
    }
  }

  /** Select or unselect a run for compare (toggles when `selected` is not given). */
  toggleSelected(id: string, selected?: boolean): void {
    const want = selected ?? !this._selection.has(id);
    if (want === this._selection.has(id)) {
      return;
    }
    if (want) {
      this._selection.add(id);
    } else {
      this._selection.delete(id);
    }
    this._emit();
  }

  clearSelection(): void {
    if (this._selection.size) {
      this._selection.clear();
      this._emit();
    }
  }

  /** Fetch the current page now (and keep polling while it has active runs). */
  async refresh(): Promise<void> {
    if (this._disposed) {
      return;
    }
    this._clearListTimer();
    const seq = ++this._listSeq;
    const q = this._query;
    try {
      const page = await listRuns(toRunQuery(q));
      if (this._disposed || seq !== this._listSeq) {
        return;
      }
      this._runs = page.runs;
      this._total = page.total;
      this._loaded = true;
      this._loading = false;
      this._error = null;
      if (page.total > 0 && page.runs.length === 0 && q.page > this.pageCount) {
        // The last pages went away (e.g. a narrower filter): show the new last page.
        this._emit();
        this.setPage(this.pageCount);
        return;
      }
      this._emit();
      this._scheduleListPoll(this._runs.some(r => isActiveStatus(r.status)));
    } catch (err) {
      if (this._disposed || seq !== this._listSeq) {
        return;
      }
      this._loading = false;
      this._error = errorMessage(err);
      this._emit();
      this._scheduleListPoll(!isPermanent(err) && this._runs.some(r => isActiveStatus(r.status)));
    }
  }

  /** Show one run: its detail, metrics and log, polled while it is active. */
  openRun(id: string): void {
    if (this._disposed) {
      return;
    }
    this._closeDetail();
    this._closeCompare();
    this._clearListTimer();
    const detail = new RunDetailModel(id, { pollIntervalMs: this._pollIntervalMs });
    detail.changed.connect(this._onDetailChanged, this);
    detail.setPaused(!this._active);
    this._detail = detail;
    this._lastOpenedId = id;
    this._view = 'detail';
    this._emit();
    void detail.refresh();
  }

  /** Cancel the open run. */
  async cancelOpenRun(): Promise<void> {
    await this._detail?.cancel();
  }

  /** Submit the open run's spec again as a new run, then open the new run. Forced: an
   * identical run that succeeded would otherwise be answered from the cache. */
  async rerun(): Promise<void> {
    const detail = this._detail;
    const run = detail?.run;
    if (!detail || !run || this._rerunning) {
      return;
    }
    this._rerunning = true;
    detail.setActionError(null);
    try {
      const created = await submitRun({ ...run.spec, force: true });
      if (this._disposed) {
        return;
      }
      this._rerunning = false;
      this.openRun(created.id);
    } catch (err) {
      this._rerunning = false;
      if (!detail.isDisposed) {
        detail.setActionError(errorMessage(err));
      }
      this._emit();
    }
  }

  /** True while a re-run is being submitted. */
  get rerunning(): boolean {
    return this._rerunning;
  }

  /** Compare the selected runs (2 or more): their params and metrics side by side. */
  async openCompare(): Promise<void> {
    const ids = this.selection;
    if (this._disposed || ids.length < 2) {
      return;
    }
    this._closeDetail();
    this._clearListTimer();
    this._view = 'compare';
    this._compare = null;
    this._compareLoading = true;
    this._error = null;
    const seq = ++this._compareSeq;
    this._emit();
    try {
      const data = await loadCompare(ids);
      if (this._disposed || seq !== this._compareSeq) {
        return;
      }
      this._compare = data;
    } catch (err) {
      if (this._disposed || seq !== this._compareSeq) {
        return;
      }
      this._error = errorMessage(err);
    }
    this._compareLoading = false;
    this._emit();
  }

  /** Leave the detail or compare view and show the list (refreshed). */
  backToRuns(): void {
    if (this._disposed || this._view === 'list') {
      return;
    }
    this._closeDetail();
    this._closeCompare();
    this._view = 'list';
    this._error = null;
    this._emit();
    void this.refresh();
  }

  /** The panel became visible (poll) or hidden (stop polling). */
  setActive(active: boolean): void {
    if (this._disposed || active === this._active) {
      return;
    }
    this._active = active;
    this._detail?.setPaused(!active);
    if (!active) {
      this._clearListTimer();
    } else if (this._view === 'list') {
      void this.refresh();
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._clearListTimer();
    this._detail?.dispose();
    this._detail = null;
    Signal.clearData(this);
  }

  private _setQuery(change: Partial<RunsQueryState>): void {
    if (this._disposed) {
      return;
    }
    this._query = { ...this._query, ...change };
    this._loading = true;
    this._emit();
    void this.refresh();
  }

  private _scheduleListPoll(wanted: boolean): void {
    this._clearListTimer();
    if (wanted && this._active && this._view === 'list' && !this._disposed) {
      this._listTimer = setTimeout(() => void this.refresh(), this._pollIntervalMs);
    }
  }

  private _clearListTimer(): void {
    if (this._listTimer !== null) {
      clearTimeout(this._listTimer);
      this._listTimer = null;
    }
  }

  private _closeDetail(): void {
    if (this._detail) {
      this._detail.dispose();
      this._detail = null;
    }
  }

  private _closeCompare(): void {
    this._compareSeq++;
    this._compare = null;
    this._compareLoading = false;
  }

  private _onDetailChanged(): void {
    this._emit();
  }

  private _emit(): void {
    if (!this._disposed) {
      this._changed.emit();
    }
  }

  private _changed = new Signal<this, void>(this);
  private _query: RunsQueryState;
  private _pollIntervalMs: number;
  private _runs: readonly RunSummary[] = [];
  private _total = 0;
  private _loading = true;
  private _loaded = false;
  private _error: string | null = null;
  private _view: RunsView = 'list';
  private _detail: RunDetailModel | null = null;
  private _compare: CompareData | null = null;
  private _compareLoading = false;
  private _compareSeq = 0;
  private _selection = new Set<string>();
  private _lastOpenedId: string | null = null;
  private _rerunning = false;
  private _active = false;
  private _disposed = false;
  private _listSeq = 0;
  private _listTimer: ReturnType<typeof setTimeout> | null = null;
}
