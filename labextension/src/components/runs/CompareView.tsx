/**
 * The selected runs side by side: a params diff (rows whose values differ are marked), their
 * final metrics, and one overlaid chart per metric (one colour per run).
 */
import * as React from 'react';
import type { RunDetail } from '../../api/types';
import type { RunsModel } from '../../model/runs';
import type { CompareData } from '../../model/runsCompare';
import { formatNumber, formatParam, shortId } from './format';
import { MetricChart, SeriesSwatch } from './MetricChart';
import { useSignal } from '../useSignal';

export interface CompareViewProps {
  model: RunsModel;
}

/** How a run is named in the compare view: its name, or its short id. */
export function compareLabel(run: RunDetail): string {
  return run.name ? `${run.name} (${shortId(run.id)})` : shortId(run.id);
}

function RunHeaders({ runs }: { runs: readonly RunDetail[] }): JSX.Element {
  return (
    <>
      {runs.map((run, i) => (
        <th scope="col" key={run.id} title={run.id}>
          <SeriesSwatch index={i} />
          {compareLabel(run)}
        </th>
      ))}
    </>
  );
}

function ParamsDiffTable({ data }: { data: CompareData }): JSX.Element {
  const differing = data.paramsDiff.filter(r => r.differs).length;
  return (
    <>
      <h4>Params</h4>
      <p className="jp-mlops-runs-muted">
        {differing === 0
          ? 'All params are the same.'
          : `${differing} of ${data.paramsDiff.length} params differ.`}
      </p>
      <div className="jp-mlops-runs-table-wrap">
        <table aria-label="Params diff" className="jp-mlops-runs-table jp-mlops-runs-diff-table">
          <thead>
            <tr>
              <th scope="col">Param</th>
              <RunHeaders runs={data.runs} />
            </tr>
          </thead>
          <tbody>
            {data.paramsDiff.length ? (
              data.paramsDiff.map(row => (
                <tr key={row.key} className={row.differs ? 'jp-mlops-runs-differs' : undefined}>
                  <th scope="row">
                    {row.key}
                    {row.differs ? (
                      <span className="jp-mlops-runs-differs-mark"> (differs)</span>
                    ) : null}
                  </th>
                  {row.values.map((value, i) => (
                    <td key={i}>{formatParam(value)}</td>
                  ))}
                </tr>
              ))
            ) : (
              <tr>
                <td colSpan={data.runs.length + 1} className="jp-mlops-runs-muted">
                  No params.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </>
  );
}

function FinalMetricsTable({ data }: { data: CompareData }): JSX.Element | null {
  const keys = new Set<string>();
  data.runs.forEach(run => Object.keys(run.metrics).forEach(k => keys.add(k)));
  if (!keys.size) {
    return null;
  }
  return (
    <div className="jp-mlops-runs-table-wrap">
      <table aria-label="Final metrics" className="jp-mlops-runs-table">
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <RunHeaders runs={data.runs} />
          </tr>
        </thead>
        <tbody>
          {[...keys].sort().map(key => (
            <tr key={key}>
              <th scope="row">{key}</th>
              {data.runs.map(run => (
                <td key={run.id}>{formatNumber(run.metrics[key])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Charts({ data }: { data: CompareData }): JSX.Element {
  const index = new Map(data.runs.map((run, i) => [run.id, i]));
  const labels = new Map(data.runs.map(run => [run.id, compareLabel(run)]));
  if (!data.metricKeys.length) {
    return <p className="jp-mlops-runs-muted">None of these runs logged metrics.</p>;
  }
  return (
    <div className="jp-mlops-runs-charts">
      {data.metricKeys.map(key => (
        <MetricChart
          key={key}
          metricKey={key}
          compared
          series={data.metrics[key].map(c => ({
            label: labels.get(c.runId) ?? shortId(c.runId),
            steps: c.series.steps,
            values: c.series.values,
            colorIndex: index.get(c.runId)
          }))}
        />
      ))}
    </div>
  );
}

export function CompareView({ model }: CompareViewProps): JSX.Element {
  useSignal(model.changed);
  const data = model.compare;
  const headingRef = React.useRef<HTMLHeadingElement>(null);
  React.useEffect(() => {
    headingRef.current?.focus();
  }, []);
  const count = data ? data.runs.length : model.selection.length;
  return (
    <div role="region" aria-label="Compare runs" className="jp-mlops-runs-compare">
      <div className="jp-mlops-runs-actions">
        <button type="button" className="jp-mlops-button" onClick={() => model.backToRuns()}>
          Back to runs
        </button>
      </div>
      <h3 ref={headingRef} tabIndex={-1} className="jp-mlops-runs-heading">
        {`Compare ${count} runs`}
      </h3>
      {model.compareLoading ? <p className="jp-mlops-runs-muted">Loading the runs…</p> : null}
      {data ? (
        <>
          <ParamsDiffTable data={data} />
          <h4>Metrics</h4>
          <FinalMetricsTable data={data} />
          <Charts data={data} />
        </>
      ) : null}
    </div>
  );
}
