import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectionModel } from '../model/connection';
import { absolutePath, NotebookModel } from '../model/notebook';
import { installFakeServer, status, type FakeServer } from './fakeServer';
import { FakeNotebook, job, PLAN, REPORT, RESULT, runDetail } from './fixtures';

describe('NotebookModel', () => {
  let connection: ConnectionModel;
  let model: NotebookModel;
  let server: FakeServer;

  beforeEach(async () => {
    vi.useFakeTimers();
    server = installFakeServer({
      'GET status': { body: status() },
      'POST api/lint': { body: REPORT },
      'POST api/extractions/plan': { body: PLAN },
      'POST api/extractions': { status: 202, body: job({ state: 'queued', progress: null }) },
      'POST api/runs': { status: 201, body: runDetail('run42') }
    });
    connection = new ConnectionModel({ autostart: false, pollIntervalMs: 1000 });
    await connection.refresh();
    model = new NotebookModel({ connection, pollIntervalMs: 500 });
  });

  afterEach(() => {
    model.dispose();
    connection.dispose();
    vi.useRealTimers();
  });

  it('lints the notebook it follows, by absolute path, and again after each save', async () => {
    const nb = new FakeNotebook('nb/train.ipynb');
    model.setNotebook(nb);
    await vi.advanceTimersByTimeAsync(0);
    expect(model.report).toEqual(REPORT);
    expect(server.callsTo('POST api/lint')[0].body).toEqual({
      notebook: '/home/me/work/nb/train.ipynb',
      project: null
    });
    await nb.save();
    await vi.advanceTimersByTimeAsync(0);
    expect(server.callsTo('POST api/lint')).toHaveLength(2);
  });

  it('shows a lint error inline', async () => {
    server.routes['POST api/lint'] = {
      status: 400,
      body: { error: 'invalid_notebook', message: 'nb/train.ipynb: not valid JSON' }
    };
    model.setNotebook(new FakeNotebook('nb/train.ipynb'));
    await vi.advanceTimersByTimeAsync(0);
    expect(model.report).toBeNull();
    expect(model.lintError).toBe('nb/train.ipynb: not valid JSON');
  });

  it('goes plan -> preview -> extracting -> extracted -> train -> runStarted', async () => {
    const nb = new FakeNotebook('nb/train.ipynb', true);
    nb.selected = [
      { index: 1, code: true },
      { index: 2, code: false },
      { index: 3, code: true }
    ];
    model.setNotebook(nb);
    const kinds: string[] = [];
    model.changed.connect(() => {
      if (kinds[kinds.length - 1] !== model.flow.kind) {
        kinds.push(model.flow.kind);
      }
    });

    await model.productionise();
    expect(model.flow.kind).toBe('preview');
    expect(nb.saves).toBeGreaterThanOrEqual(1);
    expect(server.callsTo('POST api/extractions/plan')[0].body).toEqual({
      notebook: '/home/me/work/nb/train.ipynb',
      cells: [1, 3]
    });

    let polls = 0;
    server.routes['GET api/extractions/job1'] = () => {
      polls++;
      return polls === 1
        ? { body: job({ progress: { stage: 'test', done: 3, total: 4, message: 'pytest' } }) }
        : { body: job({ state: 'succeeded', result: RESULT }) };
    };
    await model.extract();
    expect(server.callsTo('POST api/extractions')[0].body).not.toHaveProperty('git_init');
    const flow = model.flow;
    expect(flow.kind).toBe('extracting');
    if (flow.kind === 'extracting') {
      expect(flow.job.state).toBe('queued');
    }
    await vi.advanceTimersByTimeAsync(500);
    const progressed = model.flow;
    expect(progressed.kind === 'extracting' && progressed.job.progress?.stage).toBe('test');
    await vi.advanceTimersByTimeAsync(500);
    expect(model.flow).toMatchObject({ kind: 'extracted', result: RESULT });
    expect(polls).toBe(2);

    const started: string[] = [];
    model.runStarted.connect((_, id) => started.push(id));
    await model.startTraining({ lr: 0.5 }, 'local');
    expect(server.callsTo('POST api/runs')[0].body).toEqual({
      project: '/home/me/work/nb',
      entry_point: 'nb.train:main',
      params: { lr: 0.5 },
      executor: 'local'
    });
    expect(started).toEqual(['run42']);
    expect(model.train).toEqual({ starting: false, error: null, runId: 'run42', cached: false });
    expect(kinds).toEqual(['planning', 'preview', 'extracting', 'extracted']);

    // The same inputs again: the daemon answers with the run that already succeeded.
    server.routes['POST api/runs'] = {
      status: 200,
      body: { ...runDetail('run42'), status: 'succeeded' }
    };
    await model.startTraining({ lr: 0.5 }, 'local');
    expect(model.train).toEqual({ starting: false, error: null, runId: 'run42', cached: true });
  });

  it('extracts the whole notebook when fewer than two cells are selected', async () => {
    model.setNotebook(new FakeNotebook('a.ipynb'));
    await model.productionise();
    expect(server.callsTo('POST api/extractions/plan')[0].body).toMatchObject({ cells: null });
  });

  it('a failed job shows its error with the lesson', async () => {
    model.setNotebook(new FakeNotebook('nb/train.ipynb'));
    await model.productionise();
    server.routes['GET api/extractions/job1'] = {
      body: job({
        state: 'failed',
        error: {
          kind: 'cell_failed',
          message: 'cell 3 raised NameError: name "x" is not defined',
          cell: 2,
          lesson: 'Define x in an earlier cell.',
          output: 'Traceback...'
        }
      })
    };
    await model.extract({ gitInit: true });
    expect(server.callsTo('POST api/extractions')[0].body).toMatchObject({ git_init: true });
    await vi.advanceTimersByTimeAsync(500);
    expect(model.flow).toMatchObject({
      kind: 'failed',
      error: {
        kind: 'cell_failed',
        message: 'cell 3 raised NameError: name "x" is not defined',
        cell: 2,
        lesson: 'Define x in an earlier cell.'
      }
    });
    model.cancel();
    expect(model.flow.kind).toBe('idle');
  });

  it('a rejected plan fails with the daemon message', async () => {
    server.routes['POST api/extractions/plan'] = {
      status: 409,
      body: { error: 'dirty_repo', message: 'the project has uncommitted changes' }
    };
    model.setNotebook(new FakeNotebook('nb/train.ipynb'));
    await model.productionise();
    expect(model.flow).toMatchObject({
      kind: 'failed',
      error: { message: 'the project has uncommitted changes' }
    });
  });

  it('keeps each notebook its own flow while switching tabs', async () => {
    const a = new FakeNotebook('a.ipynb');
    const b = new FakeNotebook('b.ipynb');
    model.setNotebook(a);
    await model.productionise();
    expect(model.flow.kind).toBe('preview');
    model.setNotebook(b);
    expect(model.flow.kind).toBe('idle');
    model.setNotebook(a);
    expect(model.flow.kind).toBe('preview');
  });

  it('reports a failed run start and emits no runStarted', async () => {
    server.routes['GET api/extractions/job1'] = {
      body: job({ state: 'succeeded', result: RESULT })
    };
    server.routes['POST api/runs'] = {
      status: 400,
      body: { error: 'invalid_input', message: 'params.lr: not a number' }
    };
    model.setNotebook(new FakeNotebook('nb/train.ipynb'));
    await model.productionise();
    await model.extract();
    await vi.advanceTimersByTimeAsync(500);
    const started: string[] = [];
    model.runStarted.connect((_, id) => started.push(id));
    await model.startTraining({}, 'auto');
    expect(started).toEqual([]);
    expect(model.train.error).toBe('params.lr: not a number');
  });

  it('joins the server root and the notebook path', () => {
    expect(absolutePath('/srv/root/', 'a/b.ipynb')).toBe('/srv/root/a/b.ipynb');
    expect(absolutePath('/srv/root', 'b.ipynb')).toBe('/srv/root/b.ipynb');
  });
});
