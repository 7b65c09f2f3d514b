/**
 * What NotebookModel needs of an open notebook, and the adapter from a JupyterLab
 * NotebookPanel (kept apart so the model is tested without a running JupyterLab).
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { ISignal, Signal } from '@lumino/signaling';

export interface SelectedCell {
  /** 0-based index in the notebook. */
  index: number;
  /** Whether it is a code cell. */
  code: boolean;
}

export interface NotebookHandle {
  /** Path relative to the Jupyter server's root directory. */
  readonly path: string;
  /** Whether the notebook has unsaved changes. */
  readonly dirty: boolean;
  /** Emitted after each completed save. */
  readonly saved: ISignal<NotebookHandle, void>;
  /** Emitted when the handle's notebook closes. */
  readonly disposed: ISignal<NotebookHandle, void>;
  save(): Promise<void>;
  /** The selected cells (the active cell alone when nothing else is selected). */
  selection(): SelectedCell[];
  /** Make cell `index` the active cell and scroll it into view. */
  selectCell(index: number): void;
}

/** A NotebookHandle over a NotebookPanel; dispose it when the panel goes away. */
export class PanelNotebookHandle implements NotebookHandle {
  constructor(readonly panel: NotebookPanel) {
    panel.context.saveState.connect(this._onSaveState, this);
    panel.disposed.connect(this._onPanelDisposed, this);
  }

  get path(): string {
    return this.panel.context.path;
  }

  get dirty(): boolean {
    return this.panel.context.model.dirty;
  }

  get saved(): ISignal<NotebookHandle, void> {
    return this._saved;
  }

  get disposed(): ISignal<NotebookHandle, void> {
    return this._disposed;
  }

  save(): Promise<void> {
    return this.panel.context.save();
  }

  selection(): SelectedCell[] {
    const notebook = this.panel.content;
    const cells: SelectedCell[] = [];
    notebook.widgets.forEach((cell, index) => {
      if (notebook.isSelectedOrActive(cell)) {
        cells.push({ index, code: cell.model.type === 'code' });
      }
    });
    return cells;
  }

  selectCell(index: number): void {
    const notebook = this.panel.content;
    if (index < 0 || index >= notebook.widgets.length) {
      return;
    }
    notebook.deselectAll();
    notebook.activeCellIndex = index;
    const cell = notebook.widgets[index];
    void notebook.scrollToCell(cell).then(() => cell.node.focus());
  }

  dispose(): void {
    this.panel.context.saveState.disconnect(this._onSaveState, this);
    this.panel.disposed.disconnect(this._onPanelDisposed, this);
    Signal.clearData(this);
  }

  private _onSaveState(_: unknown, state: string): void {
    if (state === 'completed') {
      this._saved.emit();
    }
  }

  private _onPanelDisposed(): void {
    this._disposed.emit();
    this.dispose();
  }

  private _saved = new Signal<NotebookHandle, void>(this);
  private _disposed = new Signal<NotebookHandle, void>(this);
}
