/**
 * A version's gate report: its status, then each check with a status icon, its name,
 * measured value against threshold, the lesson (what the check protects against) and the
 * evidence behind a disclosure.
 */
import * as React from 'react';
import type { CheckStatus, GateCheck, GateReportOut } from '../../api/types';

const ICONS: Record<CheckStatus, string> = {
  passed: '✓',
  failed: '✗',
  skipped: '–',
  error: '!'
};

/** A check's state in words, as screen readers and the tests read it. */
export function checkStateLabel(check: GateCheck): string {
  return check.required || check.status === 'passed' || check.status === 'skipped'
    ? check.status
    : `${check.status} (advisory)`;
}

function CheckItem({ check }: { check: GateCheck }): JSX.Element {
  const threshold = check.threshold ? ` (threshold ${check.threshold})` : '';
  const compared =
    check.measured || check.threshold ? `${check.measured ?? 'not measured'}${threshold}` : null;
  return (
    <li
      aria-label={`Check ${check.name}`}
      className={`jp-mlops-lesson jp-mlops-models-check jp-mlops-models-check-${check.status}${
        check.required ? '' : ' jp-mlops-models-check-advisory'
      }`}
    >
      <div className="jp-mlops-models-check-head">
        <span aria-hidden="true" className="jp-mlops-models-check-icon">
          {ICONS[check.status]}
        </span>
        <span className="jp-mlops-finding-id">{check.name}</span>
        <span className="jp-mlops-check-state jp-mlops-models-check-state">
          {checkStateLabel(check)}
        </span>
        {check.model ? <span className="jp-mlops-runs-muted">{`model ${check.model}`}</span> : null}
      </div>
      {compared ? <div className="jp-mlops-models-check-measured">{compared}</div> : null}
      <p className="jp-mlops-models-check-lesson">{check.lesson}</p>
      {check.evidence ? (
        <details className="jp-mlops-lesson-text">
          <summary>Evidence</summary>
          <pre className="jp-mlops-models-evidence">{check.evidence}</pre>
        </details>
      ) : null}
    </li>
  );
}

export function GateReport(props: { report: GateReportOut | null; version: number }): JSX.Element {
  const { report, version } = props;
  if (!report) {
    return (
      <p className="jp-mlops-runs-muted">
        No gate report: this version cannot be promoted until its run's gates are evaluated.
      </p>
    );
  }
  const failed = report.checks.filter(
    c => c.required && (c.status === 'failed' || c.status === 'error')
  );
  let summary: string;
  if (report.status === 'pending') {
    summary = 'Gates: running…';
  } else if (report.passed) {
    summary = 'Gates: passed';
  } else {
    summary = `Gates: failed (${failed.map(c => c.name).join(', ') || 'required checks'})`;
  }
  return (
    <div className="jp-mlops-models-gate">
      <p
        className={`jp-mlops-models-gate-status jp-mlops-models-gate-${report.status}`}
        aria-live="polite"
      >
        {summary}
        {report.config_path ? (
          <span className="jp-mlops-runs-muted">{` — ${report.config_path}`}</span>
        ) : (
          <span className="jp-mlops-runs-muted"> — default gates</span>
        )}
      </p>
      {report.checks.length ? (
        <ul aria-label={`Gate checks of version ${version}`} className="jp-mlops-list">
          {report.checks.map(check => (
            <CheckItem key={`${check.name}:${check.model ?? ''}`} check={check} />
          ))}
        </ul>
      ) : report.status === 'pending' ? (
        <p className="jp-mlops-runs-muted">Waiting for the first checks…</p>
      ) : null}
    </div>
  );
}
