/**
 * A small hand-written SVG line chart of one metric over steps: one line per series (runs in
 * compare), min/max ticks on both axes, the last value(s) in the SVG <title>, and a legend
 * when several series are drawn. Colours are JupyterLab theme variables.
 */
import * as React from 'react';
import { formatNumber } from './format';

export interface ChartSeries {
  /** Shown in the legend and the title (e.g. the run's short id). */
  label: string;
  steps: readonly number[];
  /** Values as the daemon sends them: numbers, or "NaN"/"Infinity"/"-Infinity". */
  values: readonly (number | string)[];
  /** Which colour to draw it in (default: its index), to keep one colour per run. */
  colorIndex?: number;
}

export interface MetricChartProps {
  metricKey: string;
  series: readonly ChartSeries[];
  /** True in the compare view: the label becomes "Metric <key> compared". */
  compared?: boolean;
}

/** Line colours, in order; after them the colours repeat with dashes. */
export const SERIES_COLORS: readonly string[] = [
  'var(--jp-brand-color1)',
  'var(--jp-warn-color1)',
  'var(--jp-success-color1)',
  'var(--jp-error-color1)',
  'var(--jp-info-color1)',
  'var(--jp-ui-font-color2)'
];
const DASHES = ['', '6 3', '2 2', '8 3 2 3'];

/** The stroke colour and dash pattern of the series drawn `index`-th. */
export function seriesStyle(index: number): { color: string; dash: string | undefined } {
  const color = SERIES_COLORS[index % SERIES_COLORS.length];
  const dash = DASHES[Math.floor(index / SERIES_COLORS.length) % DASHES.length];
  return { color, dash: dash || undefined };
}

const WIDTH = 320;
const HEIGHT = 150;
const MARGIN = { left: 48, right: 10, top: 10, bottom: 22 };
/** At most this many points per line; longer series keep each bucket's min and max. */
const MAX_POINTS = 1000;

export interface Point {
  x: number;
  y: number;
}

/** The finite (step, value) points of a series. */
export function seriesPoints(series: ChartSeries): Point[] {
  const points: Point[] = [];
  const n = Math.min(series.steps.length, series.values.length);
  for (let i = 0; i < n; i++) {
    const y = series.values[i];
    if (typeof y === 'number' && Number.isFinite(y)) {
      points.push({ x: series.steps[i], y });
    }
  }
  return points;
}

/** Keep at most about `max` points: each bucket of a longer series keeps its min and max. */
export function decimate(points: Point[], max = MAX_POINTS): Point[] {
  if (points.length <= max) {
    return points;
  }
  const size = Math.ceil(points.length / Math.floor(max / 2));
  const out: Point[] = [];
  for (let start = 0; start < points.length; start += size) {
    const bucket = points.slice(start, start + size);
    let lo = bucket[0];
    let hi = bucket[0];
    for (const p of bucket) {
      lo = p.y < lo.y ? p : lo;
      hi = p.y > hi.y ? p : hi;
    }
    if (lo === hi) {
      out.push(lo);
    } else {
      out.push(...(lo.x <= hi.x ? [lo, hi] : [hi, lo]));
    }
  }
  return out;
}

interface Range {
  min: number;
  max: number;
}

function range(values: number[]): Range {
  let min = Math.min(...values);
  let max = Math.max(...values);
  if (min === max) {
    const pad = Math.abs(min) * 0.05 || 1;
    min -= pad;
    max += pad;
  }
  return { min, max };
}

function lastValueText(series: ChartSeries): string {
  const n = Math.min(series.steps.length, series.values.length);
  if (n === 0) {
    return 'no values';
  }
  return `${formatNumber(series.values[n - 1])} at step ${series.steps[n - 1]}`;
}

/** The chart's <title>: the last value of each series. */
export function chartTitle(metricKey: string, series: readonly ChartSeries[]): string {
  if (series.length === 1) {
    return `${metricKey}: last value ${lastValueText(series[0])}`;
  }
  return `${metricKey}: ${series.map(s => `${s.label} ${lastValueText(s)}`).join('; ')}`;
}

/** A short line in a series' colour and dash pattern (legends, table headers). */
export function SeriesSwatch({ index }: { index: number }): JSX.Element {
  const { color, dash } = seriesStyle(index);
  return (
    <svg width="18" height="8" aria-hidden="true" className="jp-mlops-runs-swatch">
      <line
        x1="0"
        y1="4"
        x2="18"
        y2="4"
        style={{ stroke: color }}
        strokeWidth={2}
        strokeDasharray={dash}
      />
    </svg>
  );
}

export function MetricChart(props: MetricChartProps): JSX.Element {
  const { metricKey, series, compared } = props;
  const label = compared ? `Metric ${metricKey} compared` : `Metric ${metricKey}`;
  const lines = series.map(s => decimate(seriesPoints(s)));
  const all = lines.flat();
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const xr = all.length ? range(all.map(p => p.x)) : { min: 0, max: 1 };
  const yr = all.length ? range(all.map(p => p.y)) : { min: 0, max: 1 };
  const sx = (x: number): number => MARGIN.left + ((x - xr.min) / (xr.max - xr.min)) * plotW;
  const sy = (y: number): number => MARGIN.top + (1 - (y - yr.min) / (yr.max - yr.min)) * plotH;
  const fmt = (n: number): string => n.toFixed(1);
  const bottom = MARGIN.top + plotH;
  const right = MARGIN.left + plotW;
  const showLegend = compared || series.length > 1;
  return (
    <figure className="jp-mlops-runs-chart">
      <figcaption className="jp-mlops-runs-chart-caption">{metricKey}</figcaption>
      <svg
        role="img"
        aria-label={label}
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        className="jp-mlops-runs-chart-svg"
      >
        <title>{chartTitle(metricKey, series)}</title>
        <g className="jp-mlops-runs-chart-axes" aria-hidden="true">
          <line x1={MARGIN.left} y1={MARGIN.top} x2={MARGIN.left} y2={bottom} />
          <line x1={MARGIN.left} y1={bottom} x2={right} y2={bottom} />
          <line x1={MARGIN.left - 4} y1={MARGIN.top} x2={MARGIN.left} y2={MARGIN.top} />
          <line x1={MARGIN.left - 4} y1={bottom} x2={MARGIN.left} y2={bottom} />
          <line x1={MARGIN.left} y1={bottom} x2={MARGIN.left} y2={bottom + 4} />
          <line x1={right} y1={bottom} x2={right} y2={bottom + 4} />
        </g>
        {all.length ? (
          <g className="jp-mlops-runs-chart-ticks" aria-hidden="true">
            <text x={MARGIN.left - 6} y={MARGIN.top + 4} textAnchor="end">
              {formatNumber(yr.max)}
            </text>
            <text x={MARGIN.left - 6} y={bottom} textAnchor="end">
              {formatNumber(yr.min)}
            </text>
            <text x={MARGIN.left} y={HEIGHT - 4} textAnchor="start">
              {formatNumber(xr.min)}
            </text>
            <text x={right} y={HEIGHT - 4} textAnchor="end">
              {formatNumber(xr.max)}
            </text>
            <text x={(MARGIN.left + right) / 2} y={HEIGHT - 4} textAnchor="middle">
              step
            </text>
          </g>
        ) : (
          <text
            className="jp-mlops-runs-chart-empty"
            x={(MARGIN.left + right) / 2}
            y={(MARGIN.top + bottom) / 2}
            textAnchor="middle"
          >
            No values yet
          </text>
        )}
        {lines.map((points, i) => {
          if (!points.length) {
            return null;
          }
          const { color, dash } = seriesStyle(series[i].colorIndex ?? i);
          const d = points
            .map((p, j) => `${j === 0 ? 'M' : 'L'}${fmt(sx(p.x))},${fmt(sy(p.y))}`)
            .join(' ');
          const last = points[points.length - 1];
          return (
            <g key={i} className="jp-mlops-runs-chart-series" data-series={series[i].label}>
              <path
                d={d}
                fill="none"
                style={{ stroke: color }}
                strokeWidth={1.5}
                strokeDasharray={dash}
              />
              <circle cx={fmt(sx(last.x))} cy={fmt(sy(last.y))} r={2.5} style={{ fill: color }} />
            </g>
          );
        })}
      </svg>
      {showLegend ? (
        <ul className="jp-mlops-runs-chart-legend">
          {series.map((s, i) => (
            <li key={i}>
              <SeriesSwatch index={s.colorIndex ?? i} />
              {s.label}
            </li>
          ))}
        </ul>
      ) : null}
    </figure>
  );
}
