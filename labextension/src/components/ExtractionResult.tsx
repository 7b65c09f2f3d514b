/** A finished extraction: the versioned module, its tests and metrics, and "Train". */
import * as React from 'react';
import type { ExtractionResult as Result } from '../api/types';

export interface ExtractionResultProps {
  result: Result;
  /** Whether the Train form is open. */
  training: boolean;
  onTrain: () => void;
  onClose: () => void;
}

function formatMetric(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}

export function ExtractionResultView({
  result,
  training,
  onTrain,
  onClose
}: ExtractionResultProps): JSX.Element {
  const metrics = Object.entries(result.metrics);
  return (
    <div role="region" aria-label="Extraction result" className="jp-mlops-result">
      <p>
        <span className="jp-mlops-success">Extracted</span> module <code>{result.module}</code>
        {result.version !== null ? <span> version {result.version}</span> : null}
        {result.git_sha ? (
          <span className="jp-mlops-muted"> ({result.git_sha.slice(0, 7)})</span>
        ) : null}
        {result.changed ? null : <span className="jp-mlops-muted"> — unchanged</span>}
      </p>
      <p>
        {result.tests_passed} {result.tests_passed === 1 ? 'test' : 'tests'} passed:{' '}
        <code className="jp-mlops-path">{result.test_path}</code>
      </p>
      <p>
        Module file: <code className="jp-mlops-path">{result.module_path}</code>
      </p>
      {metrics.length ? (
        <table aria-label="Metrics" className="jp-mlops-table">
          <thead>
            <tr>
              <th scope="col">Metric</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {metrics.map(([key, value]) => (
              <tr key={key}>
                <td>{key}</td>
                <td>{formatMetric(value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="jp-mlops-muted">No metrics recorded.</p>
      )}
      <div className="jp-mlops-actions">
        <button
          type="button"
          className="jp-mlops-button jp-mlops-button-primary"
          onClick={onTrain}
          aria-expanded={training}
        >
          Train
        </button>
        <button type="button" className="jp-mlops-button" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
