/**
 * The "Models" section of the side panel: the table of registered models (name, latest
 * version, aliases with a cut-out marker), or one model's detail.
 */
import * as React from 'react';
import type { AliasOut, ModelSummary } from '../../api/types';
import type { ModelsModel } from '../../model/models';
import { formatLocalTime, formatRelativeTime } from '../runs/format';
import { useSignal } from '../useSignal';
import { ModelDetail } from './ModelDetail';

export interface ModelsSectionProps {
  model: ModelsModel;
}

/** An alias as a chip: "staging v2", and "cut out" (with its reason as the title) when cut out. */
export function AliasChip({ alias }: { alias: AliasOut }): JSX.Element {
  return (
    <li
      className={`jp-mlops-chip jp-mlops-models-alias${
        alias.cut_out ? ' jp-mlops-models-alias-cutout' : ''
      }`}
      title={alias.cut_out ? `cut out: ${alias.cut_out_reason ?? 'no reason given'}` : undefined}
    >
      {`${alias.alias} v${alias.version}`}
      {alias.cut_out ? <span className="jp-mlops-models-cutout-marker"> cut out</span> : null}
    </li>
  );
}

function ModelRow(props: { model: ModelsModel; summary: ModelSummary; now: number }): JSX.Element {
  const { model, summary, now } = props;
  const open = (): void => model.openModel(summary.name);
  return (
    <tr
      tabIndex={0}
      data-model={summary.name}
      className="jp-mlops-runs-row"
      onClick={open}
      onKeyDown={event => {
        if (event.target === event.currentTarget && (event.key === 'Enter' || event.key === ' ')) {
          event.preventDefault();
          open();
        }
      }}
    >
      <th scope="row" className="jp-mlops-models-name">
        {summary.name}
      </th>
      <td>{`v${summary.latest_version}`}</td>
      <td>
        {summary.aliases.length ? (
          <ul className="jp-mlops-chips" aria-label={`Aliases of ${summary.name}`}>
            {summary.aliases.map(a => (
              <AliasChip key={a.alias} alias={a} />
            ))}
          </ul>
        ) : (
          <span className="jp-mlops-runs-muted">none</span>
        )}
      </td>
      <td title={formatLocalTime(summary.updated_at)}>
        {formatRelativeTime(summary.updated_at, now)}
      </td>
    </tr>
  );
}

function ModelsTable({ model }: ModelsSectionProps): JSX.Element {
  const now = Date.now();
  let empty: string | null = null;
  if (!model.models.length) {
    if (!model.loaded) {
      empty = model.error ? 'Models could not be loaded.' : 'Loading models…';
    } else {
      empty = 'No models yet: a run that calls mlops_kernel.log_model registers one.';
    }
  }
  return (
    <div className="jp-mlops-runs-list">
      <div className="jp-mlops-runs-toolbar">
        <span className="jp-mlops-runs-count">
          {`${model.models.length} ${model.models.length === 1 ? 'model' : 'models'}`}
        </span>
        <span className="jp-mlops-runs-spacer" />
        <button
          type="button"
          className="jp-mlops-button"
          title="Refresh the models"
          onClick={() => void model.refresh()}
        >
          Refresh
        </button>
      </div>
      <div className="jp-mlops-runs-table-wrap">
        <table aria-label="Models" className="jp-mlops-runs-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Latest</th>
              <th scope="col">Aliases</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {empty ? (
              <tr>
                <td colSpan={4} className="jp-mlops-runs-empty">
                  {empty}
                </td>
              </tr>
            ) : (
              model.models.map(m => (
                <ModelRow key={m.name} model={model} summary={m} now={now} />
              ))
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}

export function ModelsSection({ model }: ModelsSectionProps): JSX.Element {
  useSignal(model.changed);
  return (
    <div className="jp-mlops-runs jp-mlops-models">
      {model.error ? (
        <div role="alert" className="jp-mlops-error">
          {model.error}
        </div>
      ) : null}
      {model.view === 'detail' && model.selected !== null ? (
        <ModelDetail key={model.selected} model={model} />
      ) : (
        <ModelsTable model={model} />
      )}
    </div>
  );
}
