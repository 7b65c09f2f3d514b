/** The lint findings of a notebook as a list of lessons, and its readiness checklist. */
import * as React from 'react';
import type { Finding, Readiness } from '../api/types';

export interface LintLessonsProps {
  findings: Finding[];
  /** Select and scroll to a cell (0-based index). */
  onSelectCell: (cell: number) => void;
  label?: string;
}

function where(finding: Finding): string {
  if (finding.cell === null) {
    return '';
  }
  const line = finding.line !== null ? `, line ${finding.line}` : '';
  return ` (cell ${finding.cell + 1}${line})`;
}

export function LintLessons({
  findings,
  onSelectCell,
  label = 'Lint lessons'
}: LintLessonsProps): JSX.Element {
  return (
    <>
      {findings.length === 0 ? <p className="jp-mlops-muted">No findings.</p> : null}
      <ul aria-label={label} className="jp-mlops-list jp-mlops-lessons">
      {findings.map((finding, index) => (
        <li
          key={`${finding.id}-${finding.cell ?? 'nb'}-${index}`}
          className={`jp-mlops-lesson jp-mlops-severity-${finding.severity}`}
        >
          <button
            type="button"
            className="jp-mlops-link-button"
            aria-label={`${finding.id}: ${finding.message}${where(finding)}`}
            onClick={() => {
              if (finding.cell !== null) {
                onSelectCell(finding.cell);
              }
            }}
            title={finding.cell !== null ? `Go to cell ${finding.cell + 1}` : undefined}
          >
            <span className="jp-mlops-finding-id">{finding.id}</span>: {finding.message}
            <span className="jp-mlops-muted">{where(finding)}</span>
          </button>
          {finding.lesson ? (
            <details className="jp-mlops-lesson-text">
              <summary>Lesson</summary>
              <p>{finding.lesson}</p>
            </details>
          ) : null}
        </li>
      ))}
      </ul>
    </>
  );
}

export function ReadinessChecklist({ readiness }: { readiness: Readiness }): JSX.Element {
  return (
    <div className="jp-mlops-readiness">
      <p className="jp-mlops-score">Readiness {readiness.score}/100</p>
      <ul aria-label="Readiness checklist" className="jp-mlops-list jp-mlops-checklist">
        {readiness.checklist.map(item => (
          <li
            key={item.id}
            className={item.passed ? 'jp-mlops-check-passed' : 'jp-mlops-check-failed'}
            title={item.detail || undefined}
          >
            <span className="jp-mlops-check-mark" aria-hidden="true">
              {item.passed ? '✓' : '✗'}
            </span>{' '}
            <span className="jp-mlops-check-state">{item.passed ? 'passed' : 'failed'}</span>
            {': '}
            {item.label}
            {item.detail ? <span className="jp-mlops-muted"> — {item.detail}</span> : null}
          </li>
        ))}
      </ul>
    </div>
  );
}
