import * as React from 'react';
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as client from '../../../api/client';
import type { RunStatus } from '../../../api/types';
import { RunsModel } from '../../../model/runs';
import { FakeLog, flush, makeDetail, makePage } from '../../../model/__tests__/runsFixtures';
import { RunsSection } from '../RunsSection';

vi.mock('../../../api/client');

const api = vi.mocked(client);

describe('RunDetail', () => {
  let status: RunStatus;
  let log: FakeLog;
  let model: RunsModel;
  const onOpenNotebook = vi.fn();

  beforeEach(() => {
    status = 'running';
    log = new FakeLog();
    log.text = 'epoch 1 loss=0.5\n';
    onOpenNotebook.mockReset();
    api.listRuns.mockResolvedValue(makePage([]));
    api.getRun.mockImplementation(async id =>
      makeDetail({
        id,
        name: 'baseline',
        status,
        duration_s: null,
        params: { lr: 0.1, epochs: 3 },
        artifacts: [{ path: 'model/weights.bin', size: 2048, sha256: null }],
        module_version: { id: 'mv3', module: 'pkg.train', version: 3, git_sha: '0123456789abcdef' }
      })
    );
    api.getMetrics.mockImplementation(async id => ({
      run_id: id,
      series: [
        { key: 'acc', steps: [0, 1], values: [0.5, 0.7], times: [0, 1] },
        { key: 'loss', steps: [0, 1, 2], values: [1, 0.6, 0.5], times: [0, 1, 2] }
      ]
    }));
    api.getLogs.mockImplementation(async (id, offset) => log.chunk(id, offset));
    api.artifactUrl.mockImplementation((id, path) => `/mlops/api/runs/${id}/artifacts/${path}`);
    api.listModules.mockResolvedValue({
      modules: [
        {
          id: 'mv3',
          project: '/home/me/proj',
          module: 'pkg.train',
          module_path: 'pkg/train.py',
          version: 3,
          content_hash: 'sha256:00',
          git_sha: '0123456789abcdef',
          notebook_path: 'work/analysis.ipynb',
          notebook_hash: 'h',
          cell_ids: ['c1', 'c4'],
          diff: '',
          created_at: '2024-05-01T09:00:00Z'
        }
      ]
    });
    model = new RunsModel({ perPage: 25, pollIntervalMs: 1000 });
  });

  afterEach(() => {
    cleanup();
    model.dispose();
  });

  async function openRun(): Promise<HTMLElement> {
    render(<RunsSection model={model} onOpenNotebook={onOpenNotebook} />);
    await act(async () => {
      model.openRun('abcdef0123456789');
      await flush();
    });
    return screen.getByRole('region', { name: 'Run detail' });
  }

  it('shows heading, status, params, a chart per metric, log, artifacts, module', async () => {
    const region = await openRun();
    expect(within(region).getByRole('heading', { name: 'baseline' })).toBeTruthy();
    expect(region.textContent).toContain('running');
    const params = within(region).getByRole('table', { name: 'Params' });
    expect(within(params).getAllByRole('row')).toHaveLength(2);
    expect(params.textContent).toContain('lr');
    expect(within(region).getByRole('img', { name: 'Metric acc' })).toBeTruthy();
    expect(within(region).getByRole('img', { name: 'Metric loss' })).toBeTruthy();
    expect(within(region).getByLabelText('Log').textContent).toBe('epoch 1 loss=0.5\n');
    const artifacts = within(region).getByRole('list', { name: 'Artifacts' });
    const link = within(artifacts).getByRole('link', { name: 'model/weights.bin' });
    expect(link.getAttribute('href')).toBe(
      '/mlops/api/runs/abcdef0123456789/artifacts/model/weights.bin'
    );
    expect(region.textContent).toContain('module pkg.train version 3');
    expect(region.textContent).toContain('0123456');
    expect(within(region).getByRole('button', { name: 'Cancel run' })).toBeTruthy();
    expect(within(region).getByRole('button', { name: 'Re-run' })).toBeTruthy();
  });

  it('opens the notebook of the module version with its cells', async () => {
    const region = await openRun();
    fireEvent.click(within(region).getByRole('link', { name: 'Open notebook' }));
    expect(onOpenNotebook).toHaveBeenCalledWith('work/analysis.ipynb', ['c1', 'c4']);
  });

  it('has no Cancel run once the run ended, and goes back to the list', async () => {
    status = 'succeeded';
    log.ended = true;
    const region = await openRun();
    expect(within(region).queryByRole('button', { name: 'Cancel run' })).toBeNull();
    await act(async () => {
      fireEvent.click(within(region).getByRole('button', { name: 'Back to runs' }));
      await flush();
    });
    expect(screen.queryByRole('region', { name: 'Run detail' })).toBeNull();
    expect(screen.getByRole('table', { name: 'Runs' })).toBeTruthy();
  });

  it('cancels from the Cancel run button', async () => {
    api.cancelRun.mockImplementation(async id => makeDetail({ id, cancel_requested: true }));
    const region = await openRun();
    await act(async () => {
      fireEvent.click(within(region).getByRole('button', { name: 'Cancel run' }));
      await flush();
    });
    expect(api.cancelRun).toHaveBeenCalledWith('abcdef0123456789');
  });
});
