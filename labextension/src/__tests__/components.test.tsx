import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import * as React from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DaemonStatus } from '../components/DaemonStatus';
import { NotebookSection } from '../components/NotebookSection';
import { MlopsPanelView } from '../components/PanelView';
import { ConnectionModel } from '../model/connection';
import { NotebookModel } from '../model/notebook';
import type { ModelsModel } from '../model/models';
import type { RunsModel } from '../model/runs';
import { installFakeServer, status, type FakeServer } from './fakeServer';
import { FakeNotebook, job, PLAN, REPORT, RESULT, runDetail } from './fixtures';

vi.mock('../components/runs/RunsSection', () => ({
  RunsSection: () => <p>runs section</p>
}));
vi.mock('../components/models/ModelsSection', () => ({
  ModelsSection: () => <p>models section</p>
}));

async function flush(ms = 0): Promise<void> {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

let server: FakeServer;
let connection: ConnectionModel;

beforeEach(() => {
  vi.useFakeTimers();
  server = installFakeServer({
    'GET status': { body: status() },
    'POST daemon/start': { body: status() },
    'POST api/lint': { body: REPORT },
    'POST api/extractions/plan': { body: PLAN },
    'POST api/extractions': { status: 202, body: job() },
    'POST api/runs': { status: 201, body: runDetail('run42') }
  });
  connection = new ConnectionModel({ autostart: false, pollIntervalMs: 1000 });
});

afterEach(() => {
  cleanup();
  connection.dispose();
  vi.useRealTimers();
});

describe('DaemonStatus', () => {
  it('shows "Daemon not running" with a Start daemon button that starts it', async () => {
    server.routes['GET status'] = { body: status({ state: 'down', message: 'no daemon.json' }) };
    render(<DaemonStatus model={connection} />);
    await act(() => connection.refresh());
    expect(screen.getByRole('status', { name: 'Daemon status' }).textContent).toContain(
      'Daemon not running'
    );
    fireEvent.click(screen.getByRole('button', { name: 'Start daemon' }));
    await flush();
    expect(server.callsTo('POST daemon/start')).toHaveLength(1);
    expect(screen.getByRole('status', { name: 'Daemon status' }).textContent).toContain(
      'Connected'
    );
    expect(screen.queryByRole('button', { name: 'Start daemon' })).toBeNull();
  });

  it('shows "Version mismatch" and a start failure as an alert', async () => {
    server.routes['GET status'] = { body: status({ state: 'mismatch', message: '0.2 vs 0.1' }) };
    render(<DaemonStatus model={connection} />);
    await act(() => connection.refresh());
    expect(screen.getByRole('status', { name: 'Daemon status' }).textContent).toContain(
      'Version mismatch'
    );
    server.routes['GET status'] = { body: status({ state: 'down' }) };
    server.routes['POST daemon/start'] = {
      status: 500,
      body: { error: 'start_failed', message: 'daemon did not answer: log tail' }
    };
    await act(() => connection.refresh());
    await act(() => connection.start());
    expect(screen.getByRole('alert').textContent).toBe('daemon did not answer: log tail');
  });
});

describe('NotebookSection', () => {
  let model: NotebookModel;
  let nb: FakeNotebook;

  beforeEach(async () => {
    await connection.refresh();
    model = new NotebookModel({ connection, pollIntervalMs: 500 });
    nb = new FakeNotebook('nb/train.ipynb');
  });

  afterEach(() => model.dispose());

  it('lists lessons that go to their cell, the checklist and the score', async () => {
    render(<NotebookSection model={model} connection={connection} defaultExecutor="auto" />);
    model.setNotebook(nb);
    await flush();
    expect(screen.getByRole('heading', { name: 'train.ipynb' })).toBeTruthy();
    const lessons = screen.getByRole('list', { name: 'Lint lessons' });
    const lesson = within(lessons).getByRole('button', { name: /^hidden-state: / });
    fireEvent.click(lesson);
    expect(nb.selectedCellIndex).toBe(2);
    expect(within(lessons).getByText('Run cells top to bottom: a fresh kernel would fail here.'))
      .toBeTruthy();
    const checklist = screen.getByRole('list', { name: 'Readiness checklist' });
    const items = within(checklist).getAllByRole('listitem');
    expect(items.map(item => item.textContent)).toEqual([
      expect.stringContaining('passed: Runs top to bottom'),
      expect.stringContaining('failed: Random seeds are set')
    ]);
    expect(screen.getByText('Readiness 70/100')).toBeTruthy();
  });

  it('walks Productionise -> preview -> progress -> result -> Train -> Start run', async () => {
    const started: string[] = [];
    model.runStarted.connect((_, id) => started.push(id));
    render(<NotebookSection model={model} connection={connection} defaultExecutor="local" />);
    model.setNotebook(nb);
    await flush();

    fireEvent.click(screen.getByRole('button', { name: 'Productionise' }));
    await flush();
    const preview = screen.getByRole('region', { name: 'Productionise preview' });
    const inputs = within(preview).getByRole('list', { name: 'Inputs' });
    expect(within(inputs).getAllByRole('listitem').map(li => li.textContent)).toEqual(['path']);
    const outputs = within(preview).getByRole('list', { name: 'Outputs' });
    expect(within(outputs).getAllByRole('listitem')).toHaveLength(2);
    expect(within(preview).getByText('nb/train.py')).toBeTruthy();
    expect(within(preview).getByText('cell 1: df.head() (display)')).toBeTruthy();
    const code = within(preview).getByLabelText('Generated module');
    expect(code.textContent).toBe(PLAN.module_source);
    expect(code.querySelector('.jp-mlops-tok-keyword')?.textContent).toBe('import');
    expect(code.querySelector('.jp-mlops-tok-def')?.textContent).toBe('main');
    expect(code.querySelector('.jp-mlops-tok-comment')?.textContent).toBe('# fit');
    expect(within(preview).getByLabelText('Generated tests').textContent).toBe(PLAN.test_source);

    server.routes['GET api/extractions/job1'] = {
      body: job({ state: 'succeeded', result: RESULT })
    };
    fireEvent.click(within(preview).getByRole('button', { name: 'Extract' }));
    await flush();
    const bar = screen.getByRole('progressbar', { name: 'Extraction progress' });
    expect(bar.getAttribute('aria-valuenow')).toBe('1');
    expect(bar.getAttribute('aria-valuemax')).toBe('4');
    expect(screen.getByText(/running cell 2/)).toBeTruthy();

    await flush(500);
    const result = screen.getByRole('region', { name: 'Extraction result' });
    expect(result.textContent).toContain('nb.train');
    expect(result.textContent).toContain('version 3');
    expect(result.textContent).toContain('4 tests passed');
    expect(result.textContent).toContain('tests/test_train.py');
    expect(within(result).getByRole('table', { name: 'Metrics' }).textContent).toContain('0.25');

    server.routes['GET api/datasets'] = {
      body: { datasets: [{ name: 'iris', versions: 2, latest: {} }] }
    };
    fireEvent.click(within(result).getByRole('button', { name: 'Train' }));
    await flush();
    const form = screen.getByRole('form', { name: 'Train' });
    const datasets = within(form).getByLabelText('Datasets') as HTMLInputElement;
    expect(datasets.list?.querySelector('option')?.getAttribute('value')).toBe('iris');
    expect((within(form).getByLabelText('lr') as HTMLInputElement).type).toBe('number');
    expect((within(form).getByLabelText('lr') as HTMLInputElement).placeholder).toBe('0.1 (default)');
    expect((within(form).getByLabelText('optimizer') as HTMLInputElement).placeholder).toBe(
      'default (str)'
    );
    expect((within(form).getByLabelText('verbose') as HTMLInputElement).type).toBe('checkbox');
    expect((within(form).getByLabelText('optimizer') as HTMLInputElement).type).toBe('text');
    const executor = within(form).getByRole('combobox', { name: 'Executor' }) as HTMLSelectElement;
    expect(executor.value).toBe('local');
    fireEvent.change(within(form).getByLabelText('lr'), { target: { value: '0.5' } });
    fireEvent.click(within(form).getByLabelText('verbose'));
    fireEvent.change(within(form).getByLabelText('optimizer'), { target: { value: 'adam' } });
    fireEvent.change(datasets, { target: { value: 'iris@2, digits' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Start run' }));
    await flush();
    expect(server.callsTo('POST api/runs')[0].body).toEqual({
      project: RESULT.project,
      entry_point: 'nb.train:main',
      params: { lr: 0.5, verbose: true, optimizer: 'adam' },
      executor: 'local',
      datasets: ['iris@2', 'digits']
    });
    expect(started).toEqual(['run42']);
  });

  it('shows a failed extraction as an alert with its lesson', async () => {
    render(<NotebookSection model={model} connection={connection} defaultExecutor="auto" />);
    model.setNotebook(nb);
    await flush();
    fireEvent.click(screen.getByRole('button', { name: 'Productionise' }));
    await flush();
    server.routes['GET api/extractions/job1'] = {
      body: job({
        state: 'failed',
        error: {
          kind: 'test_failed',
          message: 'tests/test_train.py::test_fit failed',
          cell: null,
          lesson: 'The step is not deterministic: set a seed.',
          output: null
        }
      })
    };
    fireEvent.click(screen.getByRole('button', { name: 'Extract' }));
    await flush(500);
    expect(screen.getByRole('alert').textContent).toContain('tests/test_train.py::test_fit failed');
    expect(screen.getByText('The step is not deterministic: set a seed.')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

describe('MlopsPanelView', () => {
  it('has the MLOps region with the Daemon, Notebook, Runs and Models sections', () => {
    const model = new NotebookModel({ connection, pollIntervalMs: 500 });
    render(
      <MlopsPanelView
        connection={connection}
        notebook={model}
        runs={{} as RunsModel}
        models={{} as ModelsModel}
        defaultExecutor="auto"
        onOpenNotebook={() => undefined}
      />
    );
    const region = screen.getByRole('region', { name: 'MLOps' });
    const names = ['Daemon', 'Notebook', 'Runs', 'Models'];
    for (const name of names) {
      expect(within(region).getByRole('region', { name })).toBeTruthy();
    }
    // In this order: Models comes after Runs.
    const sections = within(region).getAllByRole('region').map(r => r.getAttribute('aria-label'));
    expect(sections).toEqual(names);
    expect(within(region).getByText('runs section')).toBeTruthy();
    expect(within(region).getByText('models section')).toBeTruthy();
    model.dispose();
  });
});
