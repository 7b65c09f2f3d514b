/**
 * One run: status, params, a chart per metric, the log tail (live while the run is active),
 * artifacts with download links, the module version it trained with a link to its notebook,
 * and the actions Cancel run / Re-run / Back to runs.
 */
import * as React from 'react';
import { artifactUrl } from '../../api/client';
import type { RunsModel } from '../../model/runs';
import type { RunDetailModel } from '../../model/runsDetail';
import {
  describeEnvironment,
  formatBytes,
  formatDuration,
  formatLocalTime,
  formatParam,
  runDurationSeconds,
  shortId,
  shortSha
} from './format';
import { MetricChart } from './MetricChart';
import { StatusBadge } from './StatusBadge';
import { useSignal } from '../useSignal';

export interface RunDetailProps {
  model: RunsModel;
  detail: RunDetailModel;
  onOpenNotebook: (path: string, cellIds: string[]) => void;
}

/** The log tail: it opens at the end and follows new output until the user scrolls up. */
function LogView({ detail }: { detail: RunDetailModel }): JSX.Element {
  const ref = React.useRef<HTMLPreElement>(null);
  const stick = React.useRef(true);
  React.useLayoutEffect(() => {
    const pre = ref.current;
    if (pre && stick.current) {
      pre.scrollTop = pre.scrollHeight;
    }
  }, [detail.log]);
  return (
    <>
      {detail.logTruncated ? (
        <p className="jp-mlops-runs-muted">Earlier output is not shown.</p>
      ) : null}
      <pre
        ref={ref}
        aria-label="Log"
        tabIndex={0}
        className="jp-mlops-runs-log"
        onScroll={event => {
          const pre = event.currentTarget;
          stick.current = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
        }}
      >
        {detail.log || (detail.live ? 'Waiting for output…' : 'No output.')}
      </pre>
    </>
  );
}

function ModuleVersion(props: RunDetailProps): JSX.Element | null {
  const { detail, onOpenNotebook } = props;
  const ref = detail.run?.module_version;
  if (!ref) {
    return null;
  }
  const version = detail.moduleVersion;
  return (
    <p className="jp-mlops-runs-module-version">
      {`module ${ref.module} version ${ref.version}`}
      {ref.git_sha ? (
        <code title={ref.git_sha} className="jp-mlops-runs-sha">
          {shortSha(ref.git_sha)}
        </code>
      ) : null}
      {version && version.notebook_path ? (
        <a
          href="#"
          className="jp-mlops-runs-link"
          title={version.notebook_path}
          onClick={event => {
            event.preventDefault();
            onOpenNotebook(version.notebook_path, [...version.cell_ids]);
          }}
        >
          Open notebook
        </a>
      ) : null}
    </p>
  );
}

export function RunDetail(props: RunDetailProps): JSX.Element {
  const { model, detail } = props;
  useSignal(detail.changed);
  const run = detail.run;
  const headingRef = React.useRef<HTMLHeadingElement>(null);
  React.useEffect(() => {
    headingRef.current?.focus();
  }, [detail.id]);
  const params = run ? Object.entries(run.params) : [];
  const title = run?.name || `Run ${shortId(detail.id)}`;
  return (
    <div role="region" aria-label="Run detail" className="jp-mlops-runs-detail">
      <div className="jp-mlops-runs-actions">
        <button type="button" className="jp-mlops-button" onClick={() => model.backToRuns()}>
          Back to runs
        </button>
        {detail.active ? (
          <button
            type="button"
            className="jp-mlops-button jp-mlops-button-danger"
            disabled={detail.cancelling || run?.cancel_requested}
            onClick={() => void model.cancelOpenRun()}
          >
            Cancel run
          </button>
        ) : null}
        <button
          type="button"
          className="jp-mlops-button"
          disabled={!run || model.rerunning}
          onClick={() => void model.rerun()}
        >
          Re-run
        </button>
      </div>
      <h3 ref={headingRef} tabIndex={-1} className="jp-mlops-runs-heading">
        {title}
      </h3>
      <p className="jp-mlops-runs-muted jp-mlops-runs-id">{detail.id}</p>
      {detail.error ? (
        <div role="alert" className="jp-mlops-error">
          {detail.error}
        </div>
      ) : null}
      {run ? (
        <>
          <p className="jp-mlops-runs-status-line">
            <span>Status: </span>
            <StatusBadge status={run.status} />
            {run.cancel_requested && detail.active ? <span> (cancel requested)</span> : null}
            {run.status_reason ? <span>{` — ${run.status_reason}`}</span> : null}
            {run.exit_code !== null &&
            run.exit_code !== undefined &&
            !(run.status_reason ?? '').includes(`code ${run.exit_code}`) ? (
              <span>{` (exit code ${run.exit_code})`}</span>
            ) : null}
          </p>
          <dl className="jp-mlops-runs-facts">
            <dt>Entry point</dt>
            <dd>{run.entry_point}</dd>
            <dt>Executor</dt>
            <dd>
              {run.executor}
              {run.isolation ? ` (isolation: ${run.isolation})` : ''}
            </dd>
            <dt>Environment</dt>
            <dd>{describeEnvironment(run.environment)}</dd>
            <dt>Datasets</dt>
            <dd>{run.datasets?.length ? run.datasets.join(', ') : 'none'}</dd>
            <dt>Identity</dt>
            <dd title={run.identity ?? undefined}>
              {run.identity ? run.identity.slice(0, 12) : 'not pinned (never a cache hit)'}
            </dd>
            <dt>Started</dt>
            <dd>{run.started_at ? formatLocalTime(run.started_at) : 'not yet'}</dd>
            <dt>Duration</dt>
            <dd>{formatDuration(runDurationSeconds(run, Date.now()))}</dd>
            <dt>Project</dt>
            <dd>{run.project}</dd>
          </dl>
          <ModuleVersion {...props} />
          <h4>Params</h4>
          <table aria-label="Params" className="jp-mlops-runs-kv">
            <tbody>
              {params.length ? (
                params.map(([key, value]) => (
                  <tr key={key}>
                    <th scope="row">{key}</th>
                    <td>{formatParam(value)}</td>
                  </tr>
                ))
              ) : (
                <tr>
                  <td className="jp-mlops-runs-muted">No params.</td>
                </tr>
              )}
            </tbody>
          </table>
          <h4>Metrics</h4>
          {detail.series.length ? (
            <div className="jp-mlops-runs-charts">
              {detail.series.map(s => (
                <MetricChart
                  key={s.key}
                  metricKey={s.key}
                  series={[{ label: shortId(detail.id), steps: s.steps, values: s.values }]}
                />
              ))}
            </div>
          ) : (
            <p className="jp-mlops-runs-muted">
              {detail.active ? 'No metrics logged yet.' : 'No metrics.'}
            </p>
          )}
          <h4>Log{detail.live ? <span className="jp-mlops-runs-live"> (live)</span> : null}</h4>
          <LogView detail={detail} />
          <h4>Artifacts</h4>
          <ul aria-label="Artifacts" className="jp-mlops-runs-artifacts">
            {run.artifacts.length ? (
              run.artifacts.map(a => (
                <li key={a.path}>
                  <a href={artifactUrl(run.id, a.path)} download={a.path.split('/').pop()}>
                    {a.path}
                  </a>
                  <span className="jp-mlops-runs-muted">{` ${formatBytes(a.size)}`}</span>
                </li>
              ))
            ) : (
              <li className="jp-mlops-runs-muted">No artifacts.</li>
            )}
          </ul>
        </>
      ) : detail.error ? null : (
        <p className="jp-mlops-runs-muted">Loading the run…</p>
      )}
    </div>
  );
}
