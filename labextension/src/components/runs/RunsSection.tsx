/**
 * The "Runs" section of the side panel: the runs list, one run's detail, or the comparison
 * of selected runs, with the list's errors shown inline.
 */
import * as React from 'react';
import type { RunsModel } from '../../model/runs';
import { useSignal } from '../useSignal';
import { CompareView } from './CompareView';
import { RunDetail } from './RunDetail';
import { RunsTable } from './RunsTable';

export interface RunsSectionProps {
  model: RunsModel;
  /** Open a notebook (path as the daemon recorded it) and select these cells. */
  onOpenNotebook: (path: string, cellIds: string[]) => void;
}

export function RunsSection(props: RunsSectionProps): JSX.Element {
  const { model, onOpenNotebook } = props;
  useSignal(model.changed);
  const detail = model.detail;
  let body: JSX.Element;
  if (model.view === 'detail' && detail) {
    body = (
      <RunDetail key={detail.id} model={model} detail={detail} onOpenNotebook={onOpenNotebook} />
    );
  } else if (model.view === 'compare') {
    body = <CompareView model={model} />;
  } else {
    body = <RunsTable model={model} />;
  }
  return (
    <div className="jp-mlops-runs">
      {model.error ? (
        <div role="alert" className="jp-mlops-error">
          {model.error}
        </div>
      ) : null}
      {body}
    </div>
  );
}
