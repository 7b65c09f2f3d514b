/** Daemon answers and a fake notebook for the model and component tests. */
import { Signal } from '@lumino/signaling';
import type {
  ExtractionJob,
  ExtractionPlan,
  ExtractionResult,
  LintReport,
  RunDetail
} from '../api/types';
import type { NotebookHandle, SelectedCell } from '../model/notebookHandle';

export class FakeNotebook implements NotebookHandle {
  constructor(
    public path: string,
    public dirty = false
  ) {}
  readonly saved: Signal<NotebookHandle, void> = new Signal<NotebookHandle, void>(this);
  readonly disposed: Signal<NotebookHandle, void> = new Signal<NotebookHandle, void>(this);
  saves = 0;
  selected: SelectedCell[] = [{ index: 0, code: true }];
  selectedCellIndex: number | null = null;

  async save(): Promise<void> {
    this.saves++;
    this.dirty = false;
    this.saved.emit();
  }

  selection(): SelectedCell[] {
    return this.selected;
  }

  selectCell(index: number): void {
    this.selectedCellIndex = index;
  }
}

export const REPORT: LintReport = {
  notebook: '/home/me/work/nb/train.ipynb',
  findings: [
    {
      id: 'hidden-state',
      severity: 'warning',
      cell: 2,
      cell_id: 'c3',
      line: 1,
      message: 'x is used before the cell that defines it',
      lesson: 'Run cells top to bottom: a fresh kernel would fail here.'
    }
  ],
  readiness: {
    score: 70,
    checklist: [
      { id: 'runs-clean', label: 'Runs top to bottom', passed: true, detail: '' },
      { id: 'seeded', label: 'Random seeds are set', passed: false, detail: 'np.random' }
    ]
  },
  cells: []
};

export const PLAN: ExtractionPlan = {
  notebook: '/home/me/work/nb/train.ipynb',
  project: '/home/me/work/nb',
  package: 'nb',
  name: 'train',
  module_path: 'nb/train.py',
  test_path: 'tests/test_train.py',
  steps: [
    {
      name: 'load_data',
      cells: [0, 1],
      inputs: ['path'],
      outputs: ['df'],
      dropped: ['cell 1: df.head() (display)']
    },
    { name: 'fit', cells: [2], inputs: ['df', 'lr'], outputs: ['model', 'loss'], dropped: [] }
  ],
  inputs: ['path'],
  outputs: ['model', 'loss'],
  params: { lr: 'float', epochs: 'int', verbose: 'bool', optimizer: 'str' },
  param_defaults: { lr: 0.1, epochs: 10, verbose: false },
  module_source: 'import numpy as np\n\n\ndef main(lr: float = 0.1) -> None:\n    # fit\n    print("hi", 3)\n',
  findings: [],
  readiness: REPORT.readiness,
  cells: [],
  test_source: 'from nb import train\n\n\ndef test_fit():\n    assert train.fit(0.1) is not None\n'
};

export const RESULT: ExtractionResult = {
  module: 'nb.train',
  entry_point: 'nb.train:main',
  version: 3,
  version_id: 'v3',
  git_sha: '0123456789abcdef',
  metrics: { loss: 0.25, accuracy: 0.9 },
  tests_passed: 4,
  test_path: 'tests/test_train.py',
  module_path: 'nb/train.py',
  project: '/home/me/work/nb',
  notebook: '/home/me/work/nb/train.ipynb',
  notebook_hash: 'h1',
  content_hash: 'h2',
  changed: true,
  diff: '',
  cell_ids: ['c1', 'c2', 'c3'],
  findings: []
};

export function job(overrides: Partial<ExtractionJob> = {}): ExtractionJob {
  return {
    id: 'job1',
    state: 'running',
    notebook: PLAN.notebook,
    project: PLAN.project,
    request: {
      notebook: PLAN.notebook,
      cells: null,
      fixture_cap_mb: 20,
      git_init: false,
      metrics: [],
      name: null,
      package: null,
      params: {},
      project: null,
      seed: 0
    },
    progress: { stage: 'run', done: 1, total: 4, message: 'running cell 2' },
    result: null,
    error: null,
    created_at: '2024-01-01T00:00:00Z',
    started_at: '2024-01-01T00:00:01Z',
    ended_at: null,
    ...overrides
  };
}

export function runDetail(id: string): RunDetail {
  return { id } as RunDetail;
}
