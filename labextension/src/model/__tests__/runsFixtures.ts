/** Runs, details and a fake log for the Runs tests (the API client is mocked with vi.mock). */
import type { LogChunk, RunDetail, RunPage, RunSummary } from '../../api/types';

export function makeSummary(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    id: 'run00001aaaaaaaa',
    project: '/home/me/proj',
    entry_point: 'pkg.train:main',
    name: null,
    status: 'succeeded',
    status_reason: null,
    executor: 'local',
    isolation: 'process',
    params: { lr: 0.1 },
    metrics: { loss: 0.25 },
    created_at: '2024-05-01T10:00:00Z',
    started_at: '2024-05-01T10:00:01Z',
    ended_at: '2024-05-01T10:01:06Z',
    duration_s: 65,
    exit_code: 0,
    module_version: null,
    ...overrides
  };
}

export function makeDetail(overrides: Partial<RunDetail> = {}): RunDetail {
  const base = makeSummary(overrides);
  return {
    ...base,
    spec: {
      project: base.project,
      entry_point: base.entry_point,
      params: { ...base.params },
      env: {},
      executor: 'auto',
      force: false,
      network: false,
      name: null
    },
    tags: {},
    artifacts: [],
    run_dir: `/home/me/.mlops/runs/${base.id}`,
    cancel_requested: false,
    identity: null,
    environment: null,
    ...overrides
  };
}

export function makePage(runs: RunSummary[], total = runs.length, page = 1, perPage = 25): RunPage {
  return { runs, total, page, per_page: perPage };
}

/** A promise resolved from outside. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Let pending promise callbacks run (no timers involved). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await Promise.resolve();
  }
}

/**
 * A run's log that grows: `getLogs(id, offset)` answers the text from `offset` (in
 * characters, like bytes for ASCII), complete once `ended` and read to the end.
 */
export class FakeLog {
  text = '';
  ended = false;

  chunk(runId: string, offset: number): LogChunk {
    const text = this.text.slice(offset);
    const next = offset + text.length;
    return {
      run_id: runId,
      offset,
      next_offset: next,
      text,
      complete: this.ended && next >= this.text.length
    };
  }
}
