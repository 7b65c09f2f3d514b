import * as React from 'react';
import { act, cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as client from '../../../api/client';
import { RunsModel } from '../../../model/runs';
import { makeDetail, makePage } from '../../../model/__tests__/runsFixtures';
import { RunsSection } from '../RunsSection';

vi.mock('../../../api/client');

const api = vi.mocked(client);

describe('CompareView', () => {
  let model: RunsModel;

  beforeEach(() => {
    api.listRuns.mockResolvedValue(makePage([]));
    api.getRun.mockImplementation(async id =>
      makeDetail({
        id,
        params: id.startsWith('a') ? { lr: 0.1, epochs: 5 } : { lr: 0.2, epochs: 5 },
        metrics: { loss: id.startsWith('a') ? 0.3 : 0.4 }
      })
    );
    api.getMetrics.mockImplementation(async id => ({
      run_id: id,
      series: [{ key: 'loss', steps: [0, 1], values: [1, 0.3], times: [0, 1] }]
    }));
    model = new RunsModel({ perPage: 25, pollIntervalMs: 1000 });
  });

  afterEach(() => {
    cleanup();
    model.dispose();
  });

  it('shows the params diff with differing rows marked and overlaid charts', async () => {
    render(<RunsSection model={model} onOpenNotebook={() => undefined} />);
    model.toggleSelected('aaaaaaaa0001');
    model.toggleSelected('bbbbbbbb0002');
    await act(async () => {
      await model.openCompare();
    });
    const region = screen.getByRole('region', { name: 'Compare runs' });
    const diff = within(region).getByRole('table', { name: 'Params diff' });
    const rows = within(diff).getAllByRole('row');
    expect(rows).toHaveLength(3);
    const lr = rows.find(r => r.textContent?.startsWith('lr'))!;
    const epochs = rows.find(r => r.textContent?.startsWith('epochs'))!;
    expect(lr.classList.contains('jp-mlops-runs-differs')).toBe(true);
    expect(lr.textContent).toContain('differs');
    expect(lr.textContent).toContain('0.2');
    expect(epochs.classList.contains('jp-mlops-runs-differs')).toBe(false);
    expect(epochs.textContent).not.toContain('differs');
    const chart = within(region).getByRole('img', { name: 'Metric loss compared' });
    expect(chart.querySelectorAll('path')).toHaveLength(2);
    expect(within(region).getByRole('button', { name: 'Back to runs' })).toBeTruthy();
  });
});
