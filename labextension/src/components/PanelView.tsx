/**
 * The MLOps side panel's content: a region with the "Daemon", "Notebook", "Runs" and "Models"
 * sections.
 */
import * as React from 'react';
import type { ConnectionModel } from '../model/connection';
import type { ModelsModel } from '../model/models';
import type { Executor, NotebookModel } from '../model/notebook';
import type { RunsModel } from '../model/runs';
import { DaemonStatus } from './DaemonStatus';
import { ModelsSection } from './models/ModelsSection';
import { NotebookSection } from './NotebookSection';
import { RunsSection } from './runs/RunsSection';

export interface MlopsPanelOptions {
  connection: ConnectionModel;
  notebook: NotebookModel;
  runs: RunsModel;
  models: ModelsModel;
  defaultExecutor: Executor;
  /** Open a notebook (path as the daemon knows it) and select the first of `cellIds`. */
  onOpenNotebook: (path: string, cellIds: string[]) => void;
}

export type MlopsPanelViewProps = MlopsPanelOptions;

export function MlopsPanelView(props: MlopsPanelViewProps): JSX.Element {
  return (
    <div role="region" aria-label="MLOps" className="jp-mlops-root">
      <section aria-label="Daemon" className="jp-mlops-section">
        <h2 className="jp-mlops-section-title">Daemon</h2>
        <DaemonStatus model={props.connection} />
      </section>
      <section aria-label="Notebook" className="jp-mlops-section">
        <h2 className="jp-mlops-section-title">Notebook</h2>
        <NotebookSection
          model={props.notebook}
          connection={props.connection}
          defaultExecutor={props.defaultExecutor}
        />
      </section>
      <section aria-label="Runs" className="jp-mlops-section">
        <h2 className="jp-mlops-section-title">Runs</h2>
        <RunsSection model={props.runs} onOpenNotebook={props.onOpenNotebook} />
      </section>
      <section aria-label="Models" className="jp-mlops-section">
        <h2 className="jp-mlops-section-title">Models</h2>
        <ModelsSection model={props.models} />
      </section>
    </div>
  );
}
