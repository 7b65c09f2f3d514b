/** Start a run of the extracted module: one input per parameter, the datasets it reads,
 * and the executor. */
import * as React from 'react';
import type { ParamValue } from '../api/types';
import type { Executor, TrainState } from '../model/notebook';
import { paramKind, parseParam } from '../model/params';

export interface TrainFormProps {
  /** Parameter name -> Python type name, from the plan. */
  params: Record<string, string>;
  /** Parameter name -> its default in the notebook's parameters cell (scalars only). */
  defaults?: Record<string, ParamValue>;
  defaultExecutor: Executor;
  state: TrainState;
  /** Recorded dataset names, offered as suggestions. */
  datasetNames?: string[];
  onSubmit: (params: Record<string, ParamValue>, executor: Executor, datasets: string[]) => void;
}

/** `iris, digits@2` -> ['iris', 'digits@2']. */
export function parseDatasets(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map(part => part.trim())
    .filter(part => part.length > 0);
}

export function TrainForm({
  params,
  defaults = {},
  defaultExecutor,
  state,
  datasetNames = [],
  onSubmit
}: TrainFormProps): JSX.Element {
  const names = Object.keys(params);
  const [values, setValues] = React.useState<Record<string, string>>({});
  const [flags, setFlags] = React.useState<Record<string, boolean>>({});
  const [executor, setExecutor] = React.useState<Executor>(defaultExecutor);
  const [datasets, setDatasets] = React.useState('');
  const [invalid, setInvalid] = React.useState<string | null>(null);
  const baseId = React.useId();

  const submit = (event: React.FormEvent): void => {
    event.preventDefault();
    const chosen: Record<string, ParamValue> = {};
    try {
      for (const name of names) {
        if (paramKind(params[name]) === 'bool') {
          if (name in flags) {
            chosen[name] = flags[name];
          }
          continue;
        }
        const value = parseParam(name, params[name], values[name] ?? '');
        if (value !== undefined) {
          chosen[name] = value;
        }
      }
    } catch (err) {
      setInvalid(err instanceof Error ? err.message : String(err));
      return;
    }
    setInvalid(null);
    onSubmit(chosen, executor, parseDatasets(datasets));
  };

  const field = (name: string, index: number): JSX.Element => {
    const id = `${baseId}-p${index}`;
    const kind = paramKind(params[name]);
    if (kind === 'bool') {
      return (
        <div key={name} className="jp-mlops-field jp-mlops-field-check">
          <input
            id={id}
            type="checkbox"
            checked={flags[name] ?? defaults[name] === true}
            onChange={event => setFlags({ ...flags, [name]: event.currentTarget.checked })}
          />
          <label htmlFor={id}>{name}</label>
          <span className="jp-mlops-muted">{name in flags ? '' : ' (default)'}</span>
        </div>
      );
    }
    const numeric = kind === 'int' || kind === 'float';
    return (
      <div key={name} className="jp-mlops-field">
        <label htmlFor={id}>{name}</label>
        <input
          id={id}
          type={numeric ? 'number' : 'text'}
          step={kind === 'float' ? 'any' : kind === 'int' ? 1 : undefined}
          value={values[name] ?? ''}
          placeholder={
            name in defaults ? `${defaults[name]} (default)` : `default (${params[name]})`
          }
          onChange={event => setValues({ ...values, [name]: event.currentTarget.value })}
          className="jp-mlops-input"
        />
      </div>
    );
  };

  const executorId = `${baseId}-executor`;
  const datasetsId = `${baseId}-datasets`;
  return (
    <form aria-label="Train" className="jp-mlops-form" onSubmit={submit}>
      {names.length ? (
        names.map(field)
      ) : (
        <p className="jp-mlops-muted">The module has no parameters.</p>
      )}
      <div className="jp-mlops-field">
        <label htmlFor={datasetsId}>Datasets</label>
        <input
          id={datasetsId}
          type="text"
          list={`${datasetsId}-names`}
          value={datasets}
          placeholder="none (e.g. iris or iris@2, comma-separated)"
          onChange={event => setDatasets(event.currentTarget.value)}
          className="jp-mlops-input"
        />
        <datalist id={`${datasetsId}-names`}>
          {datasetNames.map(name => (
            <option key={name} value={name} />
          ))}
        </datalist>
      </div>
      <div className="jp-mlops-field">
        <label htmlFor={executorId}>Executor</label>
        <select
          id={executorId}
          value={executor}
          onChange={event => setExecutor(event.currentTarget.value as Executor)}
          className="jp-mlops-input"
        >
          <option value="auto">auto</option>
          <option value="local">local</option>
          <option value="docker">docker</option>
        </select>
      </div>
      <p className="jp-mlops-muted">Leave a field empty to use the module's default.</p>
      {invalid ? (
        <div role="alert" className="jp-mlops-error">
          {invalid}
        </div>
      ) : null}
      {state.error ? (
        <div role="alert" className="jp-mlops-error">
          {state.error}
        </div>
      ) : null}
      {state.runId && !state.starting ? (
        <p role="status" className="jp-mlops-success">
          {state.cached
            ? `Run ${state.runId.slice(0, 8)} already trained these inputs: showing its result (Re-run trains again).`
            : `Run ${state.runId.slice(0, 8)} started.`}
        </p>
      ) : null}
      <button
        type="submit"
        className="jp-mlops-button jp-mlops-button-primary"
        disabled={state.starting}
      >
        Start run
      </button>
    </form>
  );
}
