/**
 * One open run: its detail, metric series and log text, polled while the run is active.
 *
 * The log is read by offsets (`getLogs(id, next_offset)`), so each byte is fetched once and
 * the text is only appended to. Metrics are re-read on every poll while the run is active
 * (and once more when it ends) so charts follow the run live. Polling stops when the run has
 * ended and its log is complete, when the model is paused (panel hidden) or disposed.
 */
import { ISignal, Signal } from '@lumino/signaling';
import { cancelRun, getLogs, getMetrics, getRun, listModules } from '../api/client';
import { errorMessage, MlopsApiError } from '../api/request';
import type { MetricSeries, ModuleVersionOut, RunDetail } from '../api/types';
import { isActiveStatus } from './runsStatus';

export interface RunDetailOptions {
  pollIntervalMs: number;
  /** Keep at most this many characters of log text (the tail); default 500,000. */
  maxLogChars?: number;
  /** Log pages fetched per poll when the log is behind; default 20. */
  maxLogPagesPerPoll?: number;
}

const DEFAULT_MAX_LOG_CHARS = 500_000;
const DEFAULT_MAX_LOG_PAGES = 20;

/** True for an error that will not go away by asking again (a 4xx answer). */
function isPermanent(err: unknown): boolean {
  return err instanceof MlopsApiError && err.status >= 400 && err.status < 500;
}

export class RunDetailModel {
  constructor(id: string, opts: RunDetailOptions) {
    this.id = id;
    this._pollIntervalMs = opts.pollIntervalMs;
    this._maxLogChars = opts.maxLogChars ?? DEFAULT_MAX_LOG_CHARS;
    this._maxLogPages = opts.maxLogPagesPerPoll ?? DEFAULT_MAX_LOG_PAGES;
  }

  /** The run's id. */
  readonly id: string;

  /** Emitted whenever anything shown changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The run, null until the first answer. */
  get run(): RunDetail | null {
    return this._run;
  }

  /** The metric series, one per key. */
  get series(): readonly MetricSeries[] {
    return this._series;
  }

  /** The log text read so far (its tail when longer than the cap). */
  get log(): string {
    return this._log;
  }

  /** True when the beginning of the log was dropped to keep its size bounded. */
  get logTruncated(): boolean {
    return this._logTruncated;
  }

  /** True once the run has ended and the whole log has been read. */
  get logComplete(): boolean {
    return this._logComplete;
  }

  /** The module version the run trained, once looked up (null when none or not found). */
  get moduleVersion(): ModuleVersionOut | null {
    return this._moduleVersion;
  }

  /** True while the run has not ended. */
  get active(): boolean {
    return this._run !== null && isActiveStatus(this._run.status);
  }

  /** True while something shown may still change (the run is active or its log incomplete). */
  get live(): boolean {
    return this._run === null || this.active || !this._logComplete;
  }

  /** True while a cancel request is in flight. */
  get cancelling(): boolean {
    return this._cancelling;
  }

  /**
   * The error to show, as one line: the last failed action (cancel, re-run) until the next
   * action, else the last failed read until a read succeeds; null when none.
   */
  get error(): string | null {
    return this._actionError ?? this._error;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Change the polling period (applies from the next poll). */
  setPollInterval(ms: number): void {
    this._pollIntervalMs = ms;
  }

  /** Stop polling while paused (panel hidden); resume with a poll when unpaused. */
  setPaused(paused: boolean): void {
    if (paused === this._paused) {
      return;
    }
    this._paused = paused;
    if (paused) {
      this._clearTimer();
    } else if (this.live) {
      void this.refresh();
    }
  }

  /**
   * Read the run, its metrics (first time, and while active) and the new log text; then
   * schedule the next poll if the run is still live.
   */
  async refresh(): Promise<void> {
    if (this._disposed) {
      return;
    }
    this._clearTimer();
    if (this._inFlight) {
      this._again = true;
      return;
    }
    this._inFlight = true;
    let retry = true;
    try {
      retry = await this._poll();
    } finally {
      this._inFlight = false;
    }
    if (this._disposed) {
      return;
    }
    if (this._again) {
      this._again = false;
      void this.refresh();
      return;
    }
    if (retry && this.live && !this._paused) {
      this._timer = setTimeout(() => void this.refresh(), this._pollIntervalMs);
    }
  }

  /** Ask the daemon to cancel the run, then re-read it. */
  async cancel(): Promise<void> {
    if (this._disposed || this._cancelling) {
      return;
    }
    this._cancelling = true;
    this._actionError = null;
    this._emit();
    try {
      const run = await cancelRun(this.id);
      if (this._disposed) {
        return;
      }
      this._run = run;
    } catch (err) {
      if (this._disposed) {
        return;
      }
      this._actionError = errorMessage(err);
    } finally {
      this._cancelling = false;
    }
    this._emit();
    await this.refresh();
  }

  /** Set the error of an action on the run (e.g. a failed re-run); null clears it. */
  setActionError(message: string | null): void {
    this._actionError = message;
    this._emit();
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._clearTimer();
    Signal.clearData(this);
  }

  /** One poll; resolves false when polling should stop because of a permanent error. */
  private async _poll(): Promise<boolean> {
    const previous = this._run;
    let run: RunDetail;
    try {
      run = await getRun(this.id);
    } catch (err) {
      return this._fail(err);
    }
    if (this._disposed) {
      return false;
    }
    this._run = run;
    const wantMetrics =
      previous === null || isActiveStatus(previous.status) || isActiveStatus(run.status);
    try {
      await Promise.all([
        wantMetrics ? this._readMetrics() : Promise.resolve(),
        this._logComplete ? Promise.resolve() : this._readLog()
      ]);
    } catch (err) {
      return this._fail(err);
    }
    if (this._disposed) {
      return false;
    }
    if (previous === null && run.module_version) {
      void this._lookUpModule(run);
    }
    this._error = null;
    this._emit();
    return true;
  }

  private _fail(err: unknown): boolean {
    if (this._disposed) {
      return false;
    }
    this._error = errorMessage(err);
    this._emit();
    return !isPermanent(err);
  }

  private async _readMetrics(): Promise<void> {
    const metrics = await getMetrics(this.id);
    if (!this._disposed) {
      this._series = metrics.series;
    }
  }

  /** Read log pages from the current offset until caught up (or the page budget is spent). */
  private async _readLog(): Promise<void> {
    for (let page = 0; page < this._maxLogPages && !this._disposed; page++) {
      const offset = this._logOffset;
      const chunk = await getLogs(this.id, offset);
      if (this._disposed || chunk.offset !== this._logOffset) {
        return;
      }
      this._appendLog(chunk.text);
      this._logOffset = chunk.next_offset;
      if (chunk.complete) {
        this._logComplete = true;
        return;
      }
      if (chunk.next_offset <= offset || chunk.text === '') {
        return;
      }
    }
  }

  private _appendLog(text: string): void {
    if (!text) {
      return;
    }
    let log = this._log + text;
    if (log.length > this._maxLogChars) {
      log = log.slice(log.length - this._maxLogChars);
      const newline = log.indexOf('\n');
      if (newline >= 0 && newline < log.length - 1) {
        log = log.slice(newline + 1);
      }
      this._logTruncated = true;
    }
    this._log = log;
  }

  private async _lookUpModule(run: RunDetail): Promise<void> {
    const ref = run.module_version;
    if (!ref) {
      return;
    }
    try {
      const list = await listModules({ project: run.project });
      if (this._disposed) {
        return;
      }
      this._moduleVersion = list.modules.find(m => m.id === ref.id) ?? null;
      this._emit();
    } catch {
      // The link to the notebook is optional: the module and version still show.
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
  private _maxLogChars: number;
  private _maxLogPages: number;
  private _run: RunDetail | null = null;
  private _series: readonly MetricSeries[] = [];
  private _log = '';
  private _logOffset = 0;
  private _logTruncated = false;
  private _logComplete = false;
  private _moduleVersion: ModuleVersionOut | null = null;
  private _error: string | null = null;
  private _actionError: string | null = null;
  private _cancelling = false;
  private _paused = false;
  private _disposed = false;
  private _inFlight = false;
  private _again = false;
  private _timer: ReturnType<typeof setTimeout> | null = null;
}
