/** Comparing runs: their params side by side (which differ) and their metric series. */
import { getMetrics, getRun } from '../api/client';
import type { MetricSeries, ParamValue, RunDetail } from '../api/types';

/** One param across the compared runs: `values[i]` belongs to run i (undefined: not set). */
export interface ParamDiffRow {
  key: string;
  values: (ParamValue | undefined)[];
  /** True when the runs do not all have the same value (a missing param counts as one). */
  differs: boolean;
}

/** One run's series of one metric, for an overlaid chart. */
export interface ComparedSeries {
  runId: string;
  series: MetricSeries;
}

/** What the compare view shows. */
export interface CompareData {
  runs: RunDetail[];
  paramsDiff: ParamDiffRow[];
  /** Metric keys of any compared run, sorted. */
  metricKeys: string[];
  /** For each metric key, the series of the runs that logged it (in `runs` order). */
  metrics: Record<string, ComparedSeries[]>;
}

function sameValue(a: ParamValue | undefined, b: ParamValue | undefined): boolean {
  if (a === undefined || b === undefined) {
    return a === b;
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The union of the runs' params, sorted by key, with the rows whose values differ marked. */
export function paramsDiff(params: readonly Record<string, ParamValue>[]): ParamDiffRow[] {
  const keys = new Set<string>();
  for (const p of params) {
    Object.keys(p).forEach(k => keys.add(k));
  }
  return [...keys].sort().map(key => {
    const values = params.map(p =>
      Object.prototype.hasOwnProperty.call(p, key) ? p[key] : undefined
    );
    const differs = values.some(v => !sameValue(v, values[0]));
    return { key, values, differs };
  });
}

/** Build the compare data of runs and their metric series (`series[i]` is run i's). */
export function buildCompare(
  runs: RunDetail[],
  series: readonly (readonly MetricSeries[])[]
): CompareData {
  const metrics: Record<string, ComparedSeries[]> = {};
  runs.forEach((run, i) => {
    for (const s of series[i] ?? []) {
      (metrics[s.key] ??= []).push({ runId: run.id, series: s });
    }
  });
  return {
    runs,
    paramsDiff: paramsDiff(runs.map(r => r.params)),
    metricKeys: Object.keys(metrics).sort(),
    metrics
  };
}

/** Fetch the detail and metrics of each run (in parallel) and build the compare data. */
export async function loadCompare(ids: readonly string[]): Promise<CompareData> {
  const loaded = await Promise.all(
    ids.map(async id => {
      const [run, metrics] = await Promise.all([getRun(id), getMetrics(id)]);
      return { run, series: metrics.series };
    })
  );
  return buildCompare(
    loaded.map(l => l.run),
    loaded.map(l => l.series)
  );
}
