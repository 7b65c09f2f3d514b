/**
 * The Models section's state: the registered models, the open model's detail (versions with
 * their gate reports, aliases, history), and the alias changes (promote, roll back, cut out,
 * restore).
 *
 * The list is polled slowly while the panel is visible and the list is shown; the open
 * model is polled while one of its gate reports is pending, so checks appear as they finish.
 * Actions never throw: they resolve to the error message (null on success), which is also
 * kept in `actionError` for the component to show inline.
 */
import { ISignal, Signal } from '@lumino/signaling';
import {
  cutoutModel,
  getModel,
  getServingStats,
  listModels,
  promoteModel,
  restoreModel,
  rollbackModel
} from '../api/client';
import { errorMessage, MlopsApiError } from '../api/request';
import type { ModelDetail, ModelSummary, ServingStatsList } from '../api/types';
import {
  ActionError,
  AliasChangeInput,
  doneMessage,
  ModelAction,
  PromoteInput,
  validateAction
} from './modelsActions';

export {
  ALIAS_PATTERN,
  STANDARD_ALIASES,
  validateAction,
  type ActionError,
  type AliasChangeInput,
  type ModelAction,
  type PromoteInput
} from './modelsActions';

export interface ModelsOptions {
  pollIntervalMs: number;
}

/** Which part of the Models section is shown. */
export type ModelsView = 'list' | 'detail';

/** The list is polled this many times slower than live views, and at most this often. */
const LIST_POLL_FACTOR = 5;
const MIN_LIST_POLL_MS = 5000;

function isPermanent(err: unknown): boolean {
  return err instanceof MlopsApiError && err.status >= 400 && err.status < 500;
}

/** True while a gate report of one of the model's versions is still running. */
export function hasPendingGates(detail: ModelDetail | null): boolean {
  return !!detail && detail.versions.some(v => v.gate?.status === 'pending');
}

export class ModelsModel {
  constructor(opts: ModelsOptions) {
    this._pollIntervalMs = opts.pollIntervalMs;
  }

  /** Emitted whenever anything the section shows changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get models(): readonly ModelSummary[] {
    return this._models;
  }

  /** True once the list has been received. */
  get loaded(): boolean {
    return this._loaded;
  }

  /** The last error of the list, as one line; null when none. */
  get error(): string | null {
    return this._error;
  }

  get view(): ModelsView {
    return this._view;
  }

  /** The open model's name (view 'detail'), or null. */
  get selected(): string | null {
    return this._selected;
  }

  /** The open model, null while loading. */
  get detail(): ModelDetail | null {
    return this._detail;
  }

  /** Serving statistics of the open model's aliases (null until read, or if unavailable). */
  get serving(): ServingStatsList | null {
    return this._serving;
  }

  /** The last error reading the open model; null when none. */
  get detailError(): string | null {
    return this._detailError;
  }

  /** The action in flight, or null. */
  get pending(): ModelAction | null {
    return this._pending;
  }

  /** The last refused or invalid action, until the next action or another model. */
  get actionError(): ActionError | null {
    return this._actionError;
  }

  /** What the last successful action did, as one line; null when none. */
  get notice(): string | null {
    return this._notice;
  }

  /** True while a gate report of the open model is still running (it is polled). */
  get gatesPending(): boolean {
    return hasPendingGates(this._detail);
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  configure(opts: Partial<ModelsOptions>): void {
    if (opts.pollIntervalMs !== undefined) {
      this._pollIntervalMs = opts.pollIntervalMs;
    }
  }

  /** Read the list (and the open model) now. */
  async refresh(): Promise<void> {
    if (this._disposed) {
      return;
    }
    if (this._view === 'detail') {
      await Promise.all([this._readList(false), this.refreshDetail()]);
    } else {
      await this._readList(true);
    }
  }

  /** Show one model; its detail is read at once. */
  openModel(name: string): void {
    if (this._disposed) {
      return;
    }
    this._clearTimer();
    this._view = 'detail';
    this._selected = name;
    this._detail = null;
    this._detailError = null;
    this._actionError = null;
    this._notice = null;
    this._emit();
    void this.refreshDetail();
  }

  /** Back to the list (refreshed). */
  backToModels(): void {
    if (this._disposed || this._view === 'list') {
      return;
    }
    this._detailSeq++;
    this._clearTimer();
    this._view = 'list';
    this._selected = null;
    this._detail = null;
    this._detailError = null;
    this._actionError = null;
    this._notice = null;
    this._emit();
    void this._readList(true);
  }

  /** Read the open model; poll again while one of its gate reports is pending. */
  async refreshDetail(): Promise<void> {
    const name = this._selected;
    if (this._disposed || name === null) {
      return;
    }
    this._clearTimer();
    const seq = ++this._detailSeq;
    let retry = true;
    try {
      const [detail, serving] = await Promise.all([
        getModel(name),
        getServingStats(name).catch(() => null) // statistics are a bonus, never an error
      ]);
      if (this._disposed || seq !== this._detailSeq) {
        return;
      }
      this._detail = detail;
      this._serving = serving;
      this._detailError = null;
    } catch (err) {
      if (this._disposed || seq !== this._detailSeq) {
        return;
      }
      this._detailError = errorMessage(err);
      retry = !isPermanent(err);
    }
    this._emit();
    if (retry && this._active && (this.gatesPending || this._detail === null)) {
      this._timer = setTimeout(() => void this.refreshDetail(), this._pollIntervalMs);
    }
  }

  /** The panel became visible (poll) or hidden (stop polling). */
  setActive(active: boolean): void {
    if (this._disposed || active === this._active) {
      return;
    }
    this._active = active;
    if (!active) {
      this._clearTimer();
    } else {
      void this.refresh();
    }
  }

  /** Forget the last error and notice of an action (e.g. when its form is closed). */
  clearActionMessages(): void {
    if (this._actionError || this._notice) {
      this._actionError = null;
      this._notice = null;
      this._emit();
    }
  }

  /** Point `input.alias` at `input.version`; resolves to the refusal, or null. */
  promote(input: PromoteInput): Promise<string | null> {
    return this._act('promote', input, name =>
      promoteModel(name, {
        version: input.version,
        alias: input.alias,
        override: input.override,
        reason: input.reason.trim() || null
      })
    );
  }

  /** Point the alias back at its previous version. */
  rollback(input: AliasChangeInput): Promise<string | null> {
    return this._act('rollback', input, name =>
      rollbackModel(name, { alias: input.alias ?? '', reason: input.reason.trim() || null })
    );
  }

  /** Stop serving the alias (null: every alias); the reason is required. */
  cutout(input: AliasChangeInput): Promise<string | null> {
    return this._act('cutout', input, name =>
      cutoutModel(name, { alias: input.alias, reason: input.reason.trim() })
    );
  }

  /** Serve the cut-out alias again (null: every cut-out alias). */
  restore(input: AliasChangeInput): Promise<string | null> {
    return this._act('restore', input, name =>
      restoreModel(name, { alias: input.alias, reason: input.reason.trim() || null })
    );
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._clearTimer();
    Signal.clearData(this);
  }

  private async _act(
    action: ModelAction,
    input: PromoteInput | AliasChangeInput,
    call: (name: string) => Promise<ModelDetail>
  ): Promise<string | null> {
    const name = this._selected;
    if (this._disposed || name === null) {
      return 'No model is open.';
    }
    if (this._pending) {
      return `Wait until the ${this._pending} in progress has finished.`;
    }
    const invalid = validateAction(action, input);
    this._notice = null;
    if (invalid) {
      this._actionError = { action, message: invalid };
      this._emit();
      return invalid;
    }
    this._pending = action;
    this._actionError = null;
    this._emit();
    let message: string | null = null;
    try {
      const detail = await call(name);
      if (!this._disposed && this._selected === name) {
        this._detailSeq++; // an older poll's answer must not undo what this one shows
        this._detail = detail;
        this._detailError = null;
        this._notice = doneMessage(action, input);
      }
    } catch (err) {
      message = errorMessage(err);
      if (!this._disposed && this._selected === name) {
        this._actionError = { action, message };
      }
    }
    this._pending = null;
    this._emit();
    if (message === null) {
      void this._readList(false);
    }
    return message;
  }

  /** Read the list; `poll`: schedule the next read (list view only). */
  private async _readList(poll: boolean): Promise<void> {
    if (poll) {
      this._clearTimer();
    }
    const seq = ++this._listSeq;
    let retry = true;
    try {
      const list = await listModels();
      if (this._disposed || seq !== this._listSeq) {
        return;
      }
      this._models = list.models;
      this._loaded = true;
      this._error = null;
    } catch (err) {
      if (this._disposed || seq !== this._listSeq) {
        return;
      }
      this._error = errorMessage(err);
      retry = !isPermanent(err);
    }
    this._emit();
    if (poll && retry && this._active && this._view === 'list') {
      const ms = Math.max(MIN_LIST_POLL_MS, this._pollIntervalMs * LIST_POLL_FACTOR);
      this._timer = setTimeout(() => void this._readList(true), ms);
    }
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _emit(): void {
    if (!this._disposed) {
      this._changed.emit();
    }
  }

  private _changed = new Signal<this, void>(this);
  private _pollIntervalMs: number;
  private _models: readonly ModelSummary[] = [];
  private _loaded = false;
  private _error: string | null = null;
  private _view: ModelsView = 'list';
  private _selected: string | null = null;
  private _serving: ServingStatsList | null = null;
  private _detail: ModelDetail | null = null;
  private _detailError: string | null = null;
  private _pending: ModelAction | null = null;
  private _actionError: ActionError | null = null;
  private _notice: string | null = null;
  private _active = false;
  private _disposed = false;
  private _listSeq = 0;
  private _detailSeq = 0;
  private _timer: ReturnType<typeof setTimeout> | null = null;
}
