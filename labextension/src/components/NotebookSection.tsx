/**
 * The "Notebook" section: follows the active notebook, shows its lint lessons and
 * readiness, and drives the Productionise flow (preview, progress, result, train).
 */
import * as React from 'react';
import type { ConnectionModel } from '../model/connection';
import type { Executor, NotebookModel } from '../model/notebook';
import { ExtractProgress } from './ExtractProgress';
import { ExtractionResultView } from './ExtractionResult';
import { FlowFailure } from './FlowFailure';
import { LintLessons, ReadinessChecklist } from './LintLessons';
import { ProductionisePreview } from './ProductionisePreview';
import { TrainForm } from './TrainForm';
import { useSignal } from './useSignal';

export interface NotebookSectionProps {
  model: NotebookModel;
  connection: ConnectionModel;
  defaultExecutor: Executor;
}

function baseName(path: string): string {
  const parts = path.split('/');
  return parts[parts.length - 1] || path;
}

function Flow({
  model,
  defaultExecutor
}: Omit<NotebookSectionProps, 'connection'>): JSX.Element | null {
  const flow = model.flow;
  const [trainOpen, setTrainOpen] = React.useState(false);
  const resultKey = flow.kind === 'extracted' ? flow.result.content_hash + flow.result.module : '';
  React.useEffect(() => setTrainOpen(false), [resultKey, model.path]);
  const selectCell = (cell: number): void => model.selectCell(cell);
  switch (flow.kind) {
    case 'idle':
      return null;
    case 'planning':
      return (
        <p role="status" className="jp-mlops-muted">
          Planning the extraction…
        </p>
      );
    case 'preview':
      return (
        <ProductionisePreview
          plan={flow.plan}
          onExtract={gitInit => void model.extract({ gitInit })}
          onCancel={() => model.cancel()}
          onSelectCell={selectCell}
        />
      );
    case 'extracting':
      return <ExtractProgress job={flow.job} />;
    case 'extracted':
      return (
        <>
          <ExtractionResultView
            result={flow.result}
            training={trainOpen}
            onTrain={() => {
              setTrainOpen(true);
              void model.refreshDatasets();
            }}
            onClose={() => model.cancel()}
          />
          {trainOpen ? (
            <TrainForm
              key={resultKey}
              params={flow.plan.params}
              defaults={flow.plan.param_defaults ?? {}}
              defaultExecutor={defaultExecutor}
              state={model.train}
              datasetNames={model.datasetNames}
              onSubmit={(params, executor, datasets) =>
                void model.startTraining(params, executor, datasets)
              }
            />
          ) : null}
        </>
      );
    case 'failed':
      return (
        <FlowFailure
          error={flow.error}
          onSelectCell={selectCell}
          onDismiss={() => model.cancel()}
        />
      );
  }
}

export function NotebookSection({
  model,
  connection,
  defaultExecutor
}: NotebookSectionProps): JSX.Element {
  useSignal(model.changed);
  useSignal(connection.changed);
  const path = model.path;
  if (path === null) {
    return <p className="jp-mlops-muted">Open a notebook to lint and productionise it.</p>;
  }
  const report = model.report;
  const busy = model.flow.kind === 'planning' || model.flow.kind === 'extracting';
  const ready = connection.isOk;
  return (
    <div className="jp-mlops-notebook">
      <h3 className="jp-mlops-notebook-name" title={path}>
        {baseName(path)}
      </h3>
      {!ready ? (
        <p className="jp-mlops-muted">Lint and Productionise need the daemon.</p>
      ) : null}
      {model.linting && !report ? (
        <p role="status" className="jp-mlops-muted">
          Linting…
        </p>
      ) : null}
      {model.lintError ? (
        <div role="alert" className="jp-mlops-error">
          {model.lintError}
        </div>
      ) : null}
      {report ? (
        <>
          <h4>Lessons</h4>
          <LintLessons findings={report.findings} onSelectCell={cell => model.selectCell(cell)} />
          <ReadinessChecklist readiness={report.readiness} />
        </>
      ) : null}
      <div className="jp-mlops-actions">
        <button
          type="button"
          className="jp-mlops-button jp-mlops-button-primary"
          onClick={() => void model.productionise()}
          disabled={!ready || busy}
          title="Extract the selected cells (or the whole notebook) into a tested module"
        >
          Productionise
        </button>
      </div>
      <Flow model={model} defaultExecutor={defaultExecutor} />
    </div>
  );
}
