// The whole click path on real notebooks: open a shared notebook, Productionise it,
// check the preview, Extract, Train, and follow the run to its metric charts.
//
// Parametrized over every shared notebook (../shared/notebooks beside the checkout):
// all 8 take about 5 minutes on 2 cores. MLOPS_UI_NOTEBOOKS=stem1,stem2 runs only those.
import { expect, test } from '@jupyterlab/galata';
import {
  daemonApi,
  daemonStatus,
  openNotebook,
  openPanel,
  section,
  serverStatus,
  sharedNotebooks,
  SHARED_NOTEBOOKS,
  snapshot
} from './mlops';

/** Extraction runs the notebook in a fresh kernel and its generated tests: minutes. */
const EXTRACTION_TIMEOUT = 8 * 60 * 1000;
const RUN_TIMEOUT = 8 * 60 * 1000;

function notebooksUnderTest(): string[] {
  const only = (process.env.MLOPS_UI_NOTEBOOKS ?? '')
    .split(',')
    .map(stem => stem.trim())
    .filter(stem => stem !== '');
  const all = sharedNotebooks();
  return only.length === 0 ? all : all.filter(name => only.includes(name.replace(/\.ipynb$/, '')));
}

interface Plan {
  module_path: string;
  inputs: string[];
  outputs: string[];
  params: Record<string, string>;
}

interface RunPage {
  runs: { id: string; status: string }[];
  total: number;
}

interface Run {
  id: string;
  status: string;
  metrics: Record<string, number>;
}

const notebooks = notebooksUnderTest();

test.describe('Productionise a shared notebook, then train it', () => {
  if (notebooks.length === 0) {
    test('shared notebooks', () => {
      test.skip(true, `no shared notebook selected in ${SHARED_NOTEBOOKS}`);
    });
  }

  for (const notebook of notebooks) {
    test(notebook, async ({ page, request }, testInfo) => {
      test.setTimeout(EXTRACTION_TIMEOUT + RUN_TIMEOUT + 3 * 60 * 1000);
      const { root_dir } = await serverStatus(request);
      const plan = await daemonApi<Plan>(request, 'POST', 'extractions/plan', {
        notebook: `${root_dir}/${notebook}`
      });

      // The notebook, active, with the panel following it.
      await openNotebook(page, notebook);
      const panel = await openPanel(page);
      await expect(daemonStatus(panel)).toContainText('Connected');
      const notebookSection = section(panel, 'Notebook');
      await expect(notebookSection.getByRole('heading', { name: notebook })).toBeVisible();
      await expect(notebookSection).toContainText(/Readiness \d+\/100/);
      await snapshot(page, testInfo, '1-notebook');

      // One cell selected: Productionise takes the whole notebook.
      await notebookSection.getByRole('button', { name: 'Productionise', exact: true }).click();
      const preview = page.getByRole('region', { name: 'Productionise preview', exact: true });
      await expect(preview).toBeVisible({ timeout: 60 * 1000 });
      const inputs = preview.getByRole('list', { name: 'Inputs', exact: true });
      const outputs = preview.getByRole('list', { name: 'Outputs', exact: true });
      await expect(inputs).toBeAttached();
      await expect(outputs).toBeAttached();
      for (const name of plan.inputs) {
        await expect(inputs).toContainText(name);
      }
      for (const name of plan.outputs) {
        await expect(outputs).toContainText(name);
      }
      await expect(preview).toContainText(plan.module_path);
      const code = preview.getByLabel('Generated module', { exact: true });
      await expect(code).toBeVisible();
      await expect(code).toContainText('def main(');
      await snapshot(page, testInfo, '2-preview', preview);

      await preview.getByRole('button', { name: 'Extract', exact: true }).click();
      const progress = page.getByRole('progressbar', { name: 'Extraction progress', exact: true });
      const result = page.getByRole('region', { name: 'Extraction result', exact: true });
      await expect(progress.or(result).first()).toBeVisible();
      await snapshot(page, testInfo, '3-extracting', progress.or(result).first());
      await expect(result).toBeVisible({ timeout: EXTRACTION_TIMEOUT });
      await expect(result).toContainText('version 1');
      await expect(result).toContainText(/\b[1-9]\d* tests? passed/);
      await snapshot(page, testInfo, '4-extraction-result', result);

      // Train: one labelled field per parameter, an executor, Start run.
      await result.getByRole('button', { name: 'Train', exact: true }).click();
      const form = page.getByRole('form', { name: 'Train', exact: true });
      await expect(form).toBeVisible();
      for (const name of Object.keys(plan.params)) {
        await expect(form.getByLabel(name, { exact: true })).toBeVisible();
      }
      await expect(form.getByLabel('Executor', { exact: true })).toBeVisible();
      await snapshot(page, testInfo, '5-train-form', form);
      const before = await daemonApi<RunPage>(request, 'GET', 'runs?per_page=1');
      await form.getByRole('button', { name: 'Start run', exact: true }).click();
      await expect
        .poll(async () => (await daemonApi<RunPage>(request, 'GET', 'runs?per_page=1')).total)
        .toBe(before.total + 1);
      const latest = await daemonApi<RunPage>(
        request,
        'GET',
        'runs?sort=created_at&order=desc&per_page=1'
      );
      const runId = latest.runs[0].id;

      // The run's row in the Runs table opens its detail.
      const table = section(panel, 'Runs').getByRole('table', { name: 'Runs', exact: true });
      const checkbox = page.getByRole('checkbox', {
        name: new RegExp(`^Select run ${runId.slice(0, 6)}`)
      });
      const row = table.getByRole('row').filter({ has: checkbox });
      const detail = page.getByRole('region', { name: 'Run detail', exact: true });
      // Starting a run may show its detail at once: then go back to the table.
      await expect(row.or(detail).first()).toBeVisible({ timeout: 60 * 1000 });
      if (await detail.isVisible()) {
        await expect(detail).toContainText(runId.slice(0, 6));
        await snapshot(page, testInfo, '6-run-started', detail);
        await detail.getByRole('button', { name: 'Back to runs', exact: true }).click();
      }
      await expect(row).toBeVisible({ timeout: 60 * 1000 });
      await snapshot(page, testInfo, '7-runs', row);
      await row.getByRole('cell').filter({ hasNot: page.getByRole('checkbox') }).first().click();
      await expect(detail).toBeVisible();
      await expect(detail).toContainText(runId.slice(0, 6));
      await expect(detail).toContainText('succeeded', { timeout: RUN_TIMEOUT });

      // One chart per metric the run recorded.
      const run = await daemonApi<Run>(request, 'GET', `runs/${runId}`);
      expect(run.status).toBe('succeeded');
      const keys = Object.keys(run.metrics);
      expect(keys.length, `the run of ${notebook} recorded no metric`).toBeGreaterThan(0);
      for (const key of keys) {
        await expect(detail.getByRole('img', { name: `Metric ${key}`, exact: true })).toBeAttached();
      }
      const chart = detail.getByRole('img', { name: /^Metric / }).first();
      await expect(chart).toBeVisible();
      await snapshot(page, testInfo, '8-run-detail', chart);
    });
  }
});
