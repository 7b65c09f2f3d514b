import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as client from '../../api/client';
import { MlopsApiError } from '../../api/request';
import type { RunPage } from '../../api/types';
import { RunsModel } from '../runs';
import { deferred, flush, makePage, makeSummary } from './runsFixtures';

vi.mock('../../api/client');

const listRuns = vi.mocked(client.listRuns);

function lastQuery(): client.RunQuery {
  const calls = listRuns.mock.calls;
  return calls[calls.length - 1][0];
}

describe('RunsModel list', () => {
  let model: RunsModel;

  beforeEach(() => {
    listRuns.mockReset();
    listRuns.mockResolvedValue(makePage([makeSummary()], 60));
    model = new RunsModel({ perPage: 25, pollIntervalMs: 1000 });
  });

  afterEach(() => {
    model.dispose();
    vi.useRealTimers();
  });

  it('asks the server for the first page, newest first, with no status filter', async () => {
    await model.refresh();
    expect(listRuns).toHaveBeenCalledTimes(1);
    expect(lastQuery()).toEqual({ page: 1, per_page: 25, sort: 'created_at', order: 'desc' });
    expect(model.runs).toHaveLength(1);
    expect(model.total).toBe(60);
    expect(model.pageCount).toBe(3);
  });

  it('sends sort, order, status filter and page to the server', async () => {
    await model.refresh();
    model.setSort('metrics.loss');
    await flush();
    expect(lastQuery()).toMatchObject({ sort: 'metrics.loss', order: 'desc', page: 1 });
    model.setSort('metrics.loss');
    await flush();
    expect(lastQuery()).toMatchObject({ sort: 'metrics.loss', order: 'asc' });
    model.setSort('params.lr');
    await flush();
    expect(lastQuery()).toMatchObject({ sort: 'params.lr', order: 'asc' });
    model.setStatusFilterValue('active');
    await flush();
    expect(lastQuery()).toMatchObject({ status: 'queued,preparing,running', page: 1 });
    model.setStatusFilterValue('failed');
    await flush();
    expect(lastQuery().status).toBe('failed');
    model.nextPage();
    await flush();
    expect(lastQuery()).toMatchObject({ page: 2, per_page: 25, status: 'failed' });
    model.setSort('duration');
    await flush();
    expect(lastQuery()).toMatchObject({ sort: 'duration', order: 'desc', page: 1 });
    model.setStatusFilterValue('');
    await flush();
    expect(lastQuery()).not.toHaveProperty('status');
  });

  it('does not page past the last page or before the first', async () => {
    listRuns.mockResolvedValue(makePage([makeSummary()], 30));
    await model.refresh();
    model.previousPage();
    model.nextPage();
    await flush();
    model.nextPage();
    await flush();
    expect(listRuns.mock.calls.map(c => c[0].page)).toEqual([1, 2]);
  });

  it('passes the project when configured', async () => {
    model.configure({ project: '/home/me/proj' });
    await flush();
    expect(lastQuery().project).toBe('/home/me/proj');
  });

  it('keeps the newest answer when an older one arrives last', async () => {
    const first = deferred<RunPage>();
    const second = deferred<RunPage>();
    listRuns.mockReturnValueOnce(first.promise).mockReturnValueOnce(second.promise);
    const older = model.refresh();
    model.setSort('status');
    second.resolve(makePage([makeSummary({ id: 'newer-run' })], 1));
    await flush();
    first.resolve(makePage([makeSummary({ id: 'older-run' })], 9));
    await older;
    await flush();
    expect(model.runs.map(r => r.id)).toEqual(['newer-run']);
    expect(model.total).toBe(1);
  });

  it('ignores a stale error too', async () => {
    const first = deferred<RunPage>();
    listRuns.mockReturnValueOnce(first.promise);
    const older = model.refresh();
    await model.refresh();
    first.reject(new MlopsApiError(503, 'daemon_unavailable', 'down'));
    await older;
    expect(model.error).toBeNull();
    expect(model.runs).toHaveLength(1);
  });

  it('keeps the daemon message of a failed call as the error', async () => {
    listRuns.mockRejectedValueOnce(
      new MlopsApiError(400, 'bad_request', "sort: unknown key 'bogus'")
    );
    await model.refresh();
    expect(model.error).toBe("sort: unknown key 'bogus'");
    await model.refresh();
    expect(model.error).toBeNull();
  });

  it('polls only while visible and a run on the page is active', async () => {
    vi.useFakeTimers();
    listRuns.mockResolvedValue(makePage([makeSummary({ status: 'running', duration_s: null })]));
    await model.refresh();
    await vi.advanceTimersByTimeAsync(5000);
    expect(listRuns).toHaveBeenCalledTimes(1); // not visible: no polling

    model.setActive(true);
    await flush();
    expect(listRuns).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(listRuns).toHaveBeenCalledTimes(3);

    model.setActive(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect(listRuns).toHaveBeenCalledTimes(3);

    listRuns.mockResolvedValue(makePage([makeSummary({ status: 'succeeded' })]));
    model.setActive(true);
    await flush();
    expect(listRuns).toHaveBeenCalledTimes(4);
    await vi.advanceTimersByTimeAsync(5000);
    expect(listRuns).toHaveBeenCalledTimes(4); // nothing active: polling stopped
  });

  it('keeps the selection across pages and offers metric and param sort keys', async () => {
    await model.refresh();
    model.toggleSelected('a');
    model.toggleSelected('b');
    model.toggleSelected('c');
    model.toggleSelected('b');
    model.nextPage();
    await flush();
    expect(model.selection).toEqual(['a', 'c']);
    expect(model.sortKeys).toContain('metrics.loss');
    expect(model.sortKeys).toContain('params.lr');
    model.clearSelection();
    expect(model.selection).toEqual([]);
  });
});
