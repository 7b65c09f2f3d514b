import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as client from '../../api/client';
import { RunsModel } from '../runs';
import { buildCompare, paramsDiff } from '../runsCompare';
import { flush, makeDetail, makePage, makeSummary } from './runsFixtures';

vi.mock('../../api/client');

const api = vi.mocked(client);

describe('paramsDiff', () => {
  it('lists every param once, sorted, and marks the ones that differ', () => {
    const rows = paramsDiff([
      { lr: 0.1, epochs: 10, model: 'mlp' },
      { lr: 0.01, epochs: 10, seed: 1, model: 'mlp' }
    ]);
    expect(rows.map(r => r.key)).toEqual(['epochs', 'lr', 'model', 'seed']);
    expect(rows.map(r => r.differs)).toEqual([false, true, false, true]);
    expect(rows[3].values).toEqual([undefined, 1]);
  });

  it('tells a number from the same digits as a string, and null from missing', () => {
    const rows = paramsDiff([{ a: 1, b: null }, { a: '1' }]);
    expect(rows.map(r => [r.key, r.differs])).toEqual([
      ['a', true],
      ['b', true]
    ]);
    expect(paramsDiff([{ b: null }, { b: null }])[0].differs).toBe(false);
  });
});

describe('buildCompare', () => {
  it('groups the series by metric key in run order', () => {
    const a = makeDetail({ id: 'a' });
    const b = makeDetail({ id: 'b' });
    const data = buildCompare(
      [a, b],
      [
        [{ key: 'loss', steps: [0], values: [1], times: [0] }],
        [
          { key: 'acc', steps: [0], values: [0.5], times: [0] },
          { key: 'loss', steps: [0], values: [2], times: [0] }
        ]
      ]
    );
    expect(data.metricKeys).toEqual(['acc', 'loss']);
    expect(data.metrics.loss.map(s => s.runId)).toEqual(['a', 'b']);
    expect(data.metrics.acc.map(s => s.runId)).toEqual(['b']);
  });
});

describe('RunsModel compare', () => {
  let model: RunsModel;

  beforeEach(() => {
    api.listRuns.mockReset();
    api.getRun.mockReset();
    api.getMetrics.mockReset();
    api.listRuns.mockResolvedValue(makePage([makeSummary()]));
    api.getRun.mockImplementation(async id =>
      makeDetail({ id, params: { lr: id === 'a' ? 0.1 : 0.2, epochs: 5 } })
    );
    api.getMetrics.mockImplementation(async id => ({
      run_id: id,
      series: [{ key: 'loss', steps: [0, 1], values: [1, 0.5], times: [0, 1] }]
    }));
    model = new RunsModel({ perPage: 25, pollIntervalMs: 1000 });
  });

  afterEach(() => model.dispose());

  it('needs two selected runs', async () => {
    model.toggleSelected('a');
    await model.openCompare();
    expect(model.view).toBe('list');
    expect(api.getRun).not.toHaveBeenCalled();
  });

  it('fetches the detail and metrics of each selected run', async () => {
    model.toggleSelected('a');
    model.toggleSelected('b');
    const loading = model.openCompare();
    expect(model.view).toBe('compare');
    expect(model.compareLoading).toBe(true);
    await loading;
    expect(api.getRun.mock.calls.map(c => c[0])).toEqual(['a', 'b']);
    expect(api.getMetrics.mock.calls.map(c => c[0])).toEqual(['a', 'b']);
    const data = model.compare!;
    expect(data.paramsDiff.find(r => r.key === 'lr')!.differs).toBe(true);
    expect(data.paramsDiff.find(r => r.key === 'epochs')!.differs).toBe(false);
    expect(data.metrics.loss).toHaveLength(2);
    model.backToRuns();
    await flush();
    expect(model.view).toBe('list');
    expect(model.compare).toBeNull();
  });
});
