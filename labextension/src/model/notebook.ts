/**
 * The active notebook as the panel sees it: its lint report, and the Productionise flow
 *   idle -> planning -> preview(plan) -> extracting(job) -> extracted(result) | failed(error)
 * followed by "train": a run of the extracted module (emits `runStarted` with the run id).
 * Every flow is kept per notebook path, so switching tabs never loses a running extraction.
 */
import { ISignal, Signal } from '@lumino/signaling';
import {
  getExtraction,
  lint,
  listDatasets,
  planExtraction,
  startExtraction,
  submitRun
} from '../api/client';
import { errorMessage } from '../api/request';
import type {
  ExtractionJob,
  ExtractionPlan,
  ExtractionRequest,
  ExtractionResult,
  LintReport,
  ParamValue
} from '../api/types';
import type { ConnectionModel } from './connection';
import type { NotebookHandle } from './notebookHandle';

export type Executor = 'auto' | 'local' | 'docker';

/** Why a flow failed: the message, plus the lesson/cell/output of a failed extraction. */
export interface FlowError {
  message: string;
  kind?: string;
  lesson?: string | null;
  cell?: number | null;
  output?: string | null;
}

export type FlowState =
  | { kind: 'idle' }
  | { kind: 'planning' }
  | { kind: 'preview'; plan: ExtractionPlan; request: ExtractionRequest }
  | { kind: 'extracting'; plan: ExtractionPlan; request: ExtractionRequest; job: ExtractionJob }
  | { kind: 'extracted'; plan: ExtractionPlan; result: ExtractionResult }
  | { kind: 'failed'; error: FlowError; plan: ExtractionPlan | null };

export interface TrainState {
  starting: boolean;
  error: string | null;
  /** The last run started from this flow. */
  runId: string | null;
  /** True when the daemon answered with an identical run that already succeeded. */
  cached?: boolean;
}

export interface NotebookModelOptions {
  connection: ConnectionModel;
  /** Period (ms) of extraction job polling. */
  pollIntervalMs: number;
}

const IDLE: FlowState = { kind: 'idle' };
const NO_TRAIN: TrainState = { starting: false, error: null, runId: null };

/** The absolute path of `path` (relative to the server root `rootDir`). */
export function absolutePath(rootDir: string, path: string): string {
  const root = rootDir.replace(/[\\/]+$/, '');
  return path ? `${root}/${path}` : root;
}

export class NotebookModel {
  constructor(opts: NotebookModelOptions) {
    this._connection = opts.connection;
    this._pollIntervalMs = opts.pollIntervalMs;
    this._connection.changed.connect(this._onConnectionChanged, this);
  }

  /** Emitted on any change of notebook, lint report, flow or train state. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted with the id of each run started by `train`. */
  get runStarted(): ISignal<this, string> {
    return this._runStarted;
  }

  get notebook(): NotebookHandle | null {
    return this._notebook;
  }

  /** The active notebook's path relative to the server root, or null. */
  get path(): string | null {
    return this._notebook?.path ?? null;
  }

  get report(): LintReport | null {
    return this._report;
  }

  get lintError(): string | null {
    return this._lintError;
  }

  get linting(): boolean {
    return this._linting;
  }

  /** The Productionise flow of the active notebook. */
  get flow(): FlowState {
    const path = this.path;
    return (path !== null && this._flows.get(path)) || IDLE;
  }

  /** The train state of the active notebook's extracted module. */
  get train(): TrainState {
    const path = this.path;
    return (path !== null && this._trains.get(path)) || NO_TRAIN;
  }

  /** Names of the recorded datasets (for the Train form's suggestions). */
  get datasetNames(): string[] {
    return this._datasetNames;
  }

  /** Fetch the recorded datasets' names; on failure keep what is known (only suggestions). */
  async refreshDatasets(): Promise<void> {
    try {
      const list = await listDatasets();
      if (this._disposed) {
        return;
      }
      this._datasetNames = list.datasets.map(d => d.name);
      this._changed.emit();
    } catch {
      // The form still takes names typed by hand; the daemon checks them.
    }
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  configure(opts: { pollIntervalMs?: number }): void {
    if (opts.pollIntervalMs !== undefined) {
      this._pollIntervalMs = opts.pollIntervalMs;
    }
  }

  /** Follow `notebook` (null: no notebook is active); lints it when the daemon answers. */
  setNotebook(notebook: NotebookHandle | null): void {
    if (notebook === this._notebook) {
      return;
    }
    if (this._notebook) {
      this._notebook.saved.disconnect(this._onSaved, this);
      this._notebook.disposed.disconnect(this._onNotebookDisposed, this);
    }
    this._notebook = notebook;
    this._report = null;
    this._lintError = null;
    this._lintSeq++;
    this._linting = false;
    if (notebook) {
      notebook.saved.connect(this._onSaved, this);
      notebook.disposed.connect(this._onNotebookDisposed, this);
    }
    this._changed.emit();
    void this.refreshLint();
  }

  /** Lint the active notebook (saving it first when it has unsaved changes). */
  async refreshLint(): Promise<void> {
    const notebook = this._notebook;
    if (!notebook || !this._connection.isOk) {
      return;
    }
    const seq = ++this._lintSeq;
    this._linting = true;
    this._changed.emit();
    let report: LintReport | null = null;
    let error: string | null = null;
    try {
      const path = await this._savedPath(notebook);
      report = await lint(path);
    } catch (err) {
      error = errorMessage(err);
    }
    if (seq !== this._lintSeq || this._disposed) {
      return; // A newer lint or another notebook took over.
    }
    this._linting = false;
    this._report = report ?? this._report;
    this._lintError = error;
    this._changed.emit();
  }

  /** Make the finding's cell active and scroll to it. */
  selectCell(index: number): void {
    this._notebook?.selectCell(index);
  }

  /**
   * Plan the extraction of the active notebook: the selected code cells when two or more
   * cells are selected, otherwise the whole notebook.
   */
  async productionise(): Promise<void> {
    const notebook = this._notebook;
    if (!notebook) {
      return;
    }
    const path = notebook.path;
    const kind = this._flowOf(path).kind;
    if (kind === 'planning' || kind === 'extracting') {
      return;
    }
    const selection = notebook.selection();
    const cells =
      selection.length >= 2 ? selection.filter(cell => cell.code).map(cell => cell.index) : null;
    this._trains.delete(path);
    this._setFlow(path, { kind: 'planning' });
    try {
      const request: ExtractionRequest = { notebook: await this._savedPath(notebook), cells };
      const plan = await planExtraction(request);
      this._setFlow(path, { kind: 'preview', plan, request });
    } catch (err) {
      this._setFlow(path, { kind: 'failed', error: { message: errorMessage(err) }, plan: null });
    }
  }

  /** Start the previewed extraction and follow its job until it ends. */
  async extract(options: { gitInit?: boolean } = {}): Promise<void> {
    const notebook = this._notebook;
    const flow = this.flow;
    if (!notebook || flow.kind !== 'preview') {
      return;
    }
    const path = notebook.path;
    const { plan } = flow;
    const request = options.gitInit ? { ...flow.request, git_init: true } : flow.request;
    try {
      await this._savedPath(notebook);
      const job = await startExtraction(request);
      this._setFlow(path, { kind: 'extracting', plan, request, job });
      this._followJob(path, job);
    } catch (err) {
      this._setFlow(path, { kind: 'failed', error: { message: errorMessage(err) }, plan });
    }
  }

  /** Leave the preview, the result or the failure (an extraction job cannot be cancelled). */
  cancel(): void {
    const path = this.path;
    if (path === null || this._flowOf(path).kind === 'extracting') {
      return;
    }
    this._flows.delete(path);
    this._trains.delete(path);
    this._changed.emit();
  }

  /** Start a run of the extracted module with `params` (only the ones the user set). */
  async startTraining(
    params: Record<string, ParamValue>,
    executor: Executor,
    datasets: string[] = []
  ): Promise<void> {
    const path = this.path;
    const flow = this.flow;
    if (path === null || flow.kind !== 'extracted' || this.train.starting) {
      return;
    }
    const { result } = flow;
    this._trains.set(path, { starting: true, error: null, runId: this.train.runId });
    this._changed.emit();
    try {
      const run = await submitRun({
        project: result.project,
        entry_point: result.entry_point,
        params,
        executor,
        ...(datasets.length ? { datasets } : {})
      });
      // A new run is always queued; an ended one is the identity cache's answer.
      const cached = run.status === 'succeeded';
      this._trains.set(path, { starting: false, error: null, runId: run.id, cached });
      this._changed.emit();
      this._runStarted.emit(run.id);
    } catch (err) {
      this._trains.set(path, { starting: false, error: errorMessage(err), runId: null });
      this._changed.emit();
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    for (const timer of this._timers.values()) {
      clearTimeout(timer);
    }
    this._timers.clear();
    this._connection.changed.disconnect(this._onConnectionChanged, this);
    if (this._notebook) {
      this._notebook.saved.disconnect(this._onSaved, this);
      this._notebook.disposed.disconnect(this._onNotebookDisposed, this);
    }
    Signal.clearData(this);
  }

  private _flowOf(path: string): FlowState {
    return this._flows.get(path) ?? IDLE;
  }

  private _setFlow(path: string, flow: FlowState): void {
    if (this._disposed) {
      return;
    }
    this._flows.set(path, flow);
    this._changed.emit();
  }

  /** Save `notebook` if it has unsaved changes; return its absolute path. */
  private async _savedPath(notebook: NotebookHandle): Promise<string> {
    const status = this._connection.status;
    if (!status) {
      throw new Error('The Jupyter server extension did not answer; is jupyter-mlops installed?');
    }
    if (notebook.dirty) {
      this._saving = true;
      try {
        await notebook.save();
      } finally {
        this._saving = false;
      }
    }
    return absolutePath(status.root_dir, notebook.path);
  }

  private _followJob(path: string, job: ExtractionJob): void {
    const poll = async (): Promise<void> => {
      this._timers.delete(path);
      if (this._disposed) {
        return;
      }
      const flow = this._flowOf(path);
      if (flow.kind !== 'extracting' || flow.job.id !== job.id) {
        return;
      }
      let next: ExtractionJob;
      try {
        next = await getExtraction(job.id);
      } catch (err) {
        const message = `Lost track of extraction ${job.id}: ${errorMessage(err)}`;
        this._setFlow(path, { kind: 'failed', error: { message }, plan: flow.plan });
        return;
      }
      this._onJob(path, flow.plan, flow.request, next);
    };
    const delay = job.state === 'succeeded' || job.state === 'failed' ? 0 : this._pollIntervalMs;
    this._timers.set(path, setTimeout(() => void poll(), delay));
  }

  private _onJob(
    path: string,
    plan: ExtractionPlan,
    request: ExtractionRequest,
    job: ExtractionJob
  ): void {
    if (job.state === 'succeeded' && job.result) {
      this._setFlow(path, { kind: 'extracted', plan, result: job.result });
    } else if (job.state === 'failed' || job.state === 'succeeded') {
      const error: FlowError = job.error
        ? { ...job.error }
        : { message: `Extraction ${job.id} ended without a result.` };
      this._setFlow(path, { kind: 'failed', error, plan });
    } else {
      this._setFlow(path, { kind: 'extracting', plan, request, job });
      this._followJob(path, job);
    }
  }

  private _onSaved(): void {
    if (!this._saving) {
      void this.refreshLint();
    }
  }

  private _onNotebookDisposed(notebook: NotebookHandle): void {
    if (notebook === this._notebook) {
      this.setNotebook(null);
    }
  }

  private _onConnectionChanged(): void {
    const ok = this._connection.isOk;
    if (ok && !this._wasOk && !this._report && !this._linting) {
      void this.refreshLint();
    }
    this._wasOk = ok;
  }

  private _connection: ConnectionModel;
  private _pollIntervalMs: number;
  private _notebook: NotebookHandle | null = null;
  private _report: LintReport | null = null;
  private _lintError: string | null = null;
  private _linting = false;
  private _lintSeq = 0;
  private _saving = false;
  private _wasOk = false;
  private _flows = new Map<string, FlowState>();
  private _trains = new Map<string, TrainState>();
  private _datasetNames: string[] = [];
  private _timers = new Map<string, ReturnType<typeof setTimeout>>();
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
  private _runStarted = new Signal<this, string>(this);
}
