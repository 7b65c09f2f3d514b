import * as React from 'react';
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { decimate, MetricChart, seriesPoints } from '../MetricChart';

afterEach(() => cleanup());

/** The number of points a path's `d` draws (one M or L command each). */
function pointCount(path: Element): number {
  return (path.getAttribute('d') ?? '').match(/[ML]/g)?.length ?? 0;
}

describe('MetricChart', () => {
  it('draws a point per finite value; labelled; the last value in its title', () => {
    render(
      <MetricChart
        metricKey="loss"
        series={[{ label: 'r1', steps: [0, 1, 2, 3, 4], values: [1, 0.8, 'NaN', 0.4, 0.3] }]}
      />
    );
    const chart = screen.getByRole('img', { name: 'Metric loss' });
    const paths = chart.querySelectorAll('path');
    expect(paths).toHaveLength(1);
    expect(pointCount(paths[0])).toBe(4);
    expect(chart.querySelector('title')?.textContent).toBe('loss: last value 0.3 at step 4');
    // min/max ticks of both axes
    const ticks = Array.from(chart.querySelectorAll('text')).map(t => t.textContent);
    expect(ticks).toEqual(expect.arrayContaining(['1', '0.3', '0', '4']));
    expect(screen.queryByRole('list')).toBeNull(); // no legend for one series
  });

  it('maps larger values higher and later steps further right', () => {
    const series = [{ label: 'r', steps: [0, 10], values: [0, 1] }];
    render(<MetricChart metricKey="acc" series={series} />);
    const chart = screen.getByRole('img', { name: 'Metric acc' });
    const d = chart.querySelector('path')!.getAttribute('d')!;
    const [[x0, y0], [x1, y1]] = d
      .split(' ')
      .map(cmd => cmd.slice(1).split(',').map(Number));
    expect(x1).toBeGreaterThan(x0);
    expect(y1).toBeLessThan(y0); // SVG y grows downwards
  });

  it('overlays one line per run with a legend when compared', () => {
    render(
      <MetricChart
        metricKey="loss"
        compared
        series={[
          { label: 'run a', steps: [0, 1, 2], values: [3, 2, 1] },
          { label: 'run b', steps: [0, 1], values: [4, 2] }
        ]}
      />
    );
    const chart = screen.getByRole('img', { name: 'Metric loss compared' });
    const paths = Array.from(chart.querySelectorAll('path'));
    expect(paths.map(pointCount)).toEqual([3, 2]);
    const colours = paths.map(p => (p as SVGPathElement).style.stroke);
    expect(new Set(colours).size).toBe(2);
    expect(screen.getByRole('list').textContent).toContain('run a');
    expect(chart.querySelector('title')?.textContent).toBe(
      'loss: run a 1 at step 2; run b 2 at step 1'
    );
  });

  it('says when there is nothing to draw yet', () => {
    render(<MetricChart metricKey="loss" series={[{ label: 'r', steps: [], values: [] }]} />);
    const chart = screen.getByRole('img', { name: 'Metric loss' });
    expect(chart.querySelectorAll('path')).toHaveLength(0);
    expect(chart.textContent).toContain('No values yet');
  });
});

describe('decimate', () => {
  it('keeps short series and reduces long ones to bucket minima and maxima', () => {
    const short = seriesPoints({ label: '', steps: [0, 1], values: [1, 2] });
    expect(decimate(short, 10)).toBe(short);
    const steps = Array.from({ length: 100 }, (_, i) => i);
    const values = steps.map(i => (i === 57 ? 1000 : i % 7));
    const kept = decimate(seriesPoints({ label: '', steps, values }), 20);
    expect(kept.length).toBeLessThanOrEqual(20);
    expect(kept.some(p => p.y === 1000)).toBe(true); // a spike survives
    expect(kept.map(p => p.x)).toEqual([...kept.map(p => p.x)].sort((a, b) => a - b));
  });
});
