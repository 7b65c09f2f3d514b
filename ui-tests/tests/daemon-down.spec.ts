// The panel with no daemon, on the second server (its own root and MLOPS_HOME; see
// playwright.config.js): "Daemon not running", and "Start daemon" (or the autostart
// setting) brings it to "Connected". Each test stops that home's daemon, then loads
// JupyterLab again, so the front end starts on a stopped daemon.
import { expect, test } from '@jupyterlab/galata';
import { daemonStatus, DOWN_URL, mlops, mlopsSettings, openPanel, section, snapshot } from './mlops';

const HOME = 'down-home';

test.describe('with autostart off', () => {
  test.use({ baseURL: DOWN_URL, mockSettings: mlopsSettings({ autostart: false }) });

  test('"Start daemon" starts it', async ({ page }, testInfo) => {
    mlops(HOME, 'daemon', 'stop');
    await page.reload();
    const panel = await openPanel(page);
    const status = daemonStatus(panel);
    await expect(status).toContainText('Daemon not running');
    await snapshot(page, testInfo, 'daemon-down');

    await section(panel, 'Daemon').getByRole('button', { name: 'Start daemon', exact: true }).click();
    await expect(status).toContainText('Connected', { timeout: 90 * 1000 });
    expect(mlops(HOME, 'daemon', 'status')).toMatch(/running \(pid \d+\)/);
    await snapshot(page, testInfo, 'daemon-started');
  });
});

test.describe('with autostart on (the default)', () => {
  test.use({ baseURL: DOWN_URL, mockSettings: mlopsSettings({ autostart: true }) });

  test('opening the panel starts it', async ({ page }, testInfo) => {
    mlops(HOME, 'daemon', 'stop');
    await page.reload();
    const panel = await openPanel(page);
    await expect(daemonStatus(panel)).toContainText('Connected', { timeout: 90 * 1000 });
    expect(mlops(HOME, 'daemon', 'status')).toMatch(/running \(pid \d+\)/);
    await snapshot(page, testInfo, 'daemon-autostarted');
  });
});
