// The Runs section on real runs: a selection of cells extracted and trained, then
// Re-run and Compare; an artifact downloaded from the run detail; a running run
// cancelled from the panel.
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import * as fs from 'fs';
import { codeNotebook, daemonApi, openNotebook, openPanel, section, serverStatus, snapshot } from './mlops';

const LONG = 5 * 60 * 1000;

interface Run {
  id: string;
  status: string;
  metrics: Record<string, number>;
}

/** Cells 3 and 4 need nothing from cells 1 and 2, so a selection of them stands alone. */
const CELLS = [
  'import math\nradius = 2.0',
  'area = math.pi * radius ** 2\nprint(f"area: {area:.3f}")',
  'side = 3.0\nsquare = side ** 2\nprint(f"square: {square}")',
  'perimeter = 4 * side\nprint(f"perimeter: {perimeter}")'
];

/** The Runs table's row of a run, found by its "Select run <id>" checkbox. */
function runRow(page: IJupyterLabPageFixture, panel: Locator, runId: string): Locator {
  const table = section(panel, 'Runs').getByRole('table', { name: 'Runs', exact: true });
  const checkbox = page.getByRole('checkbox', { name: new RegExp(`^Select run ${runId.slice(0, 8)}`) });
  return table.getByRole('row').filter({ has: checkbox });
}

async function openRun(page: IJupyterLabPageFixture, panel: Locator, runId: string): Promise<Locator> {
  const detail = page.getByRole('region', { name: 'Run detail', exact: true });
  if (await detail.isVisible()) {
    await detail.getByRole('button', { name: 'Back to runs', exact: true }).click();
  }
  const row = runRow(page, panel, runId);
  await expect(row).toBeVisible({ timeout: 60 * 1000 });
  await row.getByRole('cell').filter({ hasNot: page.getByRole('checkbox') }).first().click();
  await expect(detail).toContainText(runId.slice(0, 8));
  return detail;
}

async function latestRunId(request: Parameters<typeof daemonApi>[0]): Promise<string> {
  const page = await daemonApi<{ runs: Run[] }>(request, 'GET', 'runs?per_page=1');
  return page.runs[0]?.id ?? '';
}

test('selected cells become a module; its run is re-run and compared', async ({
  page,
  request,
  tmpPath
}, testInfo) => {
  test.setTimeout(3 * LONG);
  const name = 'selection.ipynb';
  await page.contents.uploadContent(codeNotebook(CELLS), 'text', `${tmpPath}/${name}`);
  await openNotebook(page, `${tmpPath}/${name}`);
  const panel = await openPanel(page);

  // Select cells 3 and 4 only, then Productionise.
  await page.notebook.selectCells(2, 3);
  await section(panel, 'Notebook').getByRole('button', { name: 'Productionise', exact: true }).click();
  const preview = page.getByRole('region', { name: 'Productionise preview', exact: true });
  await expect(preview).toBeVisible({ timeout: 60 * 1000 });
  const steps = preview.getByRole('list', { name: 'Steps', exact: true });
  await expect(steps).toContainText('cells 3');
  await expect(steps).toContainText('cells 4');
  await expect(steps).not.toContainText('cells 1');
  await expect(steps).not.toContainText('cells 2');
  const code = preview.getByLabel('Generated module', { exact: true });
  await expect(code).toContainText('square');
  await expect(code).not.toContainText('radius');
  await snapshot(page, testInfo, '1-selection-preview', preview);

  await preview.getByRole('button', { name: 'Extract', exact: true }).click();
  const result = page.getByRole('region', { name: 'Extraction result', exact: true });
  await expect(result).toContainText('version 1', { timeout: LONG });
  // A recorded dataset is offered by the Train form and pinned on the run.
  const { root_dir } = await serverStatus(request);
  await page.contents.uploadContent('x,y\n1,2\n', 'text', `${tmpPath}/points.csv`);
  await daemonApi(request, 'POST', 'datasets', { path: `${root_dir}/${tmpPath}/points.csv`, name: 'ui-points' });
  await result.getByRole('button', { name: 'Train', exact: true }).click();
  const form = page.getByRole('form', { name: 'Train', exact: true });
  const datasets = form.getByLabel('Datasets', { exact: true });
  await expect(form.locator('datalist option[value="ui-points"]')).toHaveCount(1);
  await datasets.fill('ui-points');
  const before = await latestRunId(request);
  await form.getByRole('button', { name: 'Start run' }).click();

  await expect.poll(() => latestRunId(request)).not.toBe(before);
  const first = await latestRunId(request);
  let detail = await openRun(page, panel, first);
  await expect(detail).toContainText('succeeded', { timeout: LONG });
  await expect(detail).toContainText(/ui-points@\d+/);
  await expect(detail).toContainText('isolation: process');
  const run = await daemonApi<Run>(request, 'GET', `runs/${first}`);
  expect(run.metrics).toMatchObject({ square: 9, perimeter: 12 });
  await expect(detail.getByRole('img', { name: 'Metric square', exact: true })).toBeVisible();
  await snapshot(page, testInfo, '2-first-run', detail);

  // Re-run: a new run of the same spec opens and succeeds.
  await detail.getByRole('button', { name: 'Re-run', exact: true }).click();
  await expect.poll(() => latestRunId(request)).not.toBe(first);
  const second = await latestRunId(request);
  await expect(detail).toContainText(second.slice(0, 8));
  await expect(detail).toContainText('succeeded', { timeout: LONG });

  // Compare the two: params diff and overlaid charts.
  await detail.getByRole('button', { name: 'Back to runs', exact: true }).click();
  for (const id of [first, second]) {
    await page.getByRole('checkbox', { name: new RegExp(`^Select run ${id.slice(0, 8)}`) }).check();
  }
  await section(panel, 'Runs').getByRole('button', { name: 'Compare', exact: true }).click();
  const compare = page.getByRole('region', { name: 'Compare runs', exact: true });
  await expect(compare).toBeVisible();
  await expect(compare.getByRole('table', { name: 'Params diff', exact: true })).toBeVisible();
  await expect(compare.getByRole('img', { name: 'Metric square compared', exact: true })).toBeVisible();
  await snapshot(page, testInfo, '3-compare', compare);
  detail = page.getByRole('region', { name: 'Run detail', exact: true });
  await expect(detail).toHaveCount(0);
});

test('an artifact downloads from the run detail; a running run is cancelled', async ({
  page,
  request,
  tmpPath
}, testInfo) => {
  test.setTimeout(3 * LONG);
  const { root_dir } = await serverStatus(request);
  const project = `${root_dir}/${tmpPath}`;
  const text = 'hello from the run\n';
  await page.contents.uploadContent(
    `from mlops_kernel import log_artifact\n\nwith open("report.txt", "w") as fh:\n    fh.write(${JSON.stringify(text)})\nlog_artifact("report.txt")\n`,
    'text',
    `${tmpPath}/artifact.py`
  );
  await page.contents.uploadContent(
    'import time\n\nprint("waiting to be cancelled", flush=True)\ntime.sleep(600)\n',
    'text',
    `${tmpPath}/slow.py`
  );
  const panel = await openPanel(page);

  const made = await daemonApi<Run>(request, 'POST', 'runs', { project, entry_point: 'artifact.py' });
  await section(panel, 'Runs').getByRole('button', { name: 'Refresh', exact: true }).click();
  const detail = await openRun(page, panel, made.id);
  await expect(detail).toContainText('succeeded', { timeout: LONG });
  const link = detail.getByRole('list', { name: 'Artifacts', exact: true }).getByRole('link', {
    name: /report\.txt/
  });
  await expect(link).toBeVisible({ timeout: 30 * 1000 });
  const download = page.waitForEvent('download');
  await link.click();
  const file = await (await download).path();
  expect(fs.readFileSync(file, 'utf-8')).toBe(text);
  await snapshot(page, testInfo, '1-artifact', detail);

  const slow = await daemonApi<Run>(request, 'POST', 'runs', { project, entry_point: 'slow.py' });
  await detail.getByRole('button', { name: 'Back to runs', exact: true }).click();
  await section(panel, 'Runs').getByRole('button', { name: 'Refresh', exact: true }).click();
  const running = await openRun(page, panel, slow.id);
  await expect(running.getByLabel('Log', { exact: true })).toContainText('waiting to be cancelled', {
    timeout: LONG
  });
  await running.getByRole('button', { name: 'Cancel run', exact: true }).click();
  await expect(running).toContainText('cancelled', { timeout: LONG });
  await expect(running.getByRole('button', { name: 'Cancel run', exact: true })).toHaveCount(0);
  expect((await daemonApi<Run>(request, 'GET', `runs/${slow.id}`)).status).toBe('cancelled');
  await snapshot(page, testInfo, '2-cancelled', running);
});
