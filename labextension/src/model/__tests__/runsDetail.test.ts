import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as client from '../../api/client';
import { MlopsApiError } from '../../api/request';
import type { MetricSeries, RunDetail, RunStatus } from '../../api/types';
import { RunsModel } from '../runs';
import { deferred, FakeLog, flush, makeDetail, makePage, makeSummary } from './runsFixtures';

vi.mock('../../api/client');

const api = vi.mocked(client);

describe('RunsModel run detail', () => {
  let model: RunsModel;
  let status: RunStatus;
  let log: FakeLog;
  let series: MetricSeries[];

  beforeEach(() => {
    vi.useFakeTimers();
    for (const fn of Object.values(api)) {
      if (typeof fn === 'function' && 'mockReset' in fn) {
        fn.mockReset();
      }
    }
    status = 'running';
    log = new FakeLog();
    series = [{ key: 'loss', steps: [0], values: [1], times: [0] }];
    api.listRuns.mockResolvedValue(makePage([makeSummary()]));
    api.getRun.mockImplementation(async id => makeDetail({ id, status, duration_s: null }));
    api.getMetrics.mockImplementation(async id => ({ run_id: id, series }));
    api.getLogs.mockImplementation(async (id, offset) => log.chunk(id, offset));
    api.listModules.mockResolvedValue({ modules: [] });
    model = new RunsModel({ perPage: 25, pollIntervalMs: 1000 });
    model.setActive(true);
  });

  afterEach(() => {
    model.dispose();
    vi.useRealTimers();
  });

  it('reads the log by offsets; stops polling once the run and its log ended', async () => {
    log.text = 'epoch 1\n';
    model.openRun('r1');
    await flush();
    expect(model.view).toBe('detail');
    const detail = model.detail!;
    expect(detail.log).toBe('epoch 1\n');
    expect(detail.series[0].values).toEqual([1]);

    log.text += 'epoch 2\n';
    series = [{ key: 'loss', steps: [0, 1], values: [1, 0.5], times: [0, 1] }];
    await vi.advanceTimersByTimeAsync(1000);
    expect(detail.log).toBe('epoch 1\nepoch 2\n');
    expect(detail.series[0].values).toEqual([1, 0.5]); // metrics re-read while active

    log.text += 'done\n';
    log.ended = true;
    status = 'succeeded';
    series = [{ key: 'loss', steps: [0, 1, 2], values: [1, 0.5, 0.2], times: [0, 1, 2] }];
    await vi.advanceTimersByTimeAsync(1000);
    expect(detail.log).toBe('epoch 1\nepoch 2\ndone\n');
    expect(detail.logComplete).toBe(true);
    expect(detail.active).toBe(false);
    expect(detail.live).toBe(false);
    expect(detail.series[0].values).toEqual([1, 0.5, 0.2]); // read once more as it ended

    // Every offset asked for is the previous answer's next_offset.
    const offsets = api.getLogs.mock.calls.map(c => c[1]);
    expect(offsets[0]).toBe(0);
    expect(new Set(offsets)).toEqual(new Set([0, 8, 16]));
    const calls = api.getRun.mock.calls.length + api.getLogs.mock.calls.length;
    await vi.advanceTimersByTimeAsync(10000);
    expect(api.getRun.mock.calls.length + api.getLogs.mock.calls.length).toBe(calls);
  });

  it('reads a finished run once: no polling, no metrics re-read', async () => {
    status = 'failed';
    log.text = 'Traceback\n';
    log.ended = true;
    model.openRun('r2');
    await flush();
    await vi.advanceTimersByTimeAsync(5000);
    expect(api.getRun).toHaveBeenCalledTimes(1);
    expect(api.getMetrics).toHaveBeenCalledTimes(1);
    expect(model.detail!.log).toBe('Traceback\n');
  });

  it('stops polling when the detail closes or the panel is hidden', async () => {
    model.openRun('r1');
    await flush();
    model.setActive(false);
    const before = api.getRun.mock.calls.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(api.getRun.mock.calls.length).toBe(before);
    model.setActive(true);
    await flush();
    expect(api.getRun.mock.calls.length).toBe(before + 1);

    model.backToRuns();
    expect(model.view).toBe('list');
    expect(model.detail).toBeNull();
    await flush();
    const after = api.getRun.mock.calls.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(api.getRun.mock.calls.length).toBe(after);
  });

  it('ignores the answers of a run that is no longer open', async () => {
    const slow = deferred<RunDetail>();
    api.getRun.mockReturnValueOnce(slow.promise);
    model.openRun('old');
    model.openRun('new');
    await flush();
    slow.resolve(makeDetail({ id: 'old', name: 'old run' }));
    await flush();
    expect(model.detail!.id).toBe('new');
    expect(model.detail!.run!.id).toBe('new');
  });

  it('re-run posts the same spec, forced past the cache, as a new run and opens it', async () => {
    status = 'succeeded';
    log.ended = true;
    model.openRun('r1');
    await flush();
    const spec = model.detail!.run!.spec;
    api.submitRun.mockResolvedValue(makeDetail({ id: 'r-new', status: 'queued' }));
    await model.rerun();
    expect(api.submitRun).toHaveBeenCalledTimes(1);
    expect(api.submitRun.mock.calls[0][0]).toEqual({ ...spec, force: true });
    expect(model.detail!.id).toBe('r-new');
  });

  it('shows a failed re-run with the daemon message on the open run', async () => {
    model.openRun('r1');
    await flush();
    api.submitRun.mockRejectedValue(new MlopsApiError(422, 'invalid', 'params.lr: not a number'));
    await model.rerun();
    expect(model.detail!.id).toBe('r1');
    expect(model.detail!.error).toBe('params.lr: not a number');
  });

  it('cancels the open run', async () => {
    model.openRun('r1');
    await flush();
    api.cancelRun.mockImplementation(async id => {
      status = 'cancelled';
      log.ended = true;
      return makeDetail({ id, status: 'running', cancel_requested: true });
    });
    await model.cancelOpenRun();
    expect(api.cancelRun).toHaveBeenCalledWith('r1');
    expect(model.detail!.run!.status).toBe('cancelled'); // re-read after the cancel
    expect(model.detail!.active).toBe(false);
  });

  it('keeps a 409 from cancel as an inline error', async () => {
    model.openRun('r1');
    await flush();
    api.cancelRun.mockRejectedValue(new MlopsApiError(409, 'conflict', 'run r1 has already ended'));
    const detail = model.detail!;
    const cancelled = model.cancelOpenRun();
    await flush();
    expect(detail.error).toBe('run r1 has already ended');
    await cancelled;
  });

  it('stops polling a run the daemon does not know', async () => {
    api.getRun.mockRejectedValue(new MlopsApiError(404, 'not_found', 'no run r9'));
    model.openRun('r9');
    await flush();
    expect(model.detail!.error).toBe('no run r9');
    await vi.advanceTimersByTimeAsync(5000);
    expect(api.getRun).toHaveBeenCalledTimes(1);
  });

  it('looks up the module version to link the notebook', async () => {
    api.getRun.mockImplementation(async id =>
      makeDetail({
        id,
        status: 'succeeded',
        module_version: { id: 'mv2', module: 'pkg.train', version: 2, git_sha: 'abcdef1234' }
      })
    );
    api.listModules.mockResolvedValue({
      modules: [
        {
          id: 'mv2',
          project: '/home/me/proj',
          module: 'pkg.train',
          module_path: 'pkg/train.py',
          version: 2,
          content_hash: 'sha256:00',
          git_sha: 'abcdef1234',
          notebook_path: 'analysis.ipynb',
          notebook_hash: 'h',
          cell_ids: ['c1', 'c2'],
          diff: '',
          created_at: '2024-05-01T09:00:00Z'
        }
      ]
    });
    model.openRun('r1');
    await flush();
    expect(api.listModules).toHaveBeenCalledWith({ project: '/home/me/proj' });
    expect(model.detail!.moduleVersion?.notebook_path).toBe('analysis.ipynb');
  });
});
