// The harness itself: JupyterLab loads in Debian's Chromium, and the jupyter-mlops
// front end and server extension are installed, enabled and loaded. These need no
// part of the panel beyond its plugin.
import { expect, test } from '@jupyterlab/galata';
import { spawnSync } from 'child_process';
import { PLUGIN_ID, snapshot } from './mlops';

interface FederatedExtension {
  name: string;
}

test('JupyterLab loads with the jupyter-mlops front end activated', async ({ page }, testInfo) => {
  await expect(page.locator('#jupyterlab-splash')).toHaveCount(0);
  const federated = await page.evaluate(() => {
    const data = document.getElementById('jupyter-config-data')?.textContent ?? '{}';
    return (JSON.parse(data).federated_extensions ?? []) as FederatedExtension[];
  });
  expect(federated.map(extension => extension.name)).toContain('jupyter-mlops');
  await expect
    .poll(() => page.evaluate(id => window.jupyterapp.isPluginActivated(id), PLUGIN_ID))
    .toBe(true);
  await snapshot(page, testInfo, 'jupyterlab');
});

/** What `jupyter ARGS` prints (stdout and stderr: the listings use either), uncoloured. */
function jupyter(...args: string[]): string {
  const done = spawnSync('jupyter', args, { encoding: 'utf-8', timeout: 120 * 1000 });
  expect(done.status, `jupyter ${args.join(' ')}: ${done.stderr}`).toBe(0);
  return `${done.stdout}${done.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
}

test('jupyter lists both halves of the extension enabled and OK', () => {
  expect(jupyter('labextension', 'list')).toMatch(/jupyter-mlops v\S+ enabled OK/);
  const server = jupyter('server', 'extension', 'list');
  expect(server).toMatch(/mlops_labextension enabled/);
  expect(server).toMatch(/mlops_labextension\s+\S*\s*OK/);
});
