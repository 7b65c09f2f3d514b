/**
 * Where the front end stands with the daemon: polls `GET mlops/status` (often while the
 * daemon is down, rarely while it is up) and starts the daemon once per "down" episode
 * when the `autostart` setting is on.
 */
import { ISignal, Signal } from '@lumino/signaling';
import { getStatus, startDaemon } from '../api/client';
import { errorMessage } from '../api/request';
import type { MlopsStatus } from '../api/types';

export interface ConnectionOptions {
  autostart: boolean;
  /** Polling period (ms) while the daemon is down; slower (x10, >= 10 s) while it is up. */
  pollIntervalMs: number;
}

/** How much slower the status is polled while the daemon answers. */
const UP_FACTOR = 10;
const MIN_UP_POLL_MS = 10000;
const MIN_DOWN_POLL_MS = 500;

export class ConnectionModel {
  constructor(opts: ConnectionOptions) {
    this._autostart = opts.autostart;
    this._pollIntervalMs = opts.pollIntervalMs;
  }

  /** Emitted whenever status, error or `starting` change. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The last status; null before the first answer or when the server was not reached. */
  get status(): MlopsStatus | null {
    return this._status;
  }

  /** The last error of the status call, else of the daemon start, as one line; or null. */
  get error(): string | null {
    return this._error ?? this._startError;
  }

  /** Whether a daemon start is in progress. */
  get starting(): boolean {
    return this._starting;
  }

  /** True when the daemon answers with a matching version. */
  get isOk(): boolean {
    return this._status?.state === 'ok';
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Apply settings live. */
  configure(opts: Partial<ConnectionOptions>): void {
    if (opts.pollIntervalMs !== undefined) {
      this._pollIntervalMs = opts.pollIntervalMs;
    }
    if (opts.autostart !== undefined) {
      const turnedOn = opts.autostart && !this._autostart;
      this._autostart = opts.autostart;
      if (turnedOn) {
        this._maybeAutostart();
      }
    }
  }

  /** Fetch the status now and keep polling until disposed. */
  async refresh(): Promise<void> {
    if (this._disposed) {
      return;
    }
    this._clearTimer();
    try {
      const status = await getStatus();
      this._setStatus(status);
      this._error = null;
    } catch (err) {
      this._status = null;
      this._error = errorMessage(err);
    }
    this._changed.emit();
    this._maybeAutostart();
    this._schedule();
  }

  /** Start the daemon (the "Start daemon" button, or autostart). */
  async start(): Promise<void> {
    if (this._starting || this._disposed) {
      return;
    }
    this._starting = true;
    this._startError = null;
    this._changed.emit();
    try {
      const status = await startDaemon();
      this._setStatus(status);
      this._error = null;
    } catch (err) {
      // Kept until the daemon answers or the next start: polling must not hide it.
      this._startError = errorMessage(err);
    } finally {
      this._starting = false;
    }
    if (!this._disposed) {
      this._changed.emit();
      this._schedule();
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._clearTimer();
    Signal.clearData(this);
  }

  private _setStatus(status: MlopsStatus): void {
    this._status = status;
    if (status.state === 'ok') {
      this._startError = null;
    }
    if (status.state !== 'down') {
      // The episode is over: the next time the daemon goes down, autostart may try again.
      this._autostartTried = false;
    }
  }

  private _maybeAutostart(): void {
    const status = this._status;
    if (
      this._autostart &&
      !this._autostartTried &&
      !this._starting &&
      status !== null &&
      status.state === 'down' &&
      status.can_start
    ) {
      this._autostartTried = true;
      void this.start();
    }
  }

  private _schedule(): void {
    this._clearTimer();
    if (this._disposed) {
      return;
    }
    const down = !this.isOk;
    const delay = down
      ? Math.max(MIN_DOWN_POLL_MS, this._pollIntervalMs)
      : Math.max(MIN_UP_POLL_MS, this._pollIntervalMs * UP_FACTOR);
    this._timer = setTimeout(() => {
      this._timer = null;
      void this.refresh();
    }, delay);
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _autostart: boolean;
  private _pollIntervalMs: number;
  private _status: MlopsStatus | null = null;
  private _error: string | null = null;
  private _startError: string | null = null;
  private _starting = false;
  private _autostartTried = false;
  private _disposed = false;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _changed = new Signal<this, void>(this);
}
