// The panel itself: its landmarks and a connected daemon, the dark theme, and a lint
// lesson that takes the user to its cell.
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { daemonStatus, openNotebook, openPanel, PANEL_ID, section, serverStatus, snapshot } from './mlops';

const RUN_COLUMNS = ['Status', 'Module', 'Params', 'Metrics', 'Started', 'Duration', 'Executor'];

test('the panel opens on a connected daemon', async ({ page, request }, testInfo) => {
  expect((await serverStatus(request)).state).toBe('ok');
  await expect(page.sidebar.getTabLocator(PANEL_ID)).toHaveAttribute('title', /MLOps/);
  const panel = await openPanel(page);
  for (const name of ['Daemon', 'Notebook', 'Runs'] as const) {
    await expect(section(panel, name)).toBeVisible();
  }
  await expect(daemonStatus(panel)).toContainText('Connected');
  const runs = section(panel, 'Runs');
  const table = runs.getByRole('table', { name: 'Runs', exact: true });
  await expect(table).toBeVisible();
  for (const name of RUN_COLUMNS) {
    await expect(table.getByRole('columnheader', { name, exact: true })).toBeVisible();
  }
  await expect(runs.getByRole('combobox', { name: 'Filter by status', exact: true })).toBeVisible();
  await expect(runs.getByRole('button', { name: 'Previous page', exact: true })).toBeVisible();
  await expect(runs.getByRole('button', { name: 'Next page', exact: true })).toBeVisible();
  await expect(runs).toContainText(/Page \d+ of \d+/);
  await expect(runs).toContainText(/\d+ runs?/);
  // Nothing is selected yet: comparing needs two runs or more.
  await expect(runs.getByRole('button', { name: 'Compare', exact: true })).toBeDisabled();
  await snapshot(page, testInfo, 'panel');
});

/** The panel's own background and its text colour, as the browser computes them. */
async function panelColours(page: IJupyterLabPageFixture): Promise<string[]> {
  return page.locator(`#${PANEL_ID}`).evaluate(element => {
    const region = element.querySelector('[aria-label="MLOps"]') ?? element;
    return [getComputedStyle(element).backgroundColor, getComputedStyle(region).color];
  });
}

test('the panel follows the dark theme', async ({ page }, testInfo) => {
  await openPanel(page);
  const light = await panelColours(page);
  expect(light[0], 'the panel has no background of its own').not.toBe('rgba(0, 0, 0, 0)');
  await snapshot(page, testInfo, 'light');

  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('apputils:change-theme', {
      theme: 'JupyterLab Dark'
    });
  });
  await expect(page.locator('body')).toHaveAttribute('data-jp-theme-name', 'JupyterLab Dark');
  await expect(page.locator('body')).toHaveAttribute('data-jp-theme-light', 'false');
  await expect(page.locator('#jupyterlab-splash')).toHaveCount(0);
  await expect.poll(async () => (await panelColours(page))[0]).not.toBe(light[0]);
  const dark = await panelColours(page);
  expect(dark[1], 'the panel text keeps its light-theme colour').not.toBe(light[1]);
  await snapshot(page, testInfo, 'dark');
});

/** Index of the cell with the finding: far enough down that it starts off screen. */
const FINDING_CELL = 32;

/** An nbformat 4.5 notebook: filler markdown, then a cell with a star import. */
function lintNotebook(): string {
  const cells: Record<string, unknown>[] = [
    { cell_type: 'markdown', id: 'title', metadata: {}, source: '# A lint lesson' },
    {
      cell_type: 'code',
      id: 'setup',
      metadata: {},
      execution_count: null,
      outputs: [],
      source: 'import math\nradius = 2.0'
    }
  ];
  for (let i = 0; i < FINDING_CELL - 2; i++) {
    const text = 'Some words about the analysis. '.repeat(30);
    cells.push({ cell_type: 'markdown', id: `note-${i}`, metadata: {}, source: `## Part ${i}\n\n${text}` });
  }
  cells.push({
    cell_type: 'code',
    id: 'star',
    metadata: {},
    execution_count: null,
    outputs: [],
    source: "from os.path import *\nname = join('a', 'b')\nprint(math.pi * radius, name)"
  });
  const metadata = {
    kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
    language_info: { name: 'python' }
  };
  return JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata, cells });
}

test('a lint lesson selects and shows its cell', async ({ page, tmpPath }, testInfo) => {
  const name = 'lint-lesson.ipynb';
  await page.contents.uploadContent(lintNotebook(), 'text', `${tmpPath}/${name}`);
  await openNotebook(page, `${tmpPath}/${name}`);
  const cell = page.locator(
    `.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell[data-windowed-list-index="${FINDING_CELL}"]`
  );
  await expect(cell).not.toBeInViewport();

  const panel = await openPanel(page);
  const lessons = section(panel, 'Notebook').getByRole('list', { name: 'Lint lessons', exact: true });
  const lesson = lessons.getByRole('button', { name: /^star-import/ });
  await expect(lesson).toBeVisible({ timeout: 30 * 1000 });
  await snapshot(page, testInfo, 'lessons');
  await lesson.click();
  await expect(cell).toHaveClass(/\bjp-mod-active\b/);
  await expect(cell).toBeInViewport();
  await snapshot(page, testInfo, 'cell-selected');
});
