/** What Productionise will do: the plan of the extraction, with Extract and Cancel. */
import * as React from 'react';
import type { ExtractionPlan } from '../api/types';
import { tokenize } from './highlight';
import { LintLessons } from './LintLessons';

export interface ProductionisePreviewProps {
  plan: ExtractionPlan;
  /** Extract; `gitInit` asks the daemon to `git init` a project that is not a repository. */
  onExtract: (gitInit: boolean) => void;
  onCancel: () => void;
  onSelectCell: (cell: number) => void;
}

function NameList({ label, names }: { label: string; names: string[] }): JSX.Element {
  const id = `jp-mlops-${label.toLowerCase()}-heading`;
  return (
    <div className="jp-mlops-names">
      <h4 id={id}>{label}</h4>
      <ul aria-labelledby={id} className="jp-mlops-chips">
        {names.map(name => (
          <li key={name} className="jp-mlops-chip">
            {name}
          </li>
        ))}
      </ul>
      {names.length ? null : <p className="jp-mlops-muted">none</p>}
    </div>
  );
}

export function HighlightedCode({ source, label }: { source: string; label: string }): JSX.Element {
  const tokens = React.useMemo(() => tokenize(source), [source]);
  return (
    <pre aria-label={label} className="jp-mlops-code" tabIndex={0}>
      <code>
        {tokens.map((token, index) =>
          token.kind === 'text' ? (
            token.text
          ) : (
            <span key={index} className={`jp-mlops-tok-${token.kind}`}>
              {token.text}
            </span>
          )
        )}
      </code>
    </pre>
  );
}

export function ProductionisePreview({
  plan,
  onExtract,
  onCancel,
  onSelectCell
}: ProductionisePreviewProps): JSX.Element {
  const [gitInit, setGitInit] = React.useState(false);
  const gitInitId = React.useId();
  return (
    <div role="region" aria-label="Productionise preview" className="jp-mlops-preview">
      <p>
        Module <code>{`${plan.package}.${plan.name}`}</code> at{' '}
        <code className="jp-mlops-path">{plan.module_path}</code>
      </p>
      <div className="jp-mlops-columns">
        <NameList label="Inputs" names={plan.inputs} />
        <NameList label="Outputs" names={plan.outputs} />
      </div>
      <h4>Steps</h4>
      <ol aria-label="Steps" className="jp-mlops-list jp-mlops-steps">
        {plan.steps.map(step => (
          <li key={step.name}>
            <code>{step.name}</code>
            <span className="jp-mlops-muted">
              {' '}
              (cells {step.cells.map(cell => cell + 1).join(', ')})
            </span>
            <div className="jp-mlops-muted">
              {step.inputs.join(', ') || '—'} → {step.outputs.join(', ') || '—'}
            </div>
            {step.dropped.length ? (
              <details>
                <summary>Display code left out ({step.dropped.length})</summary>
                <ul className="jp-mlops-dropped">
                  {step.dropped.map((line, index) => (
                    <li key={index}>
                      <code>{line}</code>
                    </li>
                  ))}
                </ul>
              </details>
            ) : null}
          </li>
        ))}
      </ol>
      <h4>Generated module</h4>
      <HighlightedCode source={plan.module_source} label="Generated module" />
      {plan.test_source ? (
        <details className="jp-mlops-tests-preview">
          <summary>
            Generated tests <code className="jp-mlops-path">{plan.test_path}</code>
          </summary>
          <HighlightedCode source={plan.test_source} label="Generated tests" />
        </details>
      ) : null}
      <h4>Findings</h4>
      <LintLessons findings={plan.findings} onSelectCell={onSelectCell} label="Findings" />
      <div className="jp-mlops-field jp-mlops-field-check">
        <input
          id={gitInitId}
          type="checkbox"
          checked={gitInit}
          onChange={event => setGitInit(event.currentTarget.checked)}
        />
        <label htmlFor={gitInitId}>
          Create a git repository in <code className="jp-mlops-path">{plan.project}</code> if
          it is not in one
        </label>
      </div>
      <div className="jp-mlops-actions">
        <button
          type="button"
          className="jp-mlops-button jp-mlops-button-primary"
          onClick={() => onExtract(gitInit)}
        >
          Extract
        </button>
        <button type="button" className="jp-mlops-button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
