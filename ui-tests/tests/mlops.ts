// Helpers of the jupyter-mlops UI tests: the panel's landmarks (the UI contract's
// accessible names), the daemon behind the test servers, the shared notebooks and
// screenshots kept with each test.
import { expect, galata, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { APIRequestContext, Locator, TestInfo } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** The front end's plugin (and settings) id, and its side panel's widget id. */
export const PLUGIN_ID = 'jupyter-mlops:plugin';
export const PANEL_ID = 'jp-mlops-panel';
/** Wider than JupyterLab's default side panel, for readable screenshots. */
const PANEL_WIDTH = 480;

/** The run's temporary folder (playwright.config.js): root/, home/, down-root/, down-home/. */
export const STATE = process.env.MLOPS_UI_STATE ?? '';
export const DOWN_URL = `http://127.0.0.1:${process.env.MLOPS_UI_DOWN_PORT ?? ''}`;

export type Section = 'Daemon' | 'Notebook' | 'Runs' | 'Models';

/** Galata's default user settings plus the panel's own `settings`. */
export function mlopsSettings(settings: Record<string, unknown>): Record<string, unknown> {
  return { ...galata.DEFAULT_SETTINGS, [PLUGIN_ID]: settings };
}

/** Opens the MLOps side panel and returns its region. */
export async function openPanel(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.sidebar.openTab(PANEL_ID);
  await page.sidebar.setWidth(PANEL_WIDTH);
  const panel = page.getByRole('region', { name: 'MLOps', exact: true });
  await expect(panel).toBeVisible();
  return panel;
}

export function section(panel: Locator, name: Section): Locator {
  return panel.getByRole('region', { name, exact: true });
}

export function daemonStatus(panel: Locator): Locator {
  return panel.getByRole('status', { name: 'Daemon status', exact: true });
}

/** Opens the notebook at `path` (from the server root) and waits until it is the active tab. */
export async function openNotebook(page: IJupyterLabPageFixture, path: string): Promise<void> {
  await page.evaluate(async filePath => {
    await window.jupyterapp.commands.execute('docmanager:open', { path: filePath });
  }, path);
  const name = path.split('/').pop() ?? path;
  await expect.poll(() => page.notebook.isActive(name)).toBe(true);
  await expect(page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell').first()).toBeVisible();
}

/**
 * A screenshot of the page saved in the test's output folder and attached to the
 * report; `focus` (in the panel, which scrolls) is scrolled into view first.
 */
export async function snapshot(
  page: IJupyterLabPageFixture,
  testInfo: TestInfo,
  name: string,
  focus?: Locator
): Promise<void> {
  if (focus) {
    await focus.scrollIntoViewIfNeeded();
  }
  const file = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path: file });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

/** `mlops ARGS` (python -m mlops_daemon) over one of the run's homes, e.g. 'down-home'. */
export function mlops(home: string, ...args: string[]): string {
  const python = process.env.MLOPS_UI_PYTHON ?? 'python';
  return execFileSync(python, ['-m', 'mlops_daemon', ...args], {
    env: { ...process.env, MLOPS_HOME: path.join(STATE, home), MLOPS_PORT: '0' },
    encoding: 'utf-8',
    timeout: 120 * 1000
  });
}

/** A JSON call to the daemon through the server extension (`<base>/mlops/api/<route>`). */
export async function daemonApi<T>(
  request: APIRequestContext,
  method: 'GET' | 'POST',
  route: string,
  body?: unknown
): Promise<T> {
  const response = await request.fetch(`mlops/api/${route}`, {
    method,
    data: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? undefined : { 'Content-Type': 'application/json' }
  });
  const text = await response.text();
  expect(response.ok(), `${method} mlops/api/${route}: ${response.status()} ${text}`).toBe(true);
  return JSON.parse(text) as T;
}

/** The server's status (`<base>/mlops/status`): its root_dir makes notebook paths absolute. */
export async function serverStatus(
  request: APIRequestContext
): Promise<{ state: string; root_dir: string; home: string }> {
  const response = await request.get('mlops/status');
  expect(response.ok(), `GET mlops/status: ${response.status()}`).toBe(true);
  return (await response.json()) as { state: string; root_dir: string; home: string };
}

/** The shared notebooks' folder (as workspace.py: MLOPS_SHARED_NOTEBOOKS overrides). */
export const SHARED_NOTEBOOKS = path.resolve(
  process.env.MLOPS_SHARED_NOTEBOOKS ?? path.join(__dirname, '..', '..', '..', 'shared', 'notebooks')
);

/** The shared notebooks' file names, sorted; empty when the folder is absent. */
export function sharedNotebooks(): string[] {
  if (!fs.existsSync(SHARED_NOTEBOOKS)) {
    return [];
  }
  return fs
    .readdirSync(SHARED_NOTEBOOKS)
    .filter(name => name.endsWith('.ipynb'))
    .sort();
}

/** An nbformat 4.5 notebook of code cells (ids cell-0, cell-1, ...), as JSON text. */
export function codeNotebook(sources: string[]): string {
  const cells = sources.map((source, index) => ({
    cell_type: 'code',
    id: `cell-${index}`,
    metadata: {},
    execution_count: null,
    outputs: [],
    source
  }));
  const metadata = {
    kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
    language_info: { name: 'python' }
  };
  return JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata, cells });
}
