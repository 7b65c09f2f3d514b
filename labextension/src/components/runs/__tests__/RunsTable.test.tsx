import * as React from 'react';
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as client from '../../../api/client';
import { MlopsApiError } from '../../../api/request';
import { RunsModel } from '../../../model/runs';
import { flush, makePage, makeSummary } from '../../../model/__tests__/runsFixtures';
import { RunsSection } from '../RunsSection';
import { RunsTable } from '../RunsTable';

vi.mock('../../../api/client');

const api = vi.mocked(client);

const RUNS = [
  makeSummary({ id: 'aaaaaaaa1111', status: 'running', duration_s: null, ended_at: null }),
  makeSummary({ id: 'bbbbbbbb2222', params: { lr: 0.01 }, metrics: { loss: 0.5, acc: 0.9 } }),
  makeSummary({
    id: 'cccccccc3333',
    status: 'failed',
    module_version: { id: 'mv1', module: 'pkg.train', version: 3, git_sha: null }
  })
];

function lastQuery(): client.RunQuery {
  const calls = api.listRuns.mock.calls;
  return calls[calls.length - 1][0];
}

async function renderTable(): Promise<RunsModel> {
  const model = new RunsModel({ perPage: 25, pollIntervalMs: 1000 });
  render(<RunsSection model={model} onOpenNotebook={() => undefined} />);
  await act(async () => {
    await model.refresh();
  });
  return model;
}

describe('RunsTable', () => {
  beforeEach(() => {
    api.listRuns.mockReset();
    api.getRun.mockReset();
    api.listRuns.mockResolvedValue(makePage(RUNS, 60));
    api.getRun.mockReturnValue(new Promise(() => undefined));
  });

  afterEach(() => cleanup());

  it('renders the headers, one row per run and the pagination', async () => {
    await renderTable();
    const table = screen.getByRole('table', { name: 'Runs' });
    const headers = ['Status', 'Module', 'Params', 'Metrics', 'Started', 'Duration', 'Executor'];
    for (const name of headers) {
      const header = within(table).getByRole('columnheader', { name: new RegExp(`^${name}`) });
      expect(header).toBeTruthy();
    }
    for (const name of ['Status', 'Module', 'Started', 'Duration']) {
      expect(within(table).getByRole('button', { name })).toBeTruthy();
    }
    expect(within(table).queryByRole('button', { name: 'Executor' })).toBeNull();
    expect(within(table).getAllByRole('row')).toHaveLength(1 + RUNS.length);
    expect(screen.getByText('Page 1 of 3')).toBeTruthy();
    expect(screen.getByText('60 runs')).toBeTruthy();
    expect(screen.getByRole('checkbox', { name: 'Select run bbbbbbbb' })).toBeTruthy();
    expect(screen.getByText('lr=0.01')).toBeTruthy();
    expect(screen.getByText('loss=0.5, acc=0.9')).toBeTruthy();
    expect(screen.getByText('pkg.train v3')).toBeTruthy();
    expect(screen.getAllByText('1m 05s')).toHaveLength(2);
    const started = within(table).getByRole('columnheader', { name: /^Started/ });
    expect(started.getAttribute('aria-sort')).toBe('descending');
    const previous = screen.getByRole('button', { name: 'Previous page' }) as HTMLButtonElement;
    expect(previous.disabled).toBe(true);
  });

  it('sorts, filters and pages through the model (on the server)', async () => {
    const model = await renderTable();
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Duration' }));
      await flush();
    });
    expect(lastQuery()).toMatchObject({ sort: 'duration', order: 'desc', page: 1 });
    expect(
      screen.getByRole('columnheader', { name: /^Duration/ }).getAttribute('aria-sort')
    ).toBe('descending');
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Duration' }));
      await flush();
    });
    expect(lastQuery()).toMatchObject({ sort: 'duration', order: 'asc' });
    await act(async () => {
      fireEvent.change(screen.getByRole('combobox', { name: 'Filter by status' }), {
        target: { value: 'failed' }
      });
      await flush();
    });
    expect(lastQuery()).toMatchObject({ status: 'failed', page: 1 });
    await act(async () => {
      fireEvent.change(screen.getByRole('combobox', { name: 'Sort by' }), {
        target: { value: 'metrics.loss' }
      });
      await flush();
    });
    expect(lastQuery()).toMatchObject({ sort: 'metrics.loss' });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Next page' }));
      await flush();
    });
    expect(lastQuery()).toMatchObject({ page: 2, sort: 'metrics.loss', status: 'failed' });
    expect(model.query.page).toBe(2);
    expect(screen.getByText('Page 2 of 3')).toBeTruthy();
  });

  it('enables Compare with two selected runs', async () => {
    const model = await renderTable();
    const compare = screen.getByRole('button', { name: 'Compare' }) as HTMLButtonElement;
    expect(compare.disabled).toBe(true);
    act(() => {
      fireEvent.click(screen.getByRole('checkbox', { name: 'Select run aaaaaaaa' }));
    });
    expect(compare.disabled).toBe(true);
    act(() => {
      fireEvent.click(screen.getByRole('checkbox', { name: 'Select run cccccccc' }));
    });
    expect(compare.disabled).toBe(false);
    expect(model.selection).toEqual(['aaaaaaaa1111', 'cccccccc3333']);
    expect(model.view).toBe('list'); // the checkbox does not open the row
  });

  it('opens a run on click and on Enter', async () => {
    const model = await renderTable();
    const open = vi.spyOn(model, 'openRun');
    const rows = within(screen.getByRole('table', { name: 'Runs' })).getAllByRole('row');
    act(() => {
      fireEvent.keyDown(rows[2], { key: 'Enter' });
    });
    expect(open).toHaveBeenLastCalledWith('bbbbbbbb2222');
    act(() => model.backToRuns());
    const again = within(screen.getByRole('table', { name: 'Runs' })).getAllByRole('row');
    act(() => {
      fireEvent.click(again[1]);
    });
    expect(open).toHaveBeenLastCalledWith('aaaaaaaa1111');
    expect(screen.getByRole('region', { name: 'Run detail' })).toBeTruthy();
    expect(screen.queryByRole('table', { name: 'Runs' })).toBeNull();
  });

  it('says when nothing matches the filter', async () => {
    api.listRuns.mockResolvedValue(makePage([], 0));
    const model = new RunsModel({ perPage: 25, pollIntervalMs: 1000 });
    model.setStatusFilter(['lost']);
    render(<RunsTable model={model} />);
    await act(async () => {
      await model.refresh();
    });
    expect(screen.getByText('No runs match the filter.')).toBeTruthy();
    expect(screen.getByText('Page 1 of 1')).toBeTruthy();
    expect(screen.getByText('0 runs')).toBeTruthy();
  });

  it('shows a failed list call inline', async () => {
    api.listRuns.mockRejectedValue(new MlopsApiError(503, 'daemon_unavailable', 'daemon is down'));
    await renderTable();
    expect(screen.getByRole('alert').textContent).toBe('daemon is down');
  });
});
